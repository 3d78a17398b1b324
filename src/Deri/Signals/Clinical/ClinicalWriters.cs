using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Security;
using System.Text;
using Deri.IO;

namespace Deri.Signals.Clinical;

/// <summary>
/// Writes a record as DICOM 12-lead/general ECG waveform (explicit VR little endian), HL7 aECG XML or EDF, so that
/// records can be converted for other tools. Digital samples are written as stored with each lead's calibration, so
/// reading the file back gives the same physical values (to 16-bit resolution; values outside int16 are refused).
/// </summary>
public static class ClinicalWriters
{
    /// <summary>The formats <c>deri data export --format</c> writes besides TSV.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["dicom", "aecg", "edf"];

    /// <summary>Writes <paramref name="record"/> in <paramref name="format"/> (<c>dicom</c>, <c>aecg</c>, <c>edf</c>).</summary>
    /// <exception cref="ArgumentException">Unknown format, missing samples, or samples that do not fit 16 bits.</exception>
    public static void Write(EcgRecord record, string format, Stream output)
    {
        Check(record);
        switch (format)
        {
            case "dicom": WriteDicom(record, output); break;
            case "aecg": WriteAecg(record, output); break;
            case "edf": WriteEdf(record, output); break;
            default: throw new InputValueException($"format '{format}' is not one of {string.Join(", ", Formats)}");
        }
    }

    private static void Check(EcgRecord r)
    {
        if (r.MissingSamples > 0) throw new InputValueException($"record {r.Id} has {r.MissingSamples} missing samples, which DICOM, aECG and EDF exports cannot mark");
        for (int c = 0; c < r.Channels; c++)
            foreach (int v in r.Digital[c])
                if (v < short.MinValue || v > short.MaxValue)
                    throw new InputValueException($"record {r.Id}: lead {r.Leads[c]} has digital value {v}, outside 16 bits");
    }

    // mV per digital unit and the lead's baseline.
    private static double Scale(EcgRecord r, int c) => 1 / r.Gain[c];

    private static string Num(double v) => v.ToString("G10", CultureInfo.InvariantCulture);

    // ---- DICOM ----

    private static readonly Dictionary<string, string> Mdc = new(StringComparer.Ordinal)
    {
        ["I"] = "2:1", ["II"] = "2:2", ["III"] = "2:61", ["aVR"] = "2:62", ["aVL"] = "2:63", ["aVF"] = "2:64",
        ["V1"] = "2:3", ["V2"] = "2:4", ["V3"] = "2:5", ["V4"] = "2:6", ["V5"] = "2:7", ["V6"] = "2:8",
    };

    private static readonly (string Key, string Code, string Meaning, string Unit)[] DicomMeasures =
    [
        (DeviceMeasurementKeys.HeartRate, "2:16016", "Ventricular Heart Rate", "/min"), (DeviceMeasurementKeys.Rr, "2:16168", "RR interval global", "ms"),
        (DeviceMeasurementKeys.Pr, "2:15872", "PR interval global", "ms"), (DeviceMeasurementKeys.Qrs, "2:16156", "QRS duration global", "ms"),
        (DeviceMeasurementKeys.Qt, "2:16160", "QT interval global", "ms"), (DeviceMeasurementKeys.QtcUnspecified, "2:15876", "QTc interval global", "ms"),
        (DeviceMeasurementKeys.PAxis, "2:16128", "P Axis", "deg"), (DeviceMeasurementKeys.QrsAxis, "2:16132", "QRS Axis", "deg"),
        (DeviceMeasurementKeys.TAxis, "2:16136", "T Axis", "deg"),
    ];

    private sealed class DicomOut
    {
        public readonly MemoryStream S = new();

        public void Element(ushort g, ushort e, string vr, ReadOnlySpan<byte> value)
        {
            int len = value.Length + (value.Length % 2);
            Span<byte> h = stackalloc byte[12];
            BinaryPrimitives.WriteUInt16LittleEndian(h, g);
            BinaryPrimitives.WriteUInt16LittleEndian(h[2..], e);
            h[4] = (byte)vr[0];
            h[5] = (byte)vr[1];
            if (vr is "OB" or "OW" or "SQ" or "UT" or "UN")
            {
                h[6] = h[7] = 0;
                BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)len);
                S.Write(h[..12]);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(h[6..], (ushort)len);
                S.Write(h[..8]);
            }
            S.Write(value);
            if (value.Length % 2 == 1) S.WriteByte(vr is "UI" or "OB" ? (byte)0 : (byte)' ');
        }

        public void Text(ushort g, ushort e, string vr, string v) => Element(g, e, vr, Encoding.UTF8.GetBytes(v));

        public void US(ushort g, ushort e, int v)
        {
            Span<byte> b = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v);
            Element(g, e, "US", b);
        }

        public void UL(ushort g, ushort e, uint v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            Element(g, e, "UL", b);
        }

        // Items of defined length: each item is written into its own buffer first.
        public void Sequence(ushort g, ushort e, IEnumerable<Action<DicomOut>> items)
        {
            var body = new MemoryStream();
            Span<byte> h = stackalloc byte[8];
            foreach (var item in items)
            {
                var inner = new DicomOut();
                item(inner);
                BinaryPrimitives.WriteUInt32LittleEndian(h, 0xE000FFFE);
                BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)inner.S.Length);
                body.Write(h);
                inner.S.Position = 0;
                inner.S.CopyTo(body);
            }
            Element(g, e, "SQ", body.ToArray());
        }

        public void Code(string value, string scheme, string meaning)
        {
            Text(0x0008, 0x0100, "SH", value);
            Text(0x0008, 0x0102, "SH", scheme);
            Text(0x0008, 0x0104, "LO", meaning);
        }
    }

    private static string NewUid() => "2.25." + new BigInteger(Guid.NewGuid().ToByteArray(), isUnsigned: true).ToString(CultureInfo.InvariantCulture);

    private static void Group(DicomOut o, EcgRecord r, string label)
    {
        o.Text(0x0018, 0x1068, "DS", "0");
        o.Text(0x003A, 0x0004, "CS", label == "RHYTHM" ? "ORIGINAL" : "DERIVED");
        o.US(0x003A, 0x0005, r.Channels);
        o.UL(0x003A, 0x0010, (uint)r.Samples);
        o.Text(0x003A, 0x001A, "DS", Num(r.SamplingRate));
        o.Text(0x003A, 0x0020, "SH", label);
        o.Sequence(0x003A, 0x0200, Enumerable.Range(0, r.Channels).Select(c => (Action<DicomOut>)(ch =>
        {
            string lead = r.Leads[c];
            ch.US(0x003A, 0x0202, c + 1);
            ch.Text(0x003A, 0x0203, "SH", lead.Length > 16 ? lead[..16] : lead);
            ch.Sequence(0x003A, 0x0208, [s => s.Code(Mdc.GetValueOrDefault(lead, lead.Length > 16 ? lead[..16] : lead), Mdc.ContainsKey(lead) ? "MDC" : "99DERI", "Lead " + lead)]);
            // Sensitivity in uV per unit; baseline in uV: value = sensitivity·d + baseline = (d − B)/G·1000.
            double sens = 1000 * Scale(r, c);
            ch.Text(0x003A, 0x0210, "DS", Num(sens));
            ch.Sequence(0x003A, 0x0211, [s => s.Code("uV", "UCUM", "microvolt")]);
            ch.Text(0x003A, 0x0212, "DS", "1");
            ch.Text(0x003A, 0x0213, "DS", Num(-r.Baseline[c] * sens));
            ch.US(0x003A, 0x021A, 16);
        })));
        o.US(0x5400, 0x1004, 16);
        o.Text(0x5400, 0x1006, "CS", "SS");
        var data = new byte[r.Channels * r.Samples * 2];
        for (int t = 0; t < r.Samples; t++)
            for (int c = 0; c < r.Channels; c++)
                BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan((t * r.Channels + c) * 2), (short)r.Digital[c][t]);
        o.Element(0x5400, 0x1010, "OW", data);
    }

    private static void WriteDicom(EcgRecord r, Stream output)
    {
        bool twelve = r.Channels <= 13 && r.Samples / r.SamplingRate <= 16 && r.SamplingRate is >= 200 and <= 1000;
        // 12-lead ECG Waveform Storage limits channels, duration and rate (PS3.3 A.34.3.4); other records are General ECG.
        string sop = twelve ? "1.2.840.10008.5.1.4.1.1.9.1.1" : "1.2.840.10008.5.1.4.1.1.9.1.2";
        string instance = NewUid();
        var meta = new DicomOut();
        meta.Element(0x0002, 0x0001, "OB", [0, 1]);
        meta.Text(0x0002, 0x0002, "UI", sop);
        meta.Text(0x0002, 0x0003, "UI", instance);
        meta.Text(0x0002, 0x0010, "UI", Dicom.DicomParser.ExplicitLittle);
        meta.Text(0x0002, 0x0012, "UI", "2.25.329800735698586629295641978511506172918");
        var ds = new DicomOut();
        ds.Text(0x0008, 0x0016, "UI", sop);
        ds.Text(0x0008, 0x0018, "UI", instance);
        ds.Text(0x0008, 0x0060, "CS", "ECG");
        ds.Text(0x0010, 0x0020, "LO", r.Id.Length > 64 ? r.Id[..64] : r.Id);
        if (r.Sex is string sex) ds.Text(0x0010, 0x0040, "CS", sex switch { "Male" => "M", "Female" => "F", _ => "O" });
        if (r.Age is int age and >= 0 and < 1000) ds.Text(0x0010, 0x1010, "AS", age.ToString("000", CultureInfo.InvariantCulture) + "Y");
        var annotations = new List<Action<DicomOut>>();
        foreach (var (key, code, meaning, unit) in DicomMeasures)
            if (r.DeviceMeasurements.TryGetValue(key, out double v))
                annotations.Add(a =>
                {
                    a.Sequence(0x0040, 0x08EA, [s => s.Code(unit, "UCUM", unit)]);
                    a.Sequence(0x0040, 0xA043, [s => s.Code(code, "MDC", meaning)]);
                    a.Element(0x0040, 0xA0B0, "US", [1, 0, 0, 0]);
                    a.Text(0x0040, 0xA30A, "DS", Num(v));
                });
        foreach (string statement in r.DeviceStatements)
            annotations.Add(a =>
            {
                a.Element(0x0040, 0xA0B0, "US", [1, 0, 0, 0]);
                a.Text(0x0070, 0x0006, "UT", statement);
            });
        // Elements in ascending tag order: (0040,B020) before (5400,0100).
        if (annotations.Count > 0) ds.Sequence(0x0040, 0xB020, annotations);
        var groups = new List<Action<DicomOut>> { g => Group(g, r, "RHYTHM") };
        if (r.StoredMedianBeat is { } m) groups.Add(g => Group(g, m, "MEDIAN"));
        ds.Sequence(0x5400, 0x0100, groups);
        output.Write(new byte[128]);
        output.Write("DICM"u8);
        var groupLength = new DicomOut();
        groupLength.UL(0x0002, 0x0000, (uint)meta.S.Length);
        groupLength.S.Position = 0;
        groupLength.S.CopyTo(output);
        meta.S.Position = 0;
        meta.S.CopyTo(output);
        ds.S.Position = 0;
        ds.S.CopyTo(output);
    }

    // ---- aECG ----

    private static readonly (string Key, string Code, string Unit)[] AecgMeasures =
    [
        (DeviceMeasurementKeys.HeartRate, "MDC_ECG_HEART_RATE", "bpm"), (DeviceMeasurementKeys.Rr, "MDC_ECG_TIME_PD_RR", "ms"),
        (DeviceMeasurementKeys.Pr, "MDC_ECG_TIME_PD_PR", "ms"), (DeviceMeasurementKeys.Qrs, "MDC_ECG_TIME_PD_QRS", "ms"),
        (DeviceMeasurementKeys.Qt, "MDC_ECG_TIME_PD_QT", "ms"), (DeviceMeasurementKeys.QtcUnspecified, "MDC_ECG_TIME_PD_QTc", "ms"),
        (DeviceMeasurementKeys.QtcBazett, "MDC_ECG_TIME_PD_QTcB", "ms"), (DeviceMeasurementKeys.QtcFridericia, "MDC_ECG_TIME_PD_QTcF", "ms"),
        (DeviceMeasurementKeys.PAxis, "MDC_ECG_ANGLE_P_FRONT", "deg"), (DeviceMeasurementKeys.QrsAxis, "MDC_ECG_ANGLE_QRS_FRONT", "deg"),
        (DeviceMeasurementKeys.TAxis, "MDC_ECG_ANGLE_T_FRONT", "deg"),
    ];

    private static void SequenceSet(StringBuilder x, EcgRecord r, bool absolute)
    {
        x.Append("<sequenceSet>\n");
        x.Append(absolute
            ? "<component><sequence><code code=\"TIME_ABSOLUTE\" codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"GLIST_TS\"><head value=\"20000101000000.000\"/>"
            : "<component><sequence><code code=\"TIME_RELATIVE\" codeSystem=\"2.16.840.1.113883.5.4\"/><value xsi:type=\"GLIST_PQ\"><head value=\"0\" unit=\"s\"/>");
        x.Append(CultureInfo.InvariantCulture, $"<increment value=\"{Num(1 / r.SamplingRate)}\" unit=\"s\"/></value></sequence></component>\n");
        for (int c = 0; c < r.Channels; c++)
        {
            string code = LeadOrder.Normalize(r.Leads[c]) is string l ? "MDC_ECG_LEAD_" + l.ToUpperInvariant() : "MDC_ECG_LEAD_" + SecurityElement.Escape(r.Leads[c]);
            double scale = 1000 * Scale(r, c);
            x.Append(CultureInfo.InvariantCulture, $"<component><sequence><code code=\"{code}\" codeSystem=\"2.16.840.1.113883.6.24\"/><value xsi:type=\"SLIST_PQ\">");
            x.Append(CultureInfo.InvariantCulture, $"<origin value=\"{Num(-r.Baseline[c] * scale)}\" unit=\"uV\"/><scale value=\"{Num(scale)}\" unit=\"uV\"/><digits>");
            var d = r.Digital[c];
            for (int t = 0; t < d.Length; t++)
            {
                if (t > 0) x.Append(' ');
                x.Append(d[t].ToString(CultureInfo.InvariantCulture));
            }
            x.Append("</digits></value></sequence></component>\n");
        }
        x.Append("</sequenceSet>\n");
    }

    private static void WriteAecg(EcgRecord r, Stream output)
    {
        var x = new StringBuilder();
        x.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AnnotatedECG xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n");
        x.Append(CultureInfo.InvariantCulture, $"<id root=\"{NewUid()}\"/>\n<code code=\"93000\" codeSystem=\"2.16.840.1.113883.6.12\"/>\n");
        x.Append("<component><series>\n<code code=\"RHYTHM\" codeSystem=\"2.16.840.1.113883.5.4\"/>\n<component>\n");
        SequenceSet(x, r, absolute: true);
        x.Append("</component>\n");
        if (r.StoredMedianBeat is { } m)
        {
            x.Append("<derivation><derivedSeries><code code=\"REPRESENTATIVE_BEAT\" codeSystem=\"2.16.840.1.113883.5.4\"/><component>\n");
            SequenceSet(x, m, absolute: false);
            x.Append("</component></derivedSeries></derivation>\n");
        }
        if (r.DeviceMeasurements.Count > 0 || r.DeviceStatements.Count > 0)
        {
            x.Append("<subjectOf><annotationSet>\n");
            foreach (var (key, code, unit) in AecgMeasures)
                if (r.DeviceMeasurements.TryGetValue(key, out double v))
                    x.Append(CultureInfo.InvariantCulture, $"<component><annotation><code code=\"{code}\" codeSystem=\"2.16.840.1.113883.6.24\"/><value xsi:type=\"PQ\" value=\"{Num(v)}\" unit=\"{unit}\"/></annotation></component>\n");
            foreach (string s in r.DeviceStatements)
                x.Append(CultureInfo.InvariantCulture, $"<component><annotation><code code=\"MDC_ECG_INTERPRETATION_STATEMENT\" codeSystem=\"2.16.840.1.113883.6.24\"/><value xsi:type=\"ST\">{SecurityElement.Escape(s)}</value></annotation></component>\n");
            x.Append("</annotationSet></subjectOf>\n");
        }
        x.Append("</series></component>\n</AnnotatedECG>\n");
        var bytes = new UTF8Encoding(false).GetBytes(x.ToString());
        output.Write(bytes);
    }

    // ---- EDF ----

    private static void WriteEdf(EcgRecord r, Stream output)
    {
        int ns = r.Channels, n = r.Samples;
        // 1-s data records when the rate is a whole number that divides the length; else one data record holding everything.
        bool seconds = r.SamplingRate == Math.Floor(r.SamplingRate) && n % (int)r.SamplingRate == 0;
        int per = seconds ? (int)r.SamplingRate : n, records = n / per;
        string duration = seconds ? "1" : (n / r.SamplingRate).ToString("0.######", CultureInfo.InvariantCulture);
        if (duration.Length > 8 || Math.Abs(double.Parse(duration, CultureInfo.InvariantCulture) * r.SamplingRate - per) > 1e-6)
            throw new InputValueException($"record {r.Id}: {n} samples at {r.SamplingRate} Hz cannot be written as EDF data records with an exact 8-character duration");
        var h = new StringBuilder();
        void F(string s, int width)
        {
            if (s.Length > width) s = s[..width];
            h.Append(s.PadRight(width));
        }
        F("0", 8);
        F("X X X " + Ascii(r.Id), 80);
        F("Startdate X X X X", 80);
        F("01.01.00", 8);
        F("00.00.00", 8);
        F((256 * (ns + 1)).ToString(CultureInfo.InvariantCulture), 8);
        F("", 44);
        F(records.ToString(CultureInfo.InvariantCulture), 8);
        F(duration, 8);
        F(ns.ToString(CultureInfo.InvariantCulture), 4);
        var pmin = new string[ns];
        var pmax = new string[ns];
        for (int c = 0; c < ns; c++)
        {
            // Physical extremes of the int16 range in mV, as many digits as the 8-character fields hold.
            pmin[c] = Fit((short.MinValue - r.Baseline[c]) / r.Gain[c]);
            pmax[c] = Fit((short.MaxValue - r.Baseline[c]) / r.Gain[c]);
        }
        for (int c = 0; c < ns; c++) F("ECG " + Ascii(r.Leads[c]), 16);
        for (int c = 0; c < ns; c++) F("", 80);
        for (int c = 0; c < ns; c++) F("mV", 8);
        for (int c = 0; c < ns; c++) F(pmin[c], 8);
        for (int c = 0; c < ns; c++) F(pmax[c], 8);
        for (int c = 0; c < ns; c++) F("-32768", 8);
        for (int c = 0; c < ns; c++) F("32767", 8);
        for (int c = 0; c < ns; c++) F("", 80);
        for (int c = 0; c < ns; c++) F(per.ToString(CultureInfo.InvariantCulture), 8);
        for (int c = 0; c < ns; c++) F("", 32);
        output.Write(Encoding.ASCII.GetBytes(h.ToString()));
        var block = new byte[per * 2];
        for (int rec = 0; rec < records; rec++)
            for (int c = 0; c < ns; c++)
            {
                for (int i = 0; i < per; i++) BinaryPrimitives.WriteInt16LittleEndian(block.AsSpan(2 * i), (short)r.Digital[c][rec * per + i]);
                output.Write(block);
            }
    }

    private static string Ascii(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '_').ToArray());

    private static string Fit(double v)
    {
        for (int decimals = 6; decimals >= 0; decimals--)
        {
            string s = v.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (s.Contains('.')) s = s.TrimEnd('0').TrimEnd('.');
            if (s.Length <= 8) return s;
        }
        throw new InputValueException($"physical limit {v} mV does not fit an EDF header field");
    }
}
