using System.Buffers.Binary;
using System.Globalization;
using Deri.Signals.Clinical;

namespace Deri.Signals.Dicom;

/// <summary>
/// Reads DICOM ECG waveform objects (12-lead ECG Waveform Storage 1.2.840.10008.5.1.4.1.1.9.1.1, General ECG …9.1.2,
/// Ambulatory ECG …9.1.3) into an <see cref="EcgRecord"/>: the rhythm multiplex group as the record, a median-beat group
/// as <see cref="EcgRecord.StoredMedianBeat"/>, the cart's measurements and statements from the Waveform Annotation
/// Sequence. Samples must be 16-bit signed (Waveform Bits Allocated 16, Sample Interpretation SS).
/// </summary>
public static class DicomEcgReader
{
    private static readonly Dictionary<string, string> SopClasses = new(StringComparer.Ordinal)
    {
        ["1.2.840.10008.5.1.4.1.1.9.1.1"] = "12-lead ECG waveform",
        ["1.2.840.10008.5.1.4.1.1.9.1.2"] = "general ECG waveform",
        ["1.2.840.10008.5.1.4.1.1.9.1.3"] = "ambulatory ECG waveform",
    };

    // Lead codes of the Channel Source Sequence: MDC (ISO/IEEE 11073-10102, PS3.16 CID 3001) and legacy SCPECG.
    private static readonly Dictionary<string, string> LeadCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["2:1"] = "I", ["2:2"] = "II", ["2:61"] = "III", ["2:62"] = "aVR", ["2:63"] = "aVL", ["2:64"] = "aVF",
        ["2:3"] = "V1", ["2:4"] = "V2", ["2:5"] = "V3", ["2:6"] = "V4", ["2:7"] = "V5", ["2:8"] = "V6",
        ["5.6.3-9-1"] = "I", ["5.6.3-9-2"] = "II", ["5.6.3-9-61"] = "III", ["5.6.3-9-62"] = "aVR", ["5.6.3-9-63"] = "aVL",
        ["5.6.3-9-64"] = "aVF", ["5.6.3-9-3"] = "V1", ["5.6.3-9-4"] = "V2", ["5.6.3-9-5"] = "V3", ["5.6.3-9-6"] = "V4",
        ["5.6.3-9-7"] = "V5", ["5.6.3-9-8"] = "V6",
    };

    // Concept names of global measurements: TID 3713 "ECG Global Measurements" (MDC), CID 3229 axes, LOINC equivalents, SCPECG.
    private static readonly Dictionary<string, string> MeasurementCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["2:16016"] = DeviceMeasurementKeys.HeartRate, ["2:16770"] = DeviceMeasurementKeys.HeartRate, ["8867-4"] = DeviceMeasurementKeys.HeartRate,
        ["2:16168"] = DeviceMeasurementKeys.Rr, ["2:15872"] = DeviceMeasurementKeys.Pr, ["2:16156"] = DeviceMeasurementKeys.Qrs,
        ["2:16160"] = DeviceMeasurementKeys.Qt, ["2:15876"] = DeviceMeasurementKeys.QtcUnspecified,
        ["2:16128"] = DeviceMeasurementKeys.PAxis, ["2:16132"] = DeviceMeasurementKeys.QrsAxis, ["2:16136"] = DeviceMeasurementKeys.TAxis,
        ["8626-4"] = DeviceMeasurementKeys.PAxis, ["9997-8"] = DeviceMeasurementKeys.QrsAxis, ["8638-9"] = DeviceMeasurementKeys.TAxis,
        // Legacy SCPECG codes (coding scheme "SCPECG" version 1.3, used by DICOM before the MDC codes): the code value is the
        // clause of the SCP-ECG standard (AAMI/CEN ENV 1064 rev. 1.3, now ISO 11073-91064) that defines the field, then
        // the item: 5.10.2.1 global RR/PP, 5.10.2.5 ventricular rate and QTc, 5.10.3 axes, 5.13.5 the PR/QRS/QT of the
        // measurement block. Meanings as a Mortara ELI 250 cart writes them (pydicom's waveform_ecg.dcm: "RR Interval",
        // "QTc Interval", "P Axis" …) and as ECG Toolkit's DICOM writer (DICOMFormat.cs) pairs them with codes and units.
        // PP interval (5.10.2.1-5) has no key here; fiducial points (5.10.3-1…5, 5.7.1-3) are sample positions, not values.
        ["5.10.2.1-3"] = DeviceMeasurementKeys.Rr, ["5.10.2.5-1"] = DeviceMeasurementKeys.HeartRate,
        ["5.13.5-7"] = DeviceMeasurementKeys.Pr, ["5.13.5-9"] = DeviceMeasurementKeys.Qrs, ["5.13.5-11"] = DeviceMeasurementKeys.Qt,
        ["5.10.2.5-5"] = DeviceMeasurementKeys.QtcUnspecified,
        ["5.10.3-11"] = DeviceMeasurementKeys.PAxis, ["5.10.3-13"] = DeviceMeasurementKeys.QrsAxis, ["5.10.3-15"] = DeviceMeasurementKeys.TAxis,
    };

    /// <summary>Reads a DICOM ECG file.</summary>
    /// <exception cref="EcgFormatException">The file is not a supported DICOM ECG or is malformed; the message names the file.</exception>
    /// <param name="path">The file.</param>
    /// <param name="options">Read options; their <see cref="RecordReadOptions.Limits"/> bound the declared sizes.</param>
    public static EcgRecord Read(string path, RecordReadOptions? options = null)
    {
        RegularFile.Length(path, "DICOM file");
        return Read(File.ReadAllBytes(path), path, options);
    }

    /// <summary>Reads DICOM ECG bytes; <paramref name="path"/> names them in messages and becomes the record's id stem.</summary>
    /// <exception cref="EcgFormatException">The bytes are not a supported DICOM ECG or are malformed.</exception>
    /// <param name="data">The file's bytes.</param>
    /// <param name="path">Names the bytes in messages.</param>
    /// <param name="options">Read options; their <see cref="RecordReadOptions.Limits"/> bound the declared sizes.</param>
    public static EcgRecord Read(byte[] data, string path, RecordReadOptions? options = null)
    {
        var limits = options?.Limits ?? RecordLimits.Default;
        var (meta, ds) = DicomParser.Parse(data, path);
        string? sop = ds.String(0x00080016) ?? meta.String(0x00020002);
        if (sop is null) throw new EcgFormatException(path, "no SOP Class UID (0008,0016): cannot tell what the object holds");
        if (!SopClasses.ContainsKey(sop))
            throw new EcgFormatException(path, $"SOP class {sop} is not an ECG waveform; Deri reads {string.Join(", ", SopClasses.Select(s => $"{s.Value} ({s.Key})"))}");
        var groups = ds.Sequence(0x54000100);
        if (groups.Count == 0) throw new EcgFormatException(path, "no Waveform Sequence (5400,0100) items");
        var rhythmAt = PickRhythm(groups, path);
        int medianAt = PickMedian(groups, rhythmAt);
        string id = Path.GetFileNameWithoutExtension(path);
        var (rate, channels) = ReadGroup(groups[rhythmAt], rhythmAt, path, limits);
        EcgRecord? median = null;
        if (medianAt >= 0)
        {
            var (mRate, mChannels) = ReadGroup(groups[medianAt], medianAt, path, limits);
            median = ClinicalRecord.Build(path, id + "-median", mRate, mChannels);
        }
        var (measurements, statements) = Annotations(ds, path);
        return ClinicalRecord.Build(path, id, rate, channels, measurements, statements, median, Age(ds.String(0x00101010)), Sex(ds.String(0x00100040)));
    }

    private static string? Label(DicomDataset g) => g.String(0x003A0020)?.ToUpperInvariant();

    private static double Duration(DicomDataset g, string path)
    {
        double? rate = g.Number(0x003A001A, "Sampling Frequency");
        long? n = g.Unsigned(0x003A0010, "Number of Waveform Samples");
        return rate is > 0 && n is not null ? n.Value / rate.Value : 0;
    }

    // The group labelled RHYTHM, else the longest one.
    private static int PickRhythm(IReadOnlyList<DicomDataset> groups, string path)
    {
        for (int i = 0; i < groups.Count; i++)
            if (Label(groups[i]) is "RHYTHM") return i;
        int best = 0;
        for (int i = 1; i < groups.Count; i++)
            if (Label(groups[i]) is not ("MEDIAN" or "AVERAGE") && Duration(groups[i], path) > Duration(groups[best], path)) best = i;
        return best;
    }

    // The group labelled MEDIAN (or AVERAGE); unlabelled, a second group of at most 2 s beside a longer rhythm group.
    private static int PickMedian(IReadOnlyList<DicomDataset> groups, int rhythm)
    {
        for (int i = 0; i < groups.Count; i++)
            if (i != rhythm && Label(groups[i]) is "MEDIAN" or "AVERAGE" or "MEDIAN BEAT" or "REPRESENTATIVE BEAT") return i;
        for (int i = 0; i < groups.Count; i++)
            if (i != rhythm && Label(groups[i]) is null && Duration(groups[i], "") is > 0 and <= 2 && Duration(groups[rhythm], "") > 2) return i;
        return -1;
    }

    private static (double Rate, List<ChannelData> Channels) ReadGroup(DicomDataset g, int index, string path, RecordLimits limits)
    {
        string where = $"multiplex group {index + 1}{(Label(g) is string l ? $" ({l})" : "")}";
        long channels = g.Unsigned(0x003A0005, "Number of Waveform Channels") ?? throw new EcgFormatException(path, $"{where}: no Number of Waveform Channels (003A,0005)");
        long samples = g.Unsigned(0x003A0010, "Number of Waveform Samples") ?? throw new EcgFormatException(path, $"{where}: no Number of Waveform Samples (003A,0010)");
        double rate = g.Number(0x003A001A, "Sampling Frequency") ?? throw new EcgFormatException(path, $"{where}: no Sampling Frequency (003A,001A)");
        if (!(rate > 0)) throw new EcgFormatException(path, $"{where}: sampling frequency {rate.ToString(CultureInfo.InvariantCulture)} Hz");
        if (channels == 0 || samples == 0) throw new EcgFormatException(path, $"{where}: {channels} channels × {samples} samples");
        limits.Check(path, (int)Math.Min(channels, int.MaxValue), samples, rate);
        long bits = g.Unsigned(0x54001004, "Waveform Bits Allocated") ?? throw new EcgFormatException(path, $"{where}: no Waveform Bits Allocated (5400,1004)");
        string interp = g.String(0x54001006) ?? throw new EcgFormatException(path, $"{where}: no Waveform Sample Interpretation (5400,1006)");
        if (bits != 16 || interp != "SS")
            throw new EcgFormatException(path, $"{where}: samples of {bits} bits, interpretation {interp} ({Interpretation(interp)}) are not supported; Deri reads 16-bit signed samples (bits allocated 16, SS)");
        var data = g.Get(0x54001010) ?? throw new EcgFormatException(path, $"{where}: no Waveform Data (5400,1010)");
        // Declared sizes are checked against the bytes the file holds before anything is allocated.
        long needed = channels * samples * 2;
        if (needed > data.Length)
            throw new EcgFormatException(path, $"truncated: {where} declares {channels} channels × {samples} samples ({needed} bytes), its Waveform Data holds {data.Length}");
        var defs = g.Sequence(0x003A0200);
        if (defs.Count != channels)
            throw new EcgFormatException(path, $"{where}: {defs.Count} Channel Definition Sequence items for {channels} channels");
        int? padding = g.Get(0x5400100A) is { Length: >= 2 } pad ? BinaryPrimitives.ReadInt16LittleEndian(g.Data.AsSpan(pad.Offset)) : null;
        int nc = (int)channels, ns = (int)samples;
        var result = new List<ChannelData>(nc);
        var span = g.Data.AsSpan(data.Offset, (int)needed);
        for (int c = 0; c < nc; c++)
        {
            var def = defs[c];
            string name = LeadName(def, c);
            double sensitivity = def.Number(0x003A0210, "Channel Sensitivity") ?? throw new EcgFormatException(path, $"{where}: channel {c + 1} ({name}) has no Channel Sensitivity (003A,0210)");
            string unit = def.Sequence(0x003A0211).FirstOrDefault()?.String(0x00080100)
                ?? throw new EcgFormatException(path, $"{where}: channel {c + 1} ({name}) has no Channel Sensitivity Units Sequence (003A,0211)");
            double toMv = ClinicalRecord.ToMillivolts(unit) ?? throw new EcgFormatException(path, $"{where}: channel {c + 1} ({name}): sensitivity unit '{unit}' is not a voltage (uV, mV, V)");
            double correction = def.Number(0x003A0212, "Channel Sensitivity Correction Factor") ?? 1;
            double baseline = def.Number(0x003A0213, "Channel Baseline") ?? 0;
            if (!(sensitivity > 0) || !(correction > 0))
                throw new EcgFormatException(path, $"{where}: channel {c + 1} ({name}) has sensitivity {sensitivity.ToString(CultureInfo.InvariantCulture)} × correction {correction.ToString(CultureInfo.InvariantCulture)}; both must be positive");
            var digital = new int[ns];
            for (int t = 0; t < ns; t++)
            {
                short v = BinaryPrimitives.ReadInt16LittleEndian(span.Slice((t * nc + c) * 2, 2));
                digital[t] = padding == v ? int.MinValue : v;
            }
            // PS3.3 C.10.9.1.4: value = correction · (sample · sensitivity + baseline), in the sensitivity's unit.
            result.Add(ClinicalRecord.Channel(name, digital, toMv * correction * sensitivity, baseline / sensitivity, path));
        }
        return (rate, result);
    }

    private static string Interpretation(string code) => code switch
    {
        "SB" => "signed 8 bit", "UB" => "unsigned 8 bit", "MB" => "8-bit mu-law", "AB" => "8-bit A-law",
        "SS" => "signed 16 bit", "US" => "unsigned 16 bit", "SL" => "signed 32 bit", "UL" => "unsigned 32 bit", "SV" => "signed 64 bit", "UV" => "unsigned 64 bit",
        _ => "unknown",
    };

    private static string LeadName(DicomDataset def, int index)
    {
        var source = def.Sequence(0x003A0208).FirstOrDefault();
        if (source?.String(0x00080100) is string code && LeadCodes.TryGetValue(code, out string? lead)) return lead;
        string? meaning = source?.String(0x00080104);
        if (meaning is not null && LeadOrder.Normalize(meaning) is string m) return m;
        string? label = def.String(0x003A0203);
        if (label is not null && LeadOrder.Normalize(label) is string l) return l;
        return meaning ?? label ?? $"channel {index + 1}";
    }

    private static (Dictionary<string, double>, List<string>) Annotations(DicomDataset ds, string path)
    {
        var measurements = new Dictionary<string, double>();
        var statements = new List<string>();
        foreach (var a in ds.Sequence(0x0040B020))
        {
            if (a.Get(0x00700006) is { Items: null } e)
            {
                // Unformatted Text Value keeps its full text (backslashes are not value separators in UT).
                string text = System.Text.Encoding.UTF8.GetString(a.Data, e.Offset, e.Length).Trim(' ', '\0');
                if (text.Length > 0) statements.Add(text);
                continue;
            }
            var concept = a.Sequence(0x0040A043).FirstOrDefault();
            if (concept?.String(0x00080100) is not string code || !MeasurementCodes.TryGetValue(code, out string? key)) continue;
            double? value = a.Number(0x0040A30A, "Numeric Value");
            if (value is null) continue;
            string? unit = a.Sequence(0x004008EA).FirstOrDefault()?.String(0x00080100);
            if (ClinicalRecord.MeasurementValue(key, value.Value, unit) is double v) measurements.TryAdd(key, v);
            else throw new EcgFormatException(path, $"measurement {code} ({key}) has unit '{unit}', which does not fit it");
        }
        return (measurements, statements);
    }

    private static int? Age(string? age)
    {
        // Age String "nnnY" (years); months, weeks and days are under one year.
        if (age is null || age.Length != 4 || !int.TryParse(age.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return null;
        return age[3] switch { 'Y' => n, 'M' or 'W' or 'D' => 0, _ => null };
    }

    private static string? Sex(string? s) => s switch { "M" => "Male", "F" => "Female", "O" => "Other", _ => null };
}
