using System.Buffers.Binary;
using System.Globalization;
using System.Xml.Linq;

namespace Deri.Signals.Clinical;

/// <summary>
/// Reads GE MUSE XML (<c>RestingECG</c>): the Rhythm and Median <c>Waveform</c> elements (rate <c>SampleBase</c>·10^<c>SampleExponent</c>,
/// <c>LeadData</c> with base64 little-endian int16 <c>WaveFormData</c> at <c>LeadAmplitudeUnitsPerBit</c>), the
/// <c>RestingECGMeasurements</c> and the <c>Diagnosis</c> statements. MUSE stores 8 leads (I, II, V1–V6); III, aVR, aVL
/// and aVF are derived and listed in <see cref="EcgRecord.DerivedLeads"/>.
/// </summary>
public static class MuseReader
{
    private static readonly (string Element, string Key)[] Measurements =
    [
        ("VentricularRate", DeviceMeasurementKeys.HeartRate), ("PRInterval", DeviceMeasurementKeys.Pr), ("QRSDuration", DeviceMeasurementKeys.Qrs),
        ("QTInterval", DeviceMeasurementKeys.Qt), ("QTCorrected", DeviceMeasurementKeys.QtcUnspecified), ("PAxis", DeviceMeasurementKeys.PAxis),
        ("RAxis", DeviceMeasurementKeys.QrsAxis), ("TAxis", DeviceMeasurementKeys.TAxis),
    ];

    /// <summary>Reads a MUSE XML file.</summary>
    /// <exception cref="EcgFormatException">Not MUSE XML, malformed, or inconsistent; the message names the file.</exception>
    public static EcgRecord Read(string path)
    {
        var doc = EcgXml.Load(path, allowDoctype: true);
        var root = doc.Root!;
        if (root.Name.LocalName != "RestingECG") throw new EcgFormatException(path, $"root element is '{root.Name.LocalName}', not RestingECG");
        var waveforms = root.Elements("Waveform").ToList();
        var rhythm = waveforms.FirstOrDefault(w => Text(w, "WaveformType")?.Equals("Rhythm", StringComparison.OrdinalIgnoreCase) == true)
            ?? throw new EcgFormatException(path, "no Waveform with WaveformType Rhythm");
        var medianElement = waveforms.FirstOrDefault(w => Text(w, "WaveformType")?.Equals("Median", StringComparison.OrdinalIgnoreCase) == true);
        string id = Path.GetFileNameWithoutExtension(path);
        var (rate, channels) = ReadWaveform(rhythm, path, "Rhythm");
        EcgRecord? median = null;
        if (medianElement is not null)
        {
            var (mRate, mChannels) = ReadWaveform(medianElement, path, "Median");
            median = ClinicalRecord.Build(path, id + "-median", mRate, mChannels);
        }
        var measurements = new Dictionary<string, double>();
        if (root.Element("RestingECGMeasurements") is { } m)
            foreach (var (name, key) in Measurements)
                if (Text(m, name) is string s)
                    measurements[key] = Number(s, path, $"RestingECGMeasurements/{name}");
        var statements = root.Elements("Diagnosis").Elements("DiagnosisStatement").Elements("StmtText")
            .Select(e => e.Value.Trim()).Where(s => s.Length > 0).ToList();
        var demo = root.Element("PatientDemographics");
        int? age = null;
        if (Text(demo, "PatientAge") is string a && int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out int years)
            && (Text(demo, "AgeUnits") ?? "YEARS").Equals("YEARS", StringComparison.OrdinalIgnoreCase))
            age = years;
        string? sex = Text(demo, "Gender")?.ToUpperInvariant() switch { "MALE" => "Male", "FEMALE" => "Female", _ => null };
        return ClinicalRecord.Build(path, id, rate, channels, measurements, statements, median, age, sex);
    }

    private static string? Text(XElement? parent, string name)
    {
        string? s = parent?.Element(name)?.Value.Trim();
        return string.IsNullOrEmpty(s) ? null : s;
    }

    private static double Number(string s, string path, string what)
    {
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new EcgFormatException(path, $"{what} is '{(s.Length > 40 ? s[..40] + "…" : s)}', not a number");
        return v;
    }

    private static (double Rate, List<ChannelData> Channels) ReadWaveform(XElement w, string path, string kind)
    {
        double baseRate = Number(Text(w, "SampleBase") ?? throw new EcgFormatException(path, $"{kind} waveform has no SampleBase"), path, $"{kind} SampleBase");
        double exponent = Text(w, "SampleExponent") is string e ? Number(e, path, $"{kind} SampleExponent") : 0;
        if (Math.Abs(exponent) > 6) throw new EcgFormatException(path, $"{kind} SampleExponent {exponent} is out of range");
        double rate = baseRate * Math.Pow(10, exponent);
        if (!(rate > 0)) throw new EcgFormatException(path, $"{kind} sampling rate {rate.ToString(CultureInfo.InvariantCulture)} Hz is not positive");
        var channels = new List<ChannelData>();
        foreach (var lead in w.Elements("LeadData"))
        {
            string name = Text(lead, "LeadID") ?? throw new EcgFormatException(path, $"{kind} waveform: a LeadData has no LeadID");
            double perBit = Number(Text(lead, "LeadAmplitudeUnitsPerBit") ?? throw new EcgFormatException(path, $"{kind} lead {name}: no LeadAmplitudeUnitsPerBit"), path, $"{kind} lead {name} LeadAmplitudeUnitsPerBit");
            string units = Text(lead, "LeadAmplitudeUnits") ?? "MICROVOLTS";
            double toMv = ClinicalRecord.ToMillivolts(units) ?? throw new EcgFormatException(path, $"{kind} lead {name}: LeadAmplitudeUnits '{units}' is not a voltage");
            string b64 = Text(lead, "WaveFormData") ?? throw new EcgFormatException(path, $"{kind} lead {name}: no WaveFormData");
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(b64);
            }
            catch (FormatException)
            {
                throw new EcgFormatException(path, $"{kind} lead {name}: WaveFormData is not valid base64");
            }
            if (bytes.Length % 2 != 0) throw new EcgFormatException(path, $"{kind} lead {name}: WaveFormData has {bytes.Length} bytes, not whole 16-bit samples");
            int n = bytes.Length / 2;
            if (Text(lead, "LeadSampleCountTotal") is string count && (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int declared) || declared != n))
                throw new EcgFormatException(path, $"{kind} lead {name}: LeadSampleCountTotal '{count}' but WaveFormData holds {n} samples");
            var digital = new int[n];
            for (int t = 0; t < n; t++) digital[t] = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * t));
            channels.Add(ClinicalRecord.Channel(name, digital, perBit * toMv, 0, path));
        }
        if (channels.Count == 0) throw new EcgFormatException(path, $"{kind} waveform has no LeadData");
        return (rate, channels);
    }
}
