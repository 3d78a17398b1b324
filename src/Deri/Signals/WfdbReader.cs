using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

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
        // Declared sizes first: a short header must not make the reader allocate what it declares (format 0 needs no file).
        long perFrame = header.Signals.Sum(s => (long)s.SamplesPerFrame);
        options.Limits.Check(headerPath, header.SignalCount, header.SampleCount, header.SamplingFrequency, perFrame);
        string dir = RecordFolder(headerPath);
        var decoded = new Decoded(header.SignalCount);
        var noData = new List<Group>();
        foreach (var group in FileGroups(header, headerPath))
        {
            // Format 0: signals with no stored samples; filled once the other files fix the length.
            if (header.Signals[group.Start].Format == 0) noData.Add(group);
            else ReadFileGroup(header, headerPath, dir, group, decoded, options.Limits, perFrame);
        }
        FillWithoutData(header, noData, decoded);
        var record = ToRecord(header, headerPath, decoded);
        Verify(record, headerPath, options);
        return record;
    }

    /// <summary>The samples decoded so far: one array per signal, checksums, the common length and the missing-sample count.</summary>
    private sealed class Decoded(int signals)
    {
        public int[][] Digital { get; } = new int[signals][];

        public int[] Computed { get; } = new int[signals];

        /// <summary>Samples per signal, fixed by the first signal file read (-1 before).</summary>
        public int Samples { get; set; } = -1;

        public int Missing { get; set; }
    }

    /// <summary>Reads the signals <c>group.Start..group.End</c>, which share one signal file, into <paramref name="decoded"/>.</summary>
    private static void ReadFileGroup(WfdbHeader header, string headerPath, string dir, Group group, Decoded decoded, RecordLimits limits, long perFrame)
    {
        var sigs = header.Signals;
        var first = sigs[group.Start];
        using var signalFile = OpenSignalFile(dir, first, group.End - group.Start, header.SampleCount, headerPath);
        string file = signalFile.Path;
        long frameSize = 0;
        int maxSkew = 0;
        for (int c = group.Start; c < group.End; c++)
        {
            frameSize += sigs[c].SamplesPerFrame;
            maxSkew = Math.Max(maxSkew, sigs[c].Skew);
        }
        if (frameSize > Array.MaxLength) throw new EcgFormatException(headerPath, $"{frameSize} samples per frame in {first.FileName} are too many");
        long framesInFile = WfdbFormats.SamplesIn(first.Format, signalFile.Length - first.ByteOffset) / frameSize;
        long want = header.SampleCount ?? framesInFile;
        if (framesInFile < want)
            throw new EcgFormatException(file,
                $"signal file is truncated: {signalFile.Length - first.ByteOffset} bytes after offset {first.ByteOffset} hold {framesInFile} frames of {group.End - group.Start} signal(s) in format {first.Format}, but the header declares {want} samples");
        if (want > Array.MaxLength) throw new EcgFormatException(file, $"{want} samples per signal are too many to hold in memory");
        // Without a declared sample count the file's length decides: check that count too before decoding.
        limits.Check(file, header.SignalCount, want, header.SamplingFrequency, perFrame);
        int n = (int)want;
        if (decoded.Samples >= 0 && n != decoded.Samples)
            throw new EcgFormatException(file, $"signal file holds {n} samples per signal but another file of the record holds {decoded.Samples}");
        decoded.Samples = n;
        int frames = (int)Math.Min(framesInFile, (long)n + maxSkew);

        if (first.Format == 16 && frameSize == group.End - group.Start && maxSkew == 0 && BitConverter.IsLittleEndian)
            decoded.Missing += ReadFormat16(signalFile.Handle, first.ByteOffset, group.Start, group.End, n, decoded.Digital, decoded.Computed, file);
        else
            decoded.Missing += ReadAnyFormat(signalFile.Handle, sigs, group, frames, (int)frameSize, n, decoded, file);
    }

    /// <summary>Decodes <paramref name="frames"/> frames of any supported format and distributes them to the group's signals.</summary>
    private static int ReadAnyFormat(SafeFileHandle handle, IReadOnlyList<WfdbSignalSpec> sigs, Group group, int frames, int frameSize, int n,
        Decoded decoded, string file)
    {
        var first = sigs[group.Start];
        long byteCount = WfdbFormats.BytesFor(first.Format, (long)frames * frameSize);
        if ((long)frames * frameSize > Array.MaxLength) throw new EcgFormatException(file, "signal file is too large to read at once");
        byte[] bytes = ArrayPool<byte>.Shared.Rent((int)byteCount);
        int[] raw = ArrayPool<int>.Shared.Rent(frames * frameSize);
        try
        {
            ReadExactly(handle, bytes.AsSpan(0, (int)byteCount), first.ByteOffset, file);
            WfdbFormats.Decode(first.Format, bytes.AsSpan(0, (int)byteCount), raw.AsSpan(0, frames * frameSize));
            return Distribute(sigs, group.Start, group.End, raw, frames, frameSize, n, decoded.Digital, decoded.Computed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<int>.Shared.Return(raw);
        }
    }

    /// <summary>Gives format-0 signals (no stored samples) the record's length, every sample missing.</summary>
    private static void FillWithoutData(WfdbHeader header, List<Group> noData, Decoded decoded)
    {
        if (decoded.Samples < 0) decoded.Samples = (int)Math.Min(header.SampleCount ?? 0, Array.MaxLength);
        int n = decoded.Samples;
        foreach (var group in noData)
            for (int c = group.Start; c < group.End; c++)
            {
                decoded.Digital[c] = new int[n];
                Array.Fill(decoded.Digital[c], int.MinValue);
                decoded.Missing += n;
            }
    }

    private static EcgRecord ToRecord(WfdbHeader header, string headerPath, Decoded decoded)
    {
        var sigs = header.Signals;
        return new EcgRecord
        {
            Id = header.Name,
            SamplingRate = header.SamplingFrequency,
            Leads = sigs.Select(s => s.Description).ToArray(),
            Digital = decoded.Digital,
            Gain = sigs.Select(s => s.Gain).ToArray(),
            Baseline = sigs.Select(s => s.Baseline).ToArray(),
            Units = sigs.Select(s => s.Units).ToArray(),
            Age = header.Age,
            Sex = header.Sex,
            Diagnoses = header.Diagnoses,
            Comments = header.Comments,
            SourcePath = headerPath,
            Header = header,
            DeclaredChecksums = sigs.Select(s => s.Checksum).ToArray(),
            ComputedChecksums = decoded.Computed,
            MissingSamples = decoded.Missing,
        };
    }

    /// <summary>Applies the checks that <paramref name="options"/> ask for: checksums and missing samples.</summary>
    private static void Verify(EcgRecord record, string headerPath, RecordReadOptions options)
    {
        if (options.VerifyChecksums)
        {
            var bad = record.ChecksumMismatches();
            if (bad.Count > 0)
                throw new EcgFormatException(headerPath, "checksum mismatch in signal(s) " + string.Join(", ",
                    bad.Select(c => $"{c} ({record.Leads[c]}: declared {record.DeclaredChecksums![c]! & 0xFFFF}, computed {record.ComputedChecksums![c]})")));
        }
        if (!options.AllowMissing && record.MissingSamples > 0)
            throw new EcgFormatException(headerPath, $"{record.MissingSamples} missing (invalid) samples");
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

        using var signalFile = OpenSignalFile(RecordFolder(headerPath), first, nsig, header.SampleCount, headerPath);
        var (handle, file, length) = (signalFile.Handle, signalFile.Path, signalFile.Length);
        long framesInFile = (length - first.ByteOffset) / 2 / nsig;
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

    private static string RecordFolder(string headerPath) => Path.GetDirectoryName(Path.GetFullPath(headerPath))!;

    /// <summary>An open signal file with its full path and length in bytes.</summary>
    private sealed class SignalFile(SafeFileHandle handle, string path, long length) : IDisposable
    {
        public SafeFileHandle Handle { get; } = handle;

        public string Path { get; } = path;

        public long Length { get; } = length;

        public void Dispose() => Handle.Dispose();
    }

    /// <summary>
    /// Opens the signal file of <paramref name="first"/> (and the signals after it in the same file) after the integrity checks:
    /// the file must lie inside the record's folder and be a non-empty regular file (checked before opening, so a FIFO
    /// or device never blocks the reader), hold at least its byte offset, and — for a WFDB <c>.mat</c> file — start with
    /// a MAT v4 matrix header that agrees with the WFDB header.
    /// </summary>
    private static SignalFile OpenSignalFile(string dir, WfdbSignalSpec first, int signals, long? samples, string headerPath)
    {
        string file = SignalFilePath(dir, first.FileName, headerPath);
        long length = RegularFile.Length(file, "signal file", $" (named in header {headerPath})");
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new EcgFormatException(file, $"cannot open signal file: {e.Message}", e);
        }
        try
        {
            // The length again from the open file, in case it changed since the check.
            length = RandomAccess.GetLength(handle);
            if (length == 0) throw new EcgFormatException(file, "signal file is empty");
            if (length < first.ByteOffset) throw new EcgFormatException(file, $"signal file has {length} bytes, fewer than its byte offset {first.ByteOffset}");
            if (file.EndsWith(".mat", StringComparison.OrdinalIgnoreCase))
                MatV4.CheckWfdbMatrix(handle, length, first, signals, samples, file);
            return new SignalFile(handle, file, length);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The full path of a signal file named in a header. It must resolve inside the record's folder (sub-folders are
    /// fine): a header must not make the reader open files elsewhere (<c>../../x.dat</c>, absolute paths).
    /// </summary>
    private static string SignalFilePath(string dir, string fileName, string headerPath)
    {
        if (fileName.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
            throw new EcgFormatException(headerPath, $"signal file name '{fileName.Replace("\0", "\\0")}' contains characters not allowed in a path");
        string full = Path.GetFullPath(Path.Combine(dir, fileName));
        string root = Path.EndsInDirectorySeparator(dir) ? dir : dir + Path.DirectorySeparatorChar;
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw new EcgFormatException(headerPath, $"signal file '{fileName}' resolves to {full}, outside the record's folder {dir}");
        return full;
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; a short file is an error naming <paramref name="what"/> was being read.</summary>
    internal static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string file, string? what = null)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int r = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (r <= 0)
                throw new EcgFormatException(file, what is null
                    ? $"signal file ended after {offset + done} bytes while reading {buffer.Length} bytes at offset {offset}"
                    : $"file ended after {offset + done} bytes while reading {what}");
            done += r;
        }
    }

    /// <summary>The common case (PTB-XL, MIMIC-IV-ECG, CinC): int16 samples interleaved, one per signal per frame.</summary>
    private static int ReadFormat16(SafeFileHandle handle, long offset, int start, int end, int n,
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
