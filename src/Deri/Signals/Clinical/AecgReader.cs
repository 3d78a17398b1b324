using System.Globalization;
using System.Xml.Linq;

namespace Deri.Signals.Clinical;

/// <summary>
/// Reads HL7 v3 annotated ECG (aECG, FDA) XML: the rhythm series' <c>sequenceSet</c> (a TIME_ABSOLUTE or TIME_RELATIVE
/// sequence whose <c>increment</c> gives the rate, and <c>MDC_ECG_LEAD_*</c> sequences of <c>SLIST_PQ</c> values
/// <c>origin + scale·digit</c>), a derived representative-beat series as <see cref="EcgRecord.StoredMedianBeat"/>, and
/// global measurements and interpretation statements from the series' annotations.
/// </summary>
public static class AecgReader
{
    /// <summary>The HL7 v3 namespace.</summary>
    public static readonly XNamespace V3 = "urn:hl7-org:v3";

    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    private static readonly Dictionary<string, string> MeasurementCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["MDC_ECG_HEART_RATE"] = DeviceMeasurementKeys.HeartRate,
        ["MDC_ECG_TIME_PD_RR"] = DeviceMeasurementKeys.Rr, ["MDC_ECG_TIME_PD_RR_GL"] = DeviceMeasurementKeys.Rr,
        ["MDC_ECG_TIME_PD_PR"] = DeviceMeasurementKeys.Pr, ["MDC_ECG_TIME_PD_PR_GL"] = DeviceMeasurementKeys.Pr,
        ["MDC_ECG_TIME_PD_QRS"] = DeviceMeasurementKeys.Qrs, ["MDC_ECG_TIME_PD_QRS_GL"] = DeviceMeasurementKeys.Qrs,
        ["MDC_ECG_TIME_PD_QT"] = DeviceMeasurementKeys.Qt, ["MDC_ECG_TIME_PD_QT_GL"] = DeviceMeasurementKeys.Qt,
        ["MDC_ECG_TIME_PD_QTc"] = DeviceMeasurementKeys.QtcUnspecified, ["MDC_ECG_TIME_PD_QTc_GL"] = DeviceMeasurementKeys.QtcUnspecified,
        ["MDC_ECG_TIME_PD_QTcB"] = DeviceMeasurementKeys.QtcBazett, ["MDC_ECG_TIME_PD_QTcF"] = DeviceMeasurementKeys.QtcFridericia,
        ["MDC_ECG_ANGLE_P_FRONT"] = DeviceMeasurementKeys.PAxis, ["MDC_ECG_ANGLE_QRS_FRONT"] = DeviceMeasurementKeys.QrsAxis,
        ["MDC_ECG_ANGLE_T_FRONT"] = DeviceMeasurementKeys.TAxis,
    };

    /// <summary>Reads an aECG file.</summary>
    /// <exception cref="EcgFormatException">Not aECG, malformed, or inconsistent; the message names the file.</exception>
    public static EcgRecord Read(string path)
    {
        var doc = EcgXml.Load(path, allowDoctype: false);
        var root = doc.Root!;
        if (root.Name != V3 + "AnnotatedECG") throw new EcgFormatException(path, $"root element is '{root.Name.LocalName}', not AnnotatedECG in {V3}");
        var series = root.Elements(V3 + "component").Elements(V3 + "series").FirstOrDefault()
            ?? throw new EcgFormatException(path, "no AnnotatedECG/component/series");
        var set = series.Elements(V3 + "component").Elements(V3 + "sequenceSet").FirstOrDefault()
            ?? throw new EcgFormatException(path, "the series has no component/sequenceSet");
        string id = Path.GetFileNameWithoutExtension(path);
        var (rate, channels) = ReadSet(set, path, "rhythm series");
        EcgRecord? median = null;
        var derived = series.Elements(V3 + "derivation").Elements(V3 + "derivedSeries").Elements(V3 + "component").Elements(V3 + "sequenceSet").FirstOrDefault();
        if (derived is not null)
        {
            var (mRate, mChannels) = ReadSet(derived, path, "derived series");
            median = ClinicalRecord.Build(path, id + "-median", mRate, mChannels);
        }
        var (measurements, statements) = Annotations(series, path);
        return ClinicalRecord.Build(path, id, rate, channels, measurements, statements, median);
    }

    private static (double Rate, List<ChannelData> Channels) ReadSet(XElement set, string path, string where)
    {
        double? increment = null;
        var channels = new List<ChannelData>();
        foreach (var seq in set.Elements(V3 + "component").Elements(V3 + "sequence"))
        {
            string code = seq.Element(V3 + "code")?.Attribute("code")?.Value ?? throw new EcgFormatException(path, $"{where}: a sequence has no code");
            var value = seq.Element(V3 + "value") ?? throw new EcgFormatException(path, $"{where}: sequence {code} has no value");
            if (code is "TIME_ABSOLUTE" or "TIME_RELATIVE")
            {
                var inc = value.Element(V3 + "increment") ?? throw new EcgFormatException(path, $"{where}: {code} has no increment");
                double v = Number(inc.Attribute("value")?.Value, path, $"{where}: {code} increment");
                string unit = inc.Attribute("unit")?.Value ?? "s";
                double seconds = unit switch { "s" => v, "ms" => v / 1000, _ => throw new EcgFormatException(path, $"{where}: {code} increment unit '{unit}' is not s or ms") };
                if (!(seconds > 0)) throw new EcgFormatException(path, $"{where}: {code} increment {v} {unit} is not positive");
                increment = seconds;
                continue;
            }
            if (!code.StartsWith("MDC_ECG_LEAD_", StringComparison.Ordinal)) continue;
            string lead = code["MDC_ECG_LEAD_".Length..];
            string type = value.Attribute(Xsi + "type")?.Value ?? "";
            if (type != "SLIST_PQ") throw new EcgFormatException(path, $"{where}: lead {lead} value is of type '{type}'; SLIST_PQ was expected");
            var origin = value.Element(V3 + "origin");
            var scale = value.Element(V3 + "scale") ?? throw new EcgFormatException(path, $"{where}: lead {lead} has no scale");
            double scaleMv = Millivolts(scale, path, $"{where}: lead {lead} scale");
            double originMv = origin is null ? 0 : Millivolts(origin, path, $"{where}: lead {lead} origin");
            var digits = Digits(value.Element(V3 + "digits")?.Value ?? throw new EcgFormatException(path, $"{where}: lead {lead} has no digits"), path, $"{where}: lead {lead}");
            channels.Add(ClinicalRecord.Channel(lead, digits, scaleMv, originMv / scaleMv, path));
        }
        if (increment is null) throw new EcgFormatException(path, $"{where}: no TIME_ABSOLUTE or TIME_RELATIVE sequence gives the sampling interval");
        if (channels.Count == 0) throw new EcgFormatException(path, $"{where}: no MDC_ECG_LEAD_* sequences");
        return (1 / increment.Value, channels);
    }

    private static double Millivolts(XElement pq, string path, string what)
    {
        double v = Number(pq.Attribute("value")?.Value, path, what);
        string unit = pq.Attribute("unit")?.Value ?? "";
        return v * (ClinicalRecord.ToMillivolts(unit) ?? throw new EcgFormatException(path, $"{what}: unit '{unit}' is not a voltage (uV, mV, V)"));
    }

    private static double Number(string? s, string path, string what)
    {
        if (s is null) throw new EcgFormatException(path, $"{what}: no value");
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new EcgFormatException(path, $"{what}: '{(s.Length > 40 ? s[..40] + "…" : s)}' is not a number");
        return v;
    }

    // Parses the space-separated integers in place (no token strings): a large file costs one int per digit, not one string.
    private static int[] Digits(string text, string path, string what)
    {
        var span = text.AsSpan();
        int count = 0;
        for (int i = 0; i < span.Length;)
        {
            while (i < span.Length && char.IsWhiteSpace(span[i])) i++;
            if (i == span.Length) break;
            count++;
            while (i < span.Length && !char.IsWhiteSpace(span[i])) i++;
        }
        var d = new int[count];
        int k = 0;
        for (int i = 0; i < span.Length;)
        {
            while (i < span.Length && char.IsWhiteSpace(span[i])) i++;
            if (i == span.Length) break;
            int start = i;
            while (i < span.Length && !char.IsWhiteSpace(span[i])) i++;
            var token = span[start..i];
            if (!int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out d[k]) || d[k] == int.MinValue)
                throw new EcgFormatException(path, $"{what}: digit {k + 1} '{(token.Length > 20 ? token[..20].ToString() + "…" : token.ToString())}' is not an integer");
            k++;
        }
        return d;
    }

    private static (Dictionary<string, double>, List<string>) Annotations(XElement series, string path)
    {
        var measurements = new Dictionary<string, double>();
        var statements = new List<string>();
        foreach (var a in series.Elements(V3 + "subjectOf").Elements(V3 + "annotationSet").Descendants(V3 + "annotation"))
        {
            string? code = a.Element(V3 + "code")?.Attribute("code")?.Value;
            var value = a.Element(V3 + "value");
            if (code is null || value is null) continue;
            if (code.StartsWith("MDC_ECG_INTERPRETATION", StringComparison.OrdinalIgnoreCase))
            {
                string text = value.Value.Trim();
                if (text.Length > 0) statements.Add(text);
                continue;
            }
            if (!MeasurementCodes.TryGetValue(code, out string? key) || value.Attribute("value") is null) continue;
            double v = Number(value.Attribute("value")!.Value, path, $"annotation {code}");
            string? unit = value.Attribute("unit")?.Value;
            if (ClinicalRecord.MeasurementValue(key, v, unit) is double m) measurements.TryAdd(key, m);
            else throw new EcgFormatException(path, $"annotation {code} has unit '{unit}', which does not fit {key}");
        }
        return (measurements, statements);
    }
}
