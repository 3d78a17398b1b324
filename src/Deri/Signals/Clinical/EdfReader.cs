using System.Globalization;
using System.Text;

namespace Deri.Signals.Clinical;

/// <summary>
/// Reads EDF, EDF+ (16-bit) and BDF (24-bit) files: the 256 + 256·ns byte header, samples scaled from the digital to the
/// physical range of each signal (µV, mV or V by its dimension, converted to mV), the rate from samples per data record
/// and the record duration. "EDF Annotations" signals are skipped; ECG leads are chosen by label ("ECG I", "EKG V1",
/// "I", "Lead II"); when no label names a standard lead, every ordinary signal is read. Recordings longer than
/// <see cref="MaxWholeSeconds"/> are read as a <see cref="WindowSeconds"/> window starting at
/// <see cref="RecordReadOptions.FromSeconds"/>, and the record's comments say which.
/// </summary>
public static class EdfReader
{
    /// <summary>Longest recording read whole (seconds); longer ones are read as a window.</summary>
    public const double MaxWholeSeconds = 300;

    /// <summary>Length of the window read from a longer recording (seconds).</summary>
    public const double WindowSeconds = 10;

    private const int MaxSignals = 512;

    private sealed record Signal(string Label, string Dimension, double PhysMin, double PhysMax, double DigMin, double DigMax, int PerRecord);

    /// <summary>Reads an EDF/EDF+/BDF file (BDF when the version field is 0xFF "BIOSEMI").</summary>
    /// <exception cref="EcgFormatException">Malformed, truncated or inconsistent; the message names the file.</exception>
    public static EcgRecord Read(string path, RecordReadOptions? options = null)
    {
        long length = RegularFile.Length(path, "EDF file");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var fixedHeader = new byte[256];
        if (fs.ReadAtLeast(fixedHeader, 256, throwOnEndOfStream: false) < 256) throw new EcgFormatException(path, $"{length} bytes: shorter than the 256-byte EDF header");
        bool bdf = fixedHeader[0] == 0xFF && Encoding.ASCII.GetString(fixedHeader, 1, 7) == "BIOSEMI";
        string version = Field(fixedHeader, 0, 8);
        if (!bdf && version != "0") throw new EcgFormatException(path, $"version field '{Printable(version)}' is neither EDF's '0' nor BDF's 0xFF BIOSEMI: not an EDF/BDF file");
        int headerBytes = Int(Field(fixedHeader, 184, 8), path, "header size");
        string reserved = Field(fixedHeader, 192, 44);
        if (reserved.StartsWith("EDF+D", StringComparison.Ordinal))
            throw new EcgFormatException(path, "EDF+D (discontinuous recording) is not supported: its data records are not contiguous in time");
        int records = Int(Field(fixedHeader, 236, 8), path, "number of data records");
        double duration = Double(Field(fixedHeader, 244, 8), path, "data record duration");
        int ns = Int(Field(fixedHeader, 252, 4), path, "number of signals");
        if (records <= 0) throw new EcgFormatException(path, $"number of data records is {records}; a finished recording states how many it holds");
        if (!(duration > 0)) throw new EcgFormatException(path, $"data record duration is {duration.ToString(CultureInfo.InvariantCulture)} s; it must be positive");
        if (ns <= 0 || ns > MaxSignals) throw new EcgFormatException(path, $"{ns} signals; 1–{MaxSignals} are accepted");
        if (headerBytes != 256 * (ns + 1)) throw new EcgFormatException(path, $"header size {headerBytes} bytes does not match {ns} signals (256 × {ns + 1} = {256 * (ns + 1)})");
        var h = new byte[256 * ns];
        if (fs.ReadAtLeast(h, h.Length, throwOnEndOfStream: false) < h.Length) throw new EcgFormatException(path, $"truncated: the header declares {ns} signals ({headerBytes} bytes), the file has {length}");
        var signals = new Signal[ns];
        for (int s = 0; s < ns; s++)
        {
            string label = Field(h, 16 * s, 16);
            string where = $"signal {s + 1} ('{label}')";
            signals[s] = new Signal(label, Field(h, ns * 96 + 8 * s, 8),
                Double(Field(h, ns * 104 + 8 * s, 8), path, $"{where} physical minimum"), Double(Field(h, ns * 112 + 8 * s, 8), path, $"{where} physical maximum"),
                Double(Field(h, ns * 120 + 8 * s, 8), path, $"{where} digital minimum"), Double(Field(h, ns * 128 + 8 * s, 8), path, $"{where} digital maximum"),
                Int(Field(h, ns * 216 + 8 * s, 8), path, $"{where} samples per data record"));
            if (signals[s].PerRecord <= 0) throw new EcgFormatException(path, $"{where} has {signals[s].PerRecord} samples per data record");
        }
        int bytesPerSample = bdf ? 3 : 2;
        long recordBytes = signals.Sum(s => (long)s.PerRecord) * bytesPerSample;
        long expected = headerBytes + recordBytes * records;
        if (length != expected)
            throw new EcgFormatException(path, length < expected
                ? $"truncated: {records} data records of {recordBytes} bytes need {expected} bytes, the file has {length}"
                : $"{length} bytes, but the header declares {expected} ({records} data records of {recordBytes} bytes)");
        // Leads by label; ordinary signals when no label names a lead; never the annotation signals.
        var ordinary = Enumerable.Range(0, ns).Where(s => !signals[s].Label.StartsWith("EDF Annotations", StringComparison.Ordinal)
            && !signals[s].Label.StartsWith("BDF Annotations", StringComparison.Ordinal)).ToList();
        var leads = ordinary.Where(s => LeadName(signals[s].Label) is not null).ToList();
        var chosen = leads.Count > 0 ? leads : ordinary;
        if (chosen.Count == 0) throw new EcgFormatException(path, "no signals besides annotations");
        int per = signals[chosen[0]].PerRecord;
        var differing = chosen.Where(s => signals[s].PerRecord != per).ToList();
        if (differing.Count > 0)
            throw new EcgFormatException(path, $"the chosen signals differ in rate: '{signals[chosen[0]].Label}' has {per} samples per record, " +
                string.Join(", ", differing.Select(s => $"'{signals[s].Label}' {signals[s].PerRecord}")));
        double rate = per / duration;
        long total = (long)per * records;
        double seconds = total / rate;
        long first = 0, count = total;
        var comments = new List<string>();
        if (seconds > MaxWholeSeconds)
        {
            double from = options?.FromSeconds ?? 0;
            if (!(from >= 0) || from >= seconds)
                throw new EcgFormatException(path, $"window start {from.ToString(CultureInfo.InvariantCulture)} s is outside the recording's 0–{seconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
            first = (long)Math.Round(from * rate);
            count = Math.Min((long)Math.Round(WindowSeconds * rate), total - first);
            comments.Add(string.Create(CultureInfo.InvariantCulture,
                $"window {first / rate:0.###}–{(first + count) / rate:0.###} s of a {seconds:0.###} s recording (recordings over {MaxWholeSeconds:0} s are read {WindowSeconds:0} s at a time; choose the start with --from)"));
        }
        if (count > int.MaxValue / Math.Max(1, chosen.Count)) throw new EcgFormatException(path, $"{count} samples × {chosen.Count} signals is too large to read at once");
        (options?.Limits ?? RecordLimits.Default).Check(path, chosen.Count, count, rate);
        var digital = chosen.Select(_ => new int[count]).ToArray();
        // Offsets of each signal inside a data record.
        var offset = new long[ns];
        for (int s = 1; s < ns; s++) offset[s] = offset[s - 1] + (long)signals[s - 1].PerRecord * bytesPerSample;
        int firstRecord = (int)(first / per), lastRecord = (int)((first + count - 1) / per);
        var buffer = new byte[recordBytes];
        for (int r = firstRecord; r <= lastRecord; r++)
        {
            fs.Position = headerBytes + recordBytes * r;
            fs.ReadExactly(buffer);
            for (int k = 0; k < chosen.Count; k++)
            {
                int s = chosen[k];
                for (int i = 0; i < per; i++)
                {
                    long t = (long)r * per + i - first;
                    if (t < 0 || t >= count) continue;
                    long at = offset[s] + (long)i * bytesPerSample;
                    digital[k][t] = bdf
                        ? (buffer[at] | (buffer[at + 1] << 8) | ((sbyte)buffer[at + 2] << 16))
                        : System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(buffer.AsSpan((int)at, 2));
                }
            }
        }
        var channels = new List<ChannelData>();
        for (int k = 0; k < chosen.Count; k++)
        {
            var s = signals[chosen[k]];
            string name = LeadName(s.Label) ?? s.Label;
            if (s.DigMax == s.DigMin || s.PhysMax == s.PhysMin)
                throw new EcgFormatException(path, $"signal '{s.Label}': digital range {s.DigMin}–{s.DigMax} and physical range {s.PhysMin}–{s.PhysMax} must both be non-empty");
            double toMv = ClinicalRecord.ToMillivolts(s.Dimension)
                ?? throw new EcgFormatException(path, $"signal '{s.Label}': physical dimension '{s.Dimension}' is not a voltage (uV, mV, V)");
            double perUnit = (s.PhysMax - s.PhysMin) / (s.DigMax - s.DigMin);
            // physical = PhysMin + (d − DigMin)·perUnit = perUnit·(d + PhysMin/perUnit − DigMin)
            channels.Add(ClinicalRecord.Channel(name, digital[k], toMv * perUnit, s.PhysMin / perUnit - s.DigMin, path));
        }
        return ClinicalRecord.Build(path, Path.GetFileNameWithoutExtension(path), rate, channels, comments: comments);
    }

    /// <summary>The lead a label names: "ECG I", "EKG V1", "ECG-aVR", "I", "Lead II"; null otherwise.</summary>
    public static string? LeadName(string label)
    {
        string s = label.Trim();
        foreach (string prefix in (string[])["ECG", "EKG"])
            if (s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && s.Length > prefix.Length)
            {
                s = s[prefix.Length..].TrimStart(' ', '_', '-', '.', ':');
                break;
            }
        return LeadOrder.Normalize(s);
    }

    private static string Field(byte[] b, int at, int width) => Encoding.ASCII.GetString(b, at, width).Trim(' ', '\0');

    private static string Printable(string s) => new(s.Select(c => char.IsControl(c) || c > '~' ? '?' : c).ToArray());

    private static int Int(string s, string path, string what) =>
        int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
            : throw new EcgFormatException(path, $"{what} '{Printable(s)}' is not an integer");

    private static double Double(string s, string path, string what) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new EcgFormatException(path, $"{what} '{Printable(s)}' is not a number");
}
