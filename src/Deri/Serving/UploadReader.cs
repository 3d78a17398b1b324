using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Deri.Signals;
using Deri.IO;

namespace Deri.Serving;

/// <summary>One uploaded file: the name the client gave (used only to tell files apart, never as a path) and its bytes.</summary>
/// <param name="Name">Client file name or archive entry name.</param>
/// <param name="Content">The bytes.</param>
public sealed record UploadedFile(string Name, byte[] Content);

/// <summary>Limits on what an upload may hold.</summary>
public sealed record UploadLimits
{
    /// <summary>Most bytes of all uploaded files together, and of all archive entries unpacked together (default 20 MB).</summary>
    public long MaxBytes { get; init; } = 20L * 1024 * 1024;

    /// <summary>Most files in one upload, archive entries included.</summary>
    public int MaxFiles { get; init; } = 64;

    /// <summary>Longest record accepted, in seconds.</summary>
    public double MaxSeconds { get; init; } = 120;

    /// <summary>Shortest record accepted, in seconds.</summary>
    public double MinSeconds { get; init; } = 1;

    /// <summary>Lowest sampling rate accepted (Hz).</summary>
    public double MinSamplingRate { get; init; } = 50;

    /// <summary>Highest sampling rate accepted (Hz).</summary>
    public double MaxSamplingRate { get; init; } = 10_000;

    /// <summary>Most signals (channels, CSV columns) a record may declare.</summary>
    public int MaxSignals { get; init; } = 64;

    /// <summary>Most samples of all signals together (16 M: 12 leads of 120 s at 10 kHz fit; 64 MB as 32-bit ints).</summary>
    public long MaxTotalSamples { get; init; } = 16_000_000;

    /// <summary>The limits the record readers check against declared sizes before they allocate (<see cref="RecordReadOptions.Limits"/>).</summary>
    public RecordLimits Record => new()
    {
        MaxSignals = MaxSignals,
        MaxTotalSamples = MaxTotalSamples,
        MaxSamplingRate = MaxSamplingRate,
        MaxSeconds = MaxSeconds,
        // A MAT v5 record holds doubles: 8 bytes per sample, plus the struct's other fields.
        MaxInflatedBytes = MaxTotalSamples * 8 + 1024 * 1024,
    };

    /// <summary>Longest detail echoed in a problem document (characters); longer ones are cut with a note.</summary>
    public int MaxDetailChars { get; init; } = 1024;
}

/// <summary>An upload the service refuses: an HTTP status (4xx), a short title and a detail naming the file and the problem.</summary>
/// <param name="status">HTTP status code.</param>
/// <param name="title">Short, fixed title (e.g. "unreadable record").</param>
/// <param name="detail">What is wrong, naming the file.</param>
public sealed class BadUploadException(int status, string title, string detail) : Exception(detail)
{
    /// <summary>HTTP status code (400, 413, 415 or 422).</summary>
    public int Status { get; } = status;

    /// <summary>Short title.</summary>
    public string Title { get; } = title;
}

/// <summary>A record read from an upload: physical values of the 12 leads in <see cref="LeadOrder.Model"/> order.</summary>
/// <param name="Id">Record name.</param>
/// <param name="Format">wfdb, cinc-mat, cpsc2018-mat, csv, dicom, aecg, muse-xml or edf.</param>
/// <param name="SamplingRate">Hz.</param>
/// <param name="Samples">Samples per lead.</param>
/// <param name="SourceLeads">The channel names as the file gives them.</param>
/// <param name="Physical">mV, channel-major <c>[12 × Samples]</c> in model lead order; NaN for missing samples.</param>
public sealed record UploadedRecord(string Id, string Format, double SamplingRate, int Samples, IReadOnlyList<string> SourceLeads, float[] Physical)
{
    /// <summary>Duration in seconds.</summary>
    public double DurationSeconds => Samples / SamplingRate;

    /// <summary>The recording device's own measurements from the file (<see cref="EcgRecord.DeviceMeasurements"/>); empty when none.</summary>
    public IReadOnlyDictionary<string, double> DeviceMeasurements { get; init; } = new Dictionary<string, double>();

    /// <summary>The recording device's statements from the file (<see cref="EcgRecord.DeviceStatements"/>); empty when none.</summary>
    public IReadOnlyList<string> DeviceStatements { get; init; } = [];
}

/// <summary>
/// Turns uploaded files into one record. Accepted: a WFDB header with its signal files (<c>.hea</c> + <c>.dat</c>), a CinC
/// <c>.mat</c> with its <c>.hea</c>, a CPSC2018 MAT v5 <c>.mat</c>, a <c>.zip</c> of any of these, or a CSV of samples
/// (a header row of lead names, one row per sample in mV) with the rate in a form field <c>rate</c>.
/// Archive entries are read into memory with a running byte count, so a zip bomb stops at the limit. Client file names
/// and entry names only match a header's signal-file names; the readers (which take paths) get a fresh private folder
/// holding the header under its record name and the signal files under the names the header gives, each checked to be a
/// plain file name.
/// </summary>
public static partial class UploadReader
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")]
    private static partial Regex PlainName();

    /// <summary>Reads the one record of an upload.</summary>
    /// <param name="files">The uploaded files.</param>
    /// <param name="rate">The <c>rate</c> form field (Hz), needed for CSV.</param>
    /// <param name="limits">Limits.</param>
    /// <exception cref="BadUploadException">The upload is empty, too large, of an unknown kind, or unreadable.</exception>
    public static UploadedRecord Read(IReadOnlyList<UploadedFile> files, string? rate, UploadLimits limits)
    {
        if (files.Count == 0) throw new BadUploadException(400, "no file", "the request has no file: send the record as multipart/form-data parts named 'file'");
        if (files.Count > limits.MaxFiles) throw new BadUploadException(400, "too many files", $"{files.Count} files; at most {limits.MaxFiles}");
        long total = files.Sum(f => (long)f.Content.Length);
        if (total > limits.MaxBytes) throw new BadUploadException(413, "upload too large", $"{total} bytes uploaded; the limit is {limits.MaxBytes}");
        var all = new List<UploadedFile>();
        foreach (var f in files)
        {
            if (Ext(f.Name) == ".zip") all.AddRange(Unzip(f, limits));
            else all.Add(f with { Name = BaseName(f.Name) });
        }
        var record = Dispatch(all, rate, limits);
        Check(record, limits);
        return record;
    }

    /// <summary>
    /// Reads the one record at <paramref name="path"/> on disk, as <see cref="Read"/> reads an upload: a WFDB header
    /// (<c>.hea</c>, its signal files found beside it), a CinC <c>.mat</c> with its <c>.hea</c> beside it, a CPSC2018
    /// <c>.mat</c>, or a CSV of samples in mV (<paramref name="rate"/> gives its rate).
    /// </summary>
    /// <exception cref="BadUploadException">The file is missing, unreadable, lacks leads or does not fit the limits; the message names it.</exception>
    public static UploadedRecord ReadPath(string path, string? rate, UploadLimits limits)
    {
        string ext = Ext(path);
        if (ext is ".csv" or ".txt")
        {
            byte[] bytes;
            try
            {
                long length = RegularFile.Length(path, "CSV file");
                if (length > limits.MaxBytes) throw new BadUploadException(413, "file too large", $"{path}: {length} bytes; the limit is {limits.MaxBytes}");
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or EcgFormatException)
            {
                throw new BadUploadException(422, "unreadable file", e.Message.Contains(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}");
            }
            var csv = ReadCsv(new UploadedFile(path, bytes), rate, limits);
            Check(csv, limits);
            return csv;
        }
        EcgRecord record;
        RecordReader.Kind kind;
        try
        {
            (kind, _) = RecordReader.Resolve(path);
            record = RecordReader.Read(path, new RecordReadOptions { Limits = limits.Record });
        }
        catch (Exception e) when (e is EcgFormatException or InputFormatException or IOException or UnauthorizedAccessException)
        {
            throw new BadUploadException(422, "unreadable record", e.Message.Contains(path, StringComparison.Ordinal) || e is EcgFormatException ? e.Message : $"{path}: {e.Message}");
        }
        string format = kind == RecordReader.Kind.Cpsc2018 ? "cpsc2018-mat"
            : record.Header?.Signals.Any(s => Ext(s.FileName) == ".mat") == true ? "cinc-mat" : "wfdb";
        var result = FromRecord(record, format, path);
        Check(result, limits);
        return result;
    }

    private static UploadedRecord Dispatch(List<UploadedFile> files, string? rate, UploadLimits limits)
    {
        var headers = files.Where(f => Ext(f.Name) == ".hea").ToList();
        var csv = files.Where(f => Ext(f.Name) is ".csv" or ".txt").ToList();
        var mats = files.Where(f => Ext(f.Name) == ".mat").ToList();
        if (headers.Count > 1) throw new BadUploadException(400, "more than one record", $"{headers.Count} headers ({string.Join(", ", headers.Select(h => h.Name))}); send one record per request");
        if (headers.Count == 1) return ReadWfdb(headers[0], files, limits);
        if (csv.Count == 1 && files.Count == 1) return ReadCsv(csv[0], rate, limits);
        if (mats.Count == 1 && files.Count == 1) return ReadCpsc(mats[0], limits);
        if (files.Count == 1 && IsClinical(files[0].Name)) return ReadClinical(files[0], limits);
        if (files.Any(f => Ext(f.Name) == ".dat"))
            throw new BadUploadException(400, "missing header", $"{string.Join(", ", files.Select(f => f.Name))}: a WFDB signal file needs its .hea header in the same upload");
        throw new BadUploadException(415, "unknown kind of upload",
            $"{string.Join(", ", files.Select(f => f.Name))}: send a WFDB .hea with its .dat, a CinC .mat with its .hea, a CPSC2018 .mat, one DICOM ECG (.dcm), aECG or MUSE XML (.xml) or EDF/BDF file, a .zip of these, or one CSV of samples with a 'rate' field");
    }

    private static UploadedRecord ReadWfdb(UploadedFile headerFile, List<UploadedFile> files, UploadLimits limits)
    {
        string text = Decode(headerFile);
        WfdbHeader header;
        try
        {
            header = WfdbHeader.Parse(text, headerFile.Name);
        }
        catch (EcgFormatException e)
        {
            throw new BadUploadException(422, "unreadable header", e.Message);
        }
        if (header.SegmentCount is not null) throw new BadUploadException(422, "unsupported record", $"{headerFile.Name}: multi-segment records are not accepted");
        if (!PlainName().IsMatch(header.Name)) throw new BadUploadException(422, "unreadable header", $"{headerFile.Name}: record name '{Shorten(header.Name)}' is not a plain file name");
        var options = new RecordReadOptions { Limits = limits.Record };
        try
        {
            // Declared sizes before a folder is made or a byte is written (the reader checks them again).
            options.Limits.Check(headerFile.Name, header.SignalCount, header.SampleCount, header.SamplingFrequency,
                header.Signals.Sum(sig => (long)sig.SamplesPerFrame));
        }
        catch (EcgFormatException e)
        {
            throw new BadUploadException(422, "record too large", e.Message);
        }
        var byName = new Dictionary<string, UploadedFile>(StringComparer.Ordinal);
        foreach (var f in files) byName.TryAdd(f.Name, f);
        string dir = UploadFolders.Create();
        try
        {
            File.WriteAllText(Path.Combine(dir, header.Name + ".hea"), text);
            foreach (string name in header.Signals.Select(s => s.FileName).Distinct())
            {
                if (!PlainName().IsMatch(name) || name.EndsWith(".hea", StringComparison.OrdinalIgnoreCase))
                    throw new BadUploadException(422, "unreadable header", $"{headerFile.Name}: signal file name '{Shorten(name)}' is not a plain file name");
                if (!byName.TryGetValue(name, out var data))
                    throw new BadUploadException(400, "missing signal file", $"{headerFile.Name} needs the signal file {name}, which is not in the upload ({string.Join(", ", files.Select(f => f.Name))})");
                File.WriteAllBytes(Path.Combine(dir, name), data.Content);
            }
            EcgRecord record;
            try
            {
                record = WfdbReader.Read(Path.Combine(dir, header.Name + ".hea"), options);
            }
            catch (Exception e) when (IsReaderRefusal(e))
            {
                throw new BadUploadException(422, "unreadable record", e.Message.Replace(dir + Path.DirectorySeparatorChar, "").Replace(dir, "."));
            }
            string format = header.Signals.Any(s => Ext(s.FileName) == ".mat") ? "cinc-mat" : "wfdb";
            return FromRecord(record, format, headerFile.Name);
        }
        finally
        {
            UploadFolders.Delete(dir);
        }
    }

    // What the readers throw for input they cannot use; anything else is a bug and stays a 500.
    private static bool IsReaderRefusal(Exception e) =>
        e is EcgFormatException or InputFormatException or InvalidDataException or OverflowException or ArgumentException or EndOfStreamException;

    private static UploadedRecord ReadCpsc(UploadedFile mat, UploadLimits limits)
    {
        if (mat.Content.Length < 10 || !MatV5.IsMatV5(mat.Content.AsSpan(0, 10)))
            throw new BadUploadException(422, "unreadable record", $"{mat.Name}: not a MAT v5 file (a CinC MAT v4 .mat needs its .hea in the same upload)");
        string dir = UploadFolders.Create();
        try
        {
            string path = Path.Combine(dir, "record.mat");
            File.WriteAllBytes(path, mat.Content);
            EcgRecord record;
            try
            {
                record = Cpsc2018.Read(path, new RecordReadOptions { Limits = limits.Record });
            }
            catch (Exception e) when (IsReaderRefusal(e))
            {
                throw new BadUploadException(422, "unreadable record", e.Message.Replace(path, mat.Name).Replace(dir, "."));
            }
            return FromRecord(record, "cpsc2018-mat", mat.Name) with { Id = Path.GetFileNameWithoutExtension(mat.Name) };
        }
        finally
        {
            UploadFolders.Delete(dir);
        }
    }

    private static UploadedRecord FromRecord(EcgRecord record, string format, string source)
    {
        int[] channels;
        try
        {
            channels = LeadOrder.Indices(record.Leads, source);
        }
        catch (EcgFormatException e)
        {
            throw new BadUploadException(422, "missing leads", e.Message);
        }
        int n = record.Samples;
        var physical = new float[12 * n];
        for (int k = 0; k < 12; k++)
        {
            int c = channels[k];
            var dst = physical.AsSpan(k * n, n);
            if (record.ExactPhysical is { } exact)
                for (int t = 0; t < n; t++) dst[t] = (float)exact[c][t];
            else
            {
                double gain = record.Gain[c];
                if (!(gain != 0) || !double.IsFinite(gain))
                    throw new BadUploadException(422, "unreadable record", $"{source}: lead {record.Leads[c]} has gain {gain}");
                int b = record.Baseline[c];
                var d = record.Digital[c];
                for (int t = 0; t < n; t++) dst[t] = d[t] == int.MinValue ? float.NaN : (float)((d[t] - b) / gain);
            }
        }
        return new UploadedRecord(record.Id, format, record.SamplingRate, n, record.Leads, physical)
        {
            DeviceMeasurements = record.DeviceMeasurements,
            DeviceStatements = record.DeviceStatements,
        };
    }

    private static UploadedRecord ReadCsv(UploadedFile file, string? rateText, UploadLimits limits)
    {
        if (string.IsNullOrWhiteSpace(rateText))
            throw new BadUploadException(400, "missing rate", $"{file.Name}: a CSV of samples needs the sampling rate in Hz as a form field 'rate'");
        if (!double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || !double.IsFinite(rate)
            || rate < limits.MinSamplingRate || rate > limits.MaxSamplingRate)
            throw new BadUploadException(400, "bad rate", $"rate '{Shorten(rateText)}' is not a sampling rate in Hz between {limits.MinSamplingRate} and {limits.MaxSamplingRate}");
        var lines = Decode(file).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        if (lines.Count < 2) throw new BadUploadException(422, "unreadable CSV", $"{file.Name}: expected a header row of lead names and rows of samples");
        // Columns and rows against the limits before the samples are allocated.
        int columns = lines[0].Count(ch => ch == ',') + 1;
        if (columns > limits.MaxSignals)
            throw new BadUploadException(422, "record too large", $"{file.Name}: the header row has {columns} columns; at most {limits.MaxSignals} are read");
        try
        {
            limits.Record.Check(file.Name, columns, lines.Count - 1, rate);
        }
        catch (EcgFormatException e)
        {
            throw new BadUploadException(422, "record too large", e.Message);
        }
        var leads = lines[0].Split(',').Select(s => s.Trim().Trim('"')).ToList();
        int[] channels;
        try
        {
            channels = LeadOrder.Indices(leads, file.Name);
        }
        catch (EcgFormatException e)
        {
            throw new BadUploadException(422, "missing leads", e.Message);
        }
        int n = lines.Count - 1;
        var physical = new float[12 * n];
        for (int t = 0; t < n; t++)
        {
            var cells = lines[t + 1].Split(',');
            if (cells.Length != leads.Count)
                throw new BadUploadException(422, "unreadable CSV", $"{file.Name}:{t + 2}: {cells.Length} fields, the header has {leads.Count}");
            for (int k = 0; k < 12; k++)
            {
                string cell = cells[channels[k]].Trim();
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new BadUploadException(422, "bad sample", $"{file.Name}:{t + 2}: lead {leads[channels[k]]} is '{Shorten(cell)}', not a finite number (mV)");
                physical[k * n + t] = (float)v;
            }
        }
        return new UploadedRecord(Path.GetFileNameWithoutExtension(file.Name), "csv", rate, n, leads, physical);
    }

    private static void Check(UploadedRecord r, UploadLimits limits)
    {
        if (r.Samples == 0) throw new BadUploadException(422, "empty record", $"{r.Id}: no samples");
        if (!(r.SamplingRate >= limits.MinSamplingRate && r.SamplingRate <= limits.MaxSamplingRate))
            throw new BadUploadException(422, "unsupported sampling rate", $"{r.Id}: {r.SamplingRate} Hz; accepted are {limits.MinSamplingRate}–{limits.MaxSamplingRate} Hz");
        if (r.DurationSeconds > limits.MaxSeconds || r.DurationSeconds < limits.MinSeconds)
            throw new BadUploadException(422, "unsupported duration", $"{r.Id}: {r.DurationSeconds:0.###} s; accepted are {limits.MinSeconds}–{limits.MaxSeconds} s");
        for (int k = 0; k < 12; k++)
        {
            var lead = r.Physical.AsSpan(k * r.Samples, r.Samples);
            int bad = 0;
            foreach (float v in lead) if (!float.IsFinite(v)) bad++;
            // Short gaps are repaired by the preprocessing (METHOD §1); a lead mostly missing has nothing to classify.
            if (bad > r.Samples / 10)
                throw new BadUploadException(422, "missing samples", $"{r.Id}: lead {LeadOrder.Model[k]} has {bad} of {r.Samples} samples missing or not finite");
        }
    }

    private static IEnumerable<UploadedFile> Unzip(UploadedFile zip, UploadLimits limits)
    {
        var entries = new List<UploadedFile>();
        long total = 0;
        try
        {
            using var archive = new ZipArchive(new MemoryStream(zip.Content, writable: false), ZipArchiveMode.Read);
            foreach (var e in archive.Entries)
            {
                if (e.FullName.EndsWith('/') || e.FullName.EndsWith('\\')) continue;   // folders
                string name = BaseName(e.FullName);
                if (name.StartsWith('.') || name.Length == 0) continue;               // __MACOSX/._x, dot files
                if (entries.Count >= limits.MaxFiles)
                    throw new BadUploadException(400, "too many files", $"{zip.Name}: more than {limits.MaxFiles} entries");
                if (e.Length > limits.MaxBytes - total)
                    throw new BadUploadException(413, "archive too large", $"{zip.Name}: entry {Shorten(name)} declares {e.Length} bytes; the archive unpacks to more than {limits.MaxBytes} bytes");
                // The declared size may lie: count the bytes actually inflated and stop at the limit.
                using var s = e.Open();
                var buffer = new MemoryStream();
                var chunk = new byte[81920];
                for (int read; (read = s.Read(chunk, 0, chunk.Length)) > 0;)
                {
                    total += read;
                    if (total > limits.MaxBytes)
                        throw new BadUploadException(413, "archive too large", $"{zip.Name}: unpacks to more than {limits.MaxBytes} bytes");
                    buffer.Write(chunk, 0, read);
                }
                entries.Add(new UploadedFile(name, buffer.ToArray()));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new BadUploadException(422, "unreadable archive", $"{zip.Name}: {e.Message}");
        }
        if (entries.Count == 0) throw new BadUploadException(422, "empty archive", $"{zip.Name}: no files in the archive");
        return entries;
    }

    // The last segment of a client-given name, for matching only (never a path on this machine).
    private static string BaseName(string name)
    {
        int cut = name.LastIndexOfAny(['/', '\\']);
        return cut >= 0 ? name[(cut + 1)..] : name;
    }

    private static string Ext(string name)
    {
        int dot = name.LastIndexOf('.');
        return dot < 0 ? "" : name[dot..].ToLowerInvariant();
    }

    private static string Decode(UploadedFile f)
    {
        if (f.Content.AsSpan().IndexOf((byte)0) >= 0) throw new BadUploadException(422, "not a text file", $"{f.Name}: binary content where text was expected");
        return Encoding.UTF8.GetString(f.Content);
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
