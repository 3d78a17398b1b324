using System.Buffers;
using System.Runtime.InteropServices;

namespace Deri.Signals;

/// <summary>
/// Reads WFDB records: a header (<c>.hea</c>) and its signal files (<c>.dat</c>, <c>.mat</c> …), in any of
/// <see cref="WfdbHeader.SupportedFormats"/>, with several signal files per record, byte offsets (the WFDB
/// <c>.mat</c> convention: a MAT v4 matrix <c>val</c> of int16 whose 24-byte header is skipped with <c>+24</c>),
/// skew and multiple samples per frame (averaged to one sample per frame).
/// </summary>
public static class WfdbReader
{
    /// <summary>Reads the record whose header is <paramref name="headerPath"/>.</summary>
    /// <exception cref="EcgFormatException">The header or a signal file is missing, empty, truncated or malformed,
    /// or (as <paramref name="options"/> ask) a checksum does not match or samples are missing.</exception>
    public static EcgRecord Read(string headerPath, RecordReadOptions? options = null) =>
        Read(WfdbHeader.Read(headerPath), headerPath, options);

    /// <summary>Reads the signals of an already parsed header; signal files are looked up beside <paramref name="headerPath"/>.</summary>
    /// <exception cref="EcgFormatException">See <see cref="Read(string, RecordReadOptions?)"/>.</exception>
    public static EcgRecord Read(WfdbHeader header, string headerPath, RecordReadOptions? options = null)
    {
        options ??= RecordReadOptions.Default;
        if (header.SegmentCount is not null)
            throw new EcgFormatException(headerPath, $"multi-segment record ({header.SegmentCount} segments): read each segment's header instead");
        int nsig = header.SignalCount;
        var sigs = header.Signals;
        string dir = Path.GetDirectoryName(Path.GetFullPath(headerPath))!;
        var digital = new int[nsig][];
        var computed = new int[nsig];
        long? nsampDeclared = header.SampleCount;
        int nsamp = -1;
        int missing = 0;
        var noData = new List<Group>();

        foreach (var group in FileGroups(header, headerPath))
        {
            var first = sigs[group.Start];
            if (first.Format == 0)
            {
                // Format 0: signals with no stored samples; filled once the other files fix the length.
                noData.Add(group);
                continue;
            }
            string file = Path.Combine(dir, first.FileName);
            using var handle = OpenSignalFile(file, headerPath);
            long length = RandomAccess.GetLength(handle);
            if (length == 0) throw new EcgFormatException(file, "signal file is empty");
            if (length < first.ByteOffset) throw new EcgFormatException(file, $"signal file has {length} bytes, fewer than its byte offset {first.ByteOffset}");

            if (first.ByteOffset >= 20 && file.EndsWith(".mat", StringComparison.OrdinalIgnoreCase))
                CheckMatV4(handle, first.ByteOffset, group.End - group.Start, nsampDeclared, file);
            int frameSize = 0, maxSkew = 0;
            for (int c = group.Start; c < group.End; c++)
            {
                frameSize += sigs[c].SamplesPerFrame;
                maxSkew = Math.Max(maxSkew, sigs[c].Skew);
            }
            long framesInFile = WfdbFormats.SamplesIn(first.Format, length - first.ByteOffset) / frameSize;
            long want = nsampDeclared ?? framesInFile;
            if (framesInFile < want)
                throw new EcgFormatException(file,
                    $"signal file is truncated: {length - first.ByteOffset} bytes after offset {first.ByteOffset} hold {framesInFile} frames of {group.End - group.Start} signal(s) in format {first.Format}, but the header declares {want} samples");
            if (want > Array.MaxLength) throw new EcgFormatException(file, $"{want} samples per signal are too many to hold in memory");
            int n = (int)want;
            if (nsamp >= 0 && n != nsamp) throw new EcgFormatException(file, $"signal file holds {n} samples per signal but another file of the record holds {nsamp}");
            nsamp = n;
            int frames = (int)Math.Min(framesInFile, (long)n + maxSkew);

            if (first.Format == 16 && frameSize == group.End - group.Start && maxSkew == 0 && BitConverter.IsLittleEndian)
            {
                missing += ReadFormat16(handle, first.ByteOffset, group.Start, group.End, n, digital, computed, file);
                continue;
            }

            long byteCount = WfdbFormats.BytesFor(first.Format, (long)frames * frameSize);
            if ((long)frames * frameSize > Array.MaxLength) throw new EcgFormatException(file, "signal file is too large to read at once");
            byte[] bytes = ArrayPool<byte>.Shared.Rent((int)byteCount);
            int[] raw = ArrayPool<int>.Shared.Rent(frames * frameSize);
            try
            {
                ReadExactly(handle, bytes.AsSpan(0, (int)byteCount), first.ByteOffset, file);
                WfdbFormats.Decode(first.Format, bytes.AsSpan(0, (int)byteCount), raw.AsSpan(0, frames * frameSize));
                missing += Distribute(sigs, group.Start, group.End, raw, frames, frameSize, n, digital, computed);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(bytes);
                ArrayPool<int>.Shared.Return(raw);
            }
        }
        if (nsamp < 0) nsamp = (int)Math.Min(nsampDeclared ?? 0, Array.MaxLength);
        foreach (var group in noData)
            for (int c = group.Start; c < group.End; c++)
            {
                digital[c] = new int[nsamp];
                Array.Fill(digital[c], int.MinValue);
                missing += nsamp;
            }

        var declared = new int?[nsig];
        for (int c = 0; c < nsig; c++) declared[c] = sigs[c].Checksum;
        var record = new EcgRecord
        {
            Id = header.Name,
            SamplingRate = header.SamplingFrequency,
            Leads = sigs.Select(s => s.Description).ToArray(),
            Digital = digital,
            Gain = sigs.Select(s => s.Gain).ToArray(),
            Baseline = sigs.Select(s => s.Baseline).ToArray(),
            Units = sigs.Select(s => s.Units).ToArray(),
            Age = header.Age,
            Sex = header.Sex,
            Diagnoses = header.Diagnoses,
            Comments = header.Comments,
            SourcePath = headerPath,
            Header = header,
            DeclaredChecksums = declared,
            ComputedChecksums = computed,
            MissingSamples = missing,
        };
        if (options.VerifyChecksums)
        {
            var bad = record.ChecksumMismatches();
            if (bad.Count > 0)
                throw new EcgFormatException(headerPath, "checksum mismatch in signal(s) " + string.Join(", ",
                    bad.Select(c => $"{c} ({record.Leads[c]}: declared {declared[c]! & 0xFFFF}, computed {computed[c]})")));
        }
        if (!options.AllowMissing && missing > 0)
            throw new EcgFormatException(headerPath, $"{missing} missing (invalid) samples");
        return record;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with physical values of the chosen channels, channel-major
    /// (<c>[channels.Length × samples]</c>), straight from a format-16 file without intermediate arrays;
    /// missing samples become NaN. Returns false (and writes nothing) when the record is not a single-file
    /// format-16 record with one sample per frame and no skew. <paramref name="samples"/> receives the samples per channel.
    /// </summary>
    /// <exception cref="EcgFormatException">The signal file is missing, empty or truncated.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small or a channel is out of range.</exception>
    public static bool TryReadPhysicalFormat16(WfdbHeader header, string headerPath, ReadOnlySpan<int> channels, Span<float> destination, out int samples)
    {
        samples = 0;
        var sigs = header.Signals;
        if (header.SegmentCount is not null || sigs.Count == 0 || !BitConverter.IsLittleEndian) return false;
        var first = sigs[0];
        foreach (var s in sigs)
            if (s.Format != 16 || s.SamplesPerFrame != 1 || s.Skew != 0 || s.FileName != first.FileName || s.ByteOffset != first.ByteOffset) return false;
        int nsig = sigs.Count;
        foreach (int c in channels)
            if ((uint)c >= (uint)nsig) throw new ArgumentException($"channel {c} is out of range: the record has {nsig} channels", nameof(channels));

        string file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(headerPath))!, first.FileName);
        using var handle = OpenSignalFile(file, headerPath);
        long length = RandomAccess.GetLength(handle);
        if (length == 0) throw new EcgFormatException(file, "signal file is empty");
        long framesInFile = Math.Max(0, length - first.ByteOffset) / 2 / nsig;
        long want = header.SampleCount ?? framesInFile;
        if (framesInFile < want)
            throw new EcgFormatException(file, $"signal file is truncated: it holds {framesInFile} frames of {nsig} signal(s) in format 16, but the header declares {want} samples");
        int n = (int)want;
        if (destination.Length < (long)channels.Length * n)
            throw new ArgumentException($"destination holds {destination.Length} values, {channels.Length} channels × {n} samples are needed", nameof(destination));

        int byteCount = checked(n * nsig * 2);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            ReadExactly(handle, bytes.AsSpan(0, byteCount), first.ByteOffset, file);
            var src = MemoryMarshal.Cast<byte, short>(bytes.AsSpan(0, byteCount));
            for (int k = 0; k < channels.Length; k++)
            {
                int c = channels[k];
                double inv = 1.0 / sigs[c].Gain;
                int b = sigs[c].Baseline;
                var dst = destination.Slice(k * n, n);
                for (int t = 0, i = c; t < n; t++, i += nsig)
                {
                    int v = src[i];
                    dst[t] = v == short.MinValue ? float.NaN : (float)((v - b) * inv);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
        samples = n;
        return true;
    }

    private readonly record struct Group(int Start, int End);

    /// <summary>Consecutive signals stored in the same file; a file's signals must share format and byte offset.</summary>
    private static List<Group> FileGroups(WfdbHeader header, string headerPath)
    {
        var sigs = header.Signals;
        var groups = new List<Group>();
        var seen = new HashSet<string>();
        int start = 0;
        for (int c = 1; c <= sigs.Count; c++)
        {
            if (c < sigs.Count && sigs[c].FileName == sigs[start].FileName)
            {
                if (sigs[c].Format != sigs[start].Format)
                    throw new EcgFormatException(headerPath, $"signals {start} and {c} share file {sigs[c].FileName} but have formats {sigs[start].Format} and {sigs[c].Format}");
                if (sigs[c].ByteOffset != sigs[start].ByteOffset)
                    throw new EcgFormatException(headerPath, $"signals {start} and {c} share file {sigs[c].FileName} but have byte offsets {sigs[start].ByteOffset} and {sigs[c].ByteOffset}");
                continue;
            }
            if (!seen.Add(sigs[start].FileName) && sigs[start].Format != 0)
                throw new EcgFormatException(headerPath, $"the signals of file {sigs[start].FileName} are not consecutive in the header");
            groups.Add(new Group(start, c));
            start = c;
        }
        return groups;
    }

    private static Microsoft.Win32.SafeHandles.SafeFileHandle OpenSignalFile(string file, string headerPath)
    {
        try
        {
            return File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.None);
        }
        catch (FileNotFoundException e)
        {
            throw new EcgFormatException(file, $"signal file not found (named in header {headerPath})", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new EcgFormatException(file, $"signal file not found (named in header {headerPath})", e);
        }
        catch (IOException e)
        {
            throw new EcgFormatException(file, $"cannot open signal file: {e.Message}", e);
        }
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset, string file)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int r = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (r <= 0) throw new EcgFormatException(file, $"signal file ended after {offset + done} bytes while reading {buffer.Length} bytes at offset {offset}");
            done += r;
        }
    }

    /// <summary>
    /// WFDB signals in a <c>.mat</c> file (CinC challenges, <c>wfdb2mat</c>) are a MAT v4 matrix <c>val</c> of
    /// signals × samples, stored column-major, i.e. frame after frame, so the header's byte offset skips the
    /// 20-byte matrix header and the name. Checks that the matrix agrees with the WFDB header.
    /// </summary>
    private static void CheckMatV4(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, int signals, long? samples, string file)
    {
        Span<byte> h = stackalloc byte[20];
        if (RandomAccess.Read(handle, h, 0) < 20) return;
        var ints = MemoryMarshal.Cast<byte, int>(h);
        int type = ints[0], rows = ints[1], cols = ints[2], nameLength = ints[4];
        // Only a little-endian full numeric matrix whose header ends at the byte offset is a MAT v4 "val" matrix.
        if (type < 0 || type >= 1000 || type % 10 != 0 || 20L + nameLength != offset) return;
        if (rows != signals)
            throw new EcgFormatException(file, $"MAT v4 matrix has {rows} rows but the header stores {signals} signal(s) in this file");
        if (samples is long n && cols < n)
            throw new EcgFormatException(file, $"MAT v4 matrix has {cols} columns (samples) but the header declares {n} samples (truncated file)");
    }

    /// <summary>The common case (PTB-XL, MIMIC-IV-ECG, CinC): int16 samples interleaved, one per signal per frame.</summary>
    private static int ReadFormat16(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, int start, int end, int n,
        int[][] digital, int[] computed, string file)
    {
        int k = end - start;
        int byteCount = checked(n * k * 2);
        byte[] bytes = ArrayPool<byte>.Shared.Rent(byteCount);
        int missing = 0;
        try
        {
            ReadExactly(handle, bytes.AsSpan(0, byteCount), offset, file);
            var src = MemoryMarshal.Cast<byte, short>(bytes.AsSpan(0, byteCount));
            for (int j = 0; j < k; j++)
            {
                var d = new int[n];
                int sum = 0;
                for (int t = 0, i = j; t < n; t++, i += k)
                {
                    int v = src[i];
                    sum += v;
                    if (v == short.MinValue)
                    {
                        d[t] = int.MinValue;
                        missing++;
                    }
                    else d[t] = v;
                }
                digital[start + j] = d;
                computed[start + j] = sum & 0xFFFF;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
        return missing;
    }

    /// <summary>
    /// Splits a decoded frame stream (<c>raw[frames × frameSize]</c>) into the signals <c>start..end</c>: applies skew,
    /// integrates format 8's differences, averages several samples per frame, maps invalid values to
    /// <see cref="int.MinValue"/> and sums checksums. Returns the number of missing samples.
    /// </summary>
    private static int Distribute(IReadOnlyList<WfdbSignalSpec> sigs, int start, int end, int[] raw, int frames, int frameSize, int n,
        int[][] digital, int[] computed)
    {
        int missing = 0;
        int pos = 0;
        for (int c = start; c < end; c++)
        {
            var s = sigs[c];
            int spf = s.SamplesPerFrame;
            int? invalid = WfdbFormats.InvalidValue(s.Format);
            var d = new int[n];
            int sum = 0;
            int running = s.InitialValue;
            if (s.Format == 8)
            {
                // Differences accumulate over every stored sample of the signal, skewed frames included.
                for (int f = 0; f < frames; f++)
                    for (int j = 0; j < spf; j++)
                    {
                        int idx = f * frameSize + pos + j;
                        running += raw[idx];
                        raw[idx] = running;
                    }
            }
            for (int t = 0; t < n; t++)
            {
                int f = t + s.Skew;
                if (f >= frames)
                {
                    d[t] = int.MinValue;
                    missing++;
                    continue;
                }
                int baseIdx = f * frameSize + pos;
                bool bad = false;
                long acc = 0;
                for (int j = 0; j < spf; j++)
                {
                    int v = raw[baseIdx + j];
                    sum += v;
                    if (v == invalid) bad = true;
                    acc += v;
                }
                if (bad)
                {
                    d[t] = int.MinValue;
                    missing++;
                }
                else d[t] = spf == 1 ? (int)acc : (int)Math.Round((double)acc / spf, MidpointRounding.AwayFromZero);
            }
            digital[c] = d;
            computed[c] = sum & 0xFFFF;
            pos += spf;
        }
        return missing;
    }
}
