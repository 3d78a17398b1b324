using System.Globalization;

namespace Deri.Signals;

/// <summary>
/// One signal line of a WFDB header:
/// <c>FILE FORMAT[xSPF][:SKEW][+OFFSET] [GAIN[(BASELINE)][/UNITS] [ADCRES [ADCZERO [INITVAL [CHECKSUM [BLOCKSIZE [DESCRIPTION]]]]]]]</c>.
/// </summary>
/// <param name="FileName">Signal file name, relative to the header's folder.</param>
/// <param name="Format">Storage format (8, 16, 24, 32, 61, 80, 160, 212, 310, 311; 0 = no stored samples).</param>
/// <param name="SamplesPerFrame">Samples of this signal in each frame (1 unless <c>xN</c> is given).</param>
/// <param name="Skew">Frames by which this signal is delayed in the file (<c>:N</c>).</param>
/// <param name="ByteOffset">Bytes to skip at the start of the file before the first sample (<c>+N</c>).</param>
/// <param name="Gain">ADC units per physical unit; a stated gain of 0 means the WFDB default 200.</param>
/// <param name="Baseline">Digital value of physical zero (defaults to <paramref name="AdcZero"/>).</param>
/// <param name="Units">Physical units (default <c>mV</c>).</param>
/// <param name="AdcResolution">ADC resolution in bits (defaults by format when not stated or 0).</param>
/// <param name="AdcZero">Digital value of the ADC's mid-range input.</param>
/// <param name="InitialValue">First sample's value (needed by the difference format 8; defaults to <paramref name="AdcZero"/>).</param>
/// <param name="Checksum">16-bit sum of all stored samples as declared, or null when not stated.</param>
/// <param name="BlockSize">Block size in bytes (0 for ordinary files).</param>
/// <param name="Description">Signal description, usually the lead name.</param>
public sealed record WfdbSignalSpec(
    string FileName, int Format, int SamplesPerFrame, int Skew, long ByteOffset,
    double Gain, int Baseline, string Units, int AdcResolution, int AdcZero, int InitialValue,
    int? Checksum, int BlockSize, string Description);

/// <summary>One segment of a multi-segment record: the segment's record name and its length in samples.</summary>
/// <param name="Name">Segment record name (<c>~</c> for a gap).</param>
/// <param name="Samples">Samples per signal in the segment.</param>
public sealed record WfdbSegment(string Name, long Samples);

/// <summary>
/// A parsed WFDB header (<c>.hea</c>): the record line, the signal lines (or segment lines for a multi-segment
/// record) and the comment lines, with the comment conventions of the PhysioNet/CinC challenges
/// (<c>#Age:</c>, <c>#Sex:</c>, <c>#Dx:</c> with comma-separated SNOMED CT codes) and of the PTB database
/// (<c># age:</c>, <c># sex:</c>) lifted into typed fields.
/// </summary>
/// <param name="Name">Record name.</param>
/// <param name="SegmentCount">Number of segments for a multi-segment record (<c>name/N</c>), otherwise null.</param>
/// <param name="SignalCount">Number of signals.</param>
/// <param name="SamplingFrequency">Frames per second (default 250 when not stated).</param>
/// <param name="CounterFrequency">Counter frequency (<c>fs/CF</c>), when stated.</param>
/// <param name="BaseCounter">Base counter value (<c>fs/CF(BASE)</c>), 0 when not stated.</param>
/// <param name="SampleCount">Samples per signal, or null when not stated (then the file size decides).</param>
/// <param name="BaseTime">Time of day of the first sample, when stated.</param>
/// <param name="BaseDate">Date of the first sample, when stated.</param>
/// <param name="Signals">Signal lines (empty for a multi-segment record).</param>
/// <param name="Segments">Segment lines of a multi-segment record (empty otherwise).</param>
/// <param name="Comments">Comment lines without the leading <c>#</c>, trimmed.</param>
/// <param name="Age">Age in years from an <c>Age:</c> comment, when stated and numeric.</param>
/// <param name="Sex">Sex from a <c>Sex:</c> comment, when stated.</param>
/// <param name="Diagnoses">Codes from a <c>Dx:</c> comment.</param>
public sealed record WfdbHeader(
    string Name, int? SegmentCount, int SignalCount, double SamplingFrequency, double? CounterFrequency, double BaseCounter,
    long? SampleCount, TimeSpan? BaseTime, DateOnly? BaseDate,
    IReadOnlyList<WfdbSignalSpec> Signals, IReadOnlyList<WfdbSegment> Segments,
    IReadOnlyList<string> Comments, int? Age, string? Sex, IReadOnlyList<string> Diagnoses)
{
    /// <summary>Formats this reader decodes.</summary>
    public static IReadOnlyList<int> SupportedFormats { get; } = [0, 8, 16, 24, 32, 61, 80, 160, 212, 310, 311];

    /// <summary>Reads and parses a header file.</summary>
    /// <exception cref="EcgFormatException">The file is missing, not a regular file, empty or malformed.</exception>
    public static WfdbHeader Read(string path)
    {
        RegularFile.Length(path, "header file");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses header text; <paramref name="path"/> only names the source in error messages.</summary>
    /// <exception cref="EcgFormatException">The text is empty or malformed.</exception>
    public static WfdbHeader Parse(string text, string path)
    {
        var (recordFields, bodyLines, comments) = SplitLines(text);
        if (recordFields is null) throw new EcgFormatException(path, text.Length == 0 ? "header file is empty" : "header has no record line");
        var record = ParseRecordLine(recordFields, path);

        IReadOnlyList<WfdbSignalSpec> signals = [];
        IReadOnlyList<WfdbSegment> segments = [];
        if (record.SegmentCount is int nseg) segments = ParseSegments(bodyLines, nseg, path);
        else signals = ParseSignals(bodyLines, record.SignalCount, record.Name, path);

        var (age, sex, dx) = LiftComments(comments);
        return new WfdbHeader(record.Name, record.SegmentCount, record.SignalCount, record.SamplingFrequency, record.CounterFrequency,
            record.BaseCounter, record.SampleCount, record.BaseTime, record.BaseDate, signals, segments, comments, age, sex, dx);
    }

    /// <summary>The fields of the record line (the first non-comment line).</summary>
    private readonly record struct RecordLine(
        string Name, int? SegmentCount, int SignalCount, double SamplingFrequency, double? CounterFrequency, double BaseCounter,
        long? SampleCount, TimeSpan? BaseTime, DateOnly? BaseDate);

    /// <summary>
    /// Splits header text into the record line's fields, the fields of every further line, and the comments
    /// (whole-line <c>#</c> comments and those trailing a line's fields). Blank lines are skipped.
    /// </summary>
    private static (string[]? RecordFields, List<string[]> BodyLines, List<string> Comments) SplitLines(string text)
    {
        var comments = new List<string>();
        string[]? recordFields = null;
        var lines = new List<string[]>();
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.IsEmpty) continue;
            if (line[0] == '#')
            {
                comments.Add(line[1..].Trim().ToString());
                continue;
            }
            // A comment may also follow the fields on the same line.
            int hash = line.IndexOf('#');
            if (hash > 0)
            {
                comments.Add(line[(hash + 1)..].Trim().ToString());
                line = line[..hash].TrimEnd();
            }
            var fields = line.ToString().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (recordFields is null) recordFields = fields;
            else lines.Add(fields);
        }
        return (recordFields, lines, comments);
    }

    /// <summary>Parses <c>NAME[/SEGMENTS] NSIG [FS[/CF[(BASE)]] [NSAMP [BASETIME [BASEDATE]]]]</c>.</summary>
    private static RecordLine ParseRecordLine(string[] recordLine, string path)
    {
        if (recordLine.Length < 2) throw new EcgFormatException(path, $"record line '{string.Join(' ', recordLine)}' needs at least a name and a signal count");
        string name = recordLine[0];
        int? segmentCount = null;
        int slash = name.IndexOf('/');
        if (slash >= 0)
        {
            segmentCount = ParseInt(name[(slash + 1)..], "segment count", path);
            name = name[..slash];
        }
        int nsig = ParseInt(recordLine[1], "signal count", path);
        if (nsig < 0) throw new EcgFormatException(path, $"negative signal count {nsig}");
        var (fs, counterFreq, baseCounter) = recordLine.Length > 2 ? ParseFrequencies(recordLine[2], path) : (250, null, 0);
        long? nsamp = null;
        if (recordLine.Length > 3)
        {
            if (!long.TryParse(recordLine[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) || n < 0)
                throw new EcgFormatException(path, $"sample count '{recordLine[3]}' is not a non-negative integer");
            nsamp = n;
        }
        TimeSpan? baseTime = recordLine.Length > 4 ? ParseTime(recordLine[4], path) : null;
        DateOnly? baseDate = recordLine.Length > 5 ? ParseDate(recordLine[5], path) : null;
        return new RecordLine(name, segmentCount, nsig, fs, counterFreq, baseCounter, nsamp, baseTime, baseDate);
    }

    /// <summary>Parses the frequency field <c>FS[/CF[(BASE)]]</c>: sampling frequency, counter frequency and base counter value.</summary>
    private static (double Fs, double? CounterFrequency, double BaseCounter) ParseFrequencies(string field, string path)
    {
        string f = field;
        double? counterFreq = null;
        double baseCounter = 0;
        int cf = f.IndexOf('/');
        if (cf >= 0)
        {
            string rest = f[(cf + 1)..];
            f = f[..cf];
            int paren = rest.IndexOf('(');
            if (paren >= 0)
            {
                if (!rest.EndsWith(')')) throw new EcgFormatException(path, $"malformed counter frequency '{field}'");
                baseCounter = ParseDouble(rest[(paren + 1)..^1], "base counter value", path);
                rest = rest[..paren];
            }
            counterFreq = ParseDouble(rest, "counter frequency", path);
        }
        double fs = ParseDouble(f, "sampling frequency", path);
        if (!(fs > 0)) throw new EcgFormatException(path, $"sampling frequency must be positive, got '{field}'");
        return (fs, counterFreq, baseCounter);
    }

    /// <summary>Parses the segment lines (<c>NAME SAMPLES</c>) of a multi-segment record.</summary>
    private static List<WfdbSegment> ParseSegments(List<string[]> lines, int nseg, string path)
    {
        if (lines.Count != nseg) throw new EcgFormatException(path, $"record line declares {nseg} segments but {lines.Count} segment lines follow");
        var segments = new List<WfdbSegment>(lines.Count);
        foreach (var l in lines)
        {
            if (l.Length < 2 || !long.TryParse(l[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long len))
                throw new EcgFormatException(path, $"malformed segment line '{string.Join(' ', l)}'");
            segments.Add(new WfdbSegment(l[0], len));
        }
        return segments;
    }

    private static List<WfdbSignalSpec> ParseSignals(List<string[]> lines, int nsig, string record, string path)
    {
        if (lines.Count != nsig) throw new EcgFormatException(path, $"record line declares {nsig} signals but {lines.Count} signal lines follow");
        var signals = new List<WfdbSignalSpec>(lines.Count);
        for (int i = 0; i < lines.Count; i++) signals.Add(ParseSignal(lines[i], i, record, path));
        return signals;
    }

    /// <summary>Lifts the <c>Age:</c>, <c>Sex:</c> and <c>Dx:</c> comment conventions into typed values.</summary>
    private static (int? Age, string? Sex, List<string> Diagnoses) LiftComments(List<string> comments)
    {
        int? age = null;
        string? sex = null;
        var dx = new List<string>();
        foreach (string c in comments)
        {
            int colon = c.IndexOf(':');
            if (colon <= 0) continue;
            string key = c[..colon].Trim();
            string value = c[(colon + 1)..].Trim();
            if (key.Equals("age", StringComparison.OrdinalIgnoreCase))
            {
                if (double.TryParse(value.TrimEnd('+'), NumberStyles.Float, CultureInfo.InvariantCulture, out double a) && double.IsFinite(a) && a >= 0)
                    age = (int)Math.Round(a);
            }
            else if (key.Equals("sex", StringComparison.OrdinalIgnoreCase))
            {
                if (value.Length > 0 && !value.Equals("unknown", StringComparison.OrdinalIgnoreCase) && !value.Equals("nan", StringComparison.OrdinalIgnoreCase))
                    sex = value;
            }
            else if (key.Equals("dx", StringComparison.OrdinalIgnoreCase))
            {
                foreach (string code in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (!code.Equals("unknown", StringComparison.OrdinalIgnoreCase)) dx.Add(code);
            }
        }
        return (age, sex, dx);
    }

    /// <summary>Parses one signal line (see <see cref="WfdbSignalSpec"/> for its fields).</summary>
    private static WfdbSignalSpec ParseSignal(string[] f, int index, string record, string path)
    {
        string where = $"signal {index}";
        if (f.Length < 2) throw new EcgFormatException(path, $"{where}: signal line '{string.Join(' ', f)}' needs a file name and a format");
        string file = f[0];
        var (format, spf, skew, offset) = ParseFormatField(f[1], where, path);
        if (!SupportedFormats.Contains(format))
            throw new EcgFormatException(path, $"{where} ({file}): unknown signal format {format} (supported: {string.Join(", ", SupportedFormats.Skip(1))})");
        if (spf < 1) throw new EcgFormatException(path, $"{where}: samples per frame must be at least 1, got '{f[1]}'");

        var (gain, baseline, units) = f.Length > 2 ? ParseGainField(f[2], where, path) : (200, null, "mV");
        int adcRes = f.Length > 3 ? ParseInt(f[3], "ADC resolution", path) : 0;
        if (adcRes == 0) adcRes = DefaultResolution(format);
        int adcZero = f.Length > 4 ? ParseInt(f[4], "ADC zero", path) : 0;
        int init = f.Length > 5 ? ParseInt(f[5], "initial value", path) : adcZero;
        int? checksum = null;
        if (f.Length > 6)
        {
            if (!long.TryParse(f[6], NumberStyles.Integer, CultureInfo.InvariantCulture, out long cs))
                throw new EcgFormatException(path, $"{where}: checksum '{f[6]}' is not an integer");
            checksum = (int)(cs & 0xFFFF);
        }
        int block = f.Length > 7 ? ParseInt(f[7], "block size", path) : 0;
        string desc = f.Length > 8 ? string.Join(' ', f, 8, f.Length - 8) : $"record {record}, signal {index}";
        return new WfdbSignalSpec(file, format, spf, skew, offset, gain, baseline ?? adcZero, units, adcRes, adcZero, init, checksum, block, desc);
    }

    /// <summary>Parses <c>FORMAT[xSPF][:SKEW][+OFFSET]</c>.</summary>
    private static (int Format, int SamplesPerFrame, int Skew, long ByteOffset) ParseFormatField(string spec, string where, string path)
    {
        int end = 0;
        while (end < spec.Length && char.IsAsciiDigit(spec[end])) end++;
        if (end == 0) throw new EcgFormatException(path, $"{where}: format '{spec}' is not a number");
        int format = ParseInt(spec[..end], "format", path);
        int spf = 1, skew = 0;
        long offset = 0;
        string rest = spec[end..];
        while (rest.Length > 0)
        {
            char tag = rest[0];
            int j = 1;
            while (j < rest.Length && char.IsAsciiDigit(rest[j])) j++;
            if (j == 1) throw new EcgFormatException(path, $"{where}: malformed format field '{spec}'");
            string num = rest[1..j];
            switch (tag)
            {
                case 'x': spf = ParseInt(num, "samples per frame", path); break;
                case ':': skew = ParseInt(num, "skew", path); break;
                case '+':
                    if (!long.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
                        throw new EcgFormatException(path, $"{where}: byte offset '{num}' is not a 64-bit integer");
                    break;
                default: throw new EcgFormatException(path, $"{where}: malformed format field '{spec}'");
            }
            rest = rest[j..];
        }
        return (format, spf, skew, offset);
    }

    /// <summary>Parses <c>GAIN[(BASELINE)][/UNITS]</c>; a gain of 0 means the WFDB default 200.</summary>
    private static (double Gain, int? Baseline, string Units) ParseGainField(string field, string where, string path)
    {
        string g = field;
        string units = "mV";
        int? baseline = null;
        int u = g.IndexOf('/');
        if (u >= 0)
        {
            units = g[(u + 1)..];
            g = g[..u];
        }
        int p = g.IndexOf('(');
        if (p >= 0)
        {
            if (!g.EndsWith(')')) throw new EcgFormatException(path, $"{where}: malformed gain '{field}'");
            baseline = ParseInt(g[(p + 1)..^1], "baseline", path);
            g = g[..p];
        }
        if (!double.TryParse(g, NumberStyles.Float, CultureInfo.InvariantCulture, out double gain) || !double.IsFinite(gain))
            throw new EcgFormatException(path, $"{where}: gain '{field}' is not a number");
        return (gain == 0 ? 200 : gain, baseline, units);
    }

    private static int DefaultResolution(int format) => format switch
    {
        8 or 80 => 8,
        212 => 12,
        310 or 311 => 10,
        24 => 24,
        32 => 32,
        _ => 16,
    };

    private static int ParseInt(string s, string what, string path) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v : throw new EcgFormatException(path, $"{what} '{s}' is not an integer");

    private static double ParseDouble(string s, string what, string path) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw new EcgFormatException(path, $"{what} '{s}' is not a number");

    private static TimeSpan ParseTime(string s, string path)
    {
        // [[HH:]MM:]SS[.sss]
        var parts = s.Split(':');
        if (parts.Length > 3) throw new EcgFormatException(path, $"base time '{s}' is not HH:MM:SS");
        double seconds = 0;
        foreach (string p in parts)
        {
            if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v < 0)
                throw new EcgFormatException(path, $"base time '{s}' is not HH:MM:SS");
            seconds = seconds * 60 + v;
        }
        // TimeSpan holds about 29,000 years; a base time beyond a year is not a time of day.
        if (seconds > 366 * 86400.0) throw new EcgFormatException(path, $"base time '{s}' is not HH:MM:SS");
        return TimeSpan.FromSeconds(seconds);
    }

    private static DateOnly ParseDate(string s, string path) =>
        DateOnly.TryParseExact(s, ["dd/MM/yyyy", "d/M/yyyy"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d : throw new EcgFormatException(path, $"base date '{s}' is not DD/MM/YYYY");
}
