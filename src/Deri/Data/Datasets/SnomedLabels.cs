namespace Deri.Data.Datasets;

/// <summary>One class of a SNOMED-coded label space: its name, description and the exact SNOMED CT codes that mean it.</summary>
/// <param name="Name">Class name as in the split CSVs (e.g. <c>AFIB</c>).</param>
/// <param name="Description">English description, used to compose reports.</param>
/// <param name="Codes">SNOMED CT codes of the class (the dataset's code plus the PhysioNet/CinC 2021 equivalent codes).</param>
public sealed record SnomedClass(string Name, string Description, IReadOnlyList<string> Codes);

/// <summary>
/// Maps SNOMED CT diagnosis codes to a multi-hot label vector by <b>exact code</b> — never by a substring of a
/// name (MERL's split CSVs were made by substring matching of acronyms, so <c>AFIB</c> there also sets <c>AF</c>
/// and <c>CCR</c> also sets <c>CR</c>; this map does not).
/// </summary>
public sealed class SnomedLabelMap
{
    private readonly Dictionary<string, List<int>> _byCode = new(StringComparer.Ordinal);

    /// <summary>The classes, in label-vector order.</summary>
    public IReadOnlyList<SnomedClass> Classes { get; }

    /// <summary>Class names, in label-vector order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Creates a map over <paramref name="classes"/>.</summary>
    public SnomedLabelMap(IReadOnlyList<SnomedClass> classes)
    {
        Classes = classes;
        Names = classes.Select(c => c.Name).ToList();
        for (int i = 0; i < classes.Count; i++)
            foreach (string code in classes[i].Codes)
            {
                if (!_byCode.TryGetValue(code, out var list)) _byCode[code] = list = [];
                list.Add(i);
            }
    }

    /// <summary>Multi-hot labels of a record's codes; codes outside the label space are ignored.</summary>
    public float[] Map(IEnumerable<string> codes)
    {
        var labels = new float[Classes.Count];
        foreach (string code in codes)
            if (_byCode.TryGetValue(code.Trim(), out var idx))
                foreach (int i in idx) labels[i] = 1;
        return labels;
    }

    /// <summary>An English report naming the classes set in <paramref name="labels"/> (e.g. <c>atrial fibrillation. right bundle branch block</c>).</summary>
    public string Describe(ReadOnlySpan<float> labels)
    {
        var parts = new List<string>();
        for (int i = 0; i < labels.Length; i++) if (labels[i] > 0) parts.Add(Classes[i].Description);
        return string.Join(". ", parts);
    }

    /// <summary>CPSC2018's 9 classes in the order of the paper's <c>icbeb_*.csv</c> columns.</summary>
    public static SnomedLabelMap Cpsc2018 { get; } = new([
        new("AFIB", "atrial fibrillation", ["164889003"]),
        new("VPC", "premature ventricular contraction", ["164884008", "427172004", "17338001"]),
        new("NORM", "normal", ["426783006"]),
        new("1AVB", "first degree atrioventricular block", ["270492004"]),
        new("CRBBB", "right bundle branch block", ["59118001", "713427006"]),
        new("STE", "st-segment elevation", ["164931005"]),
        new("PAC", "premature atrial contraction", ["284470004", "63593006"]),
        new("CLBBB", "left bundle branch block", ["164909002", "733534002"]),
        new("STD", "st-segment depression", ["429622005"]),
    ]);

    /// <summary>CPSC2018 REFERENCE label numbers 1–9 → class names of <see cref="Cpsc2018"/>.</summary>
    public static IReadOnlyDictionary<int, string> CpscReferenceClasses { get; } = new Dictionary<int, string>
    {
        [1] = "NORM", [2] = "AFIB", [3] = "1AVB", [4] = "CLBBB", [5] = "CRBBB", [6] = "PAC", [7] = "VPC", [8] = "STD", [9] = "STE",
    };

    /// <summary>
    /// Chapman-Shaoxing-Ningbo's 38 classes in the order of the paper's <c>chapman_*.csv</c> columns, with the codes of
    /// the dataset's <c>ConditionNames_SNOMED-CT.csv</c> (plus the CinC 2021 equivalents of VPB, RBBB, LBBB and LVH).
    /// </summary>
    public static SnomedLabelMap Csn { get; } = new([
        new("AQW", "abnormal q wave", ["164917005"]),
        new("UW", "u wave", ["164937009"]),
        new("SR", "sinus rhythm", ["426783006"]),
        new("WPW", "wolff-parkinson-white pattern", ["74390002"]),
        new("2AVB", "second degree atrioventricular block", ["195042002"]),
        new("AT", "atrial tachycardia", ["713422000"]),
        new("VB", "ventricular bigeminy", ["11157007"]),
        new("ARS", "axis right shift", ["47665007"]),
        new("STTC", "st-t change", ["428750005"]),
        new("SA", "sinus irregularity", ["427393009"]),
        new("STE", "st extension", ["164930006"]),
        new("VPB", "ventricular premature beat", ["17338001", "427172004"]),
        new("TWO", "t wave opposite", ["59931005"]),
        new("STTU", "st tilt up", ["164931005"]),
        new("ALS", "axis left shift", ["39732003"]),
        new("APB", "atrial premature beat", ["284470004"]),
        new("2AVB1", "second degree atrioventricular block type one", ["54016002"]),
        new("PRIE", "pr interval extension", ["164947007"]),
        new("CCR", "counterclockwise rotation", ["251199005"]),
        new("CR", "clockwise rotation", ["251198002"]),
        new("AF", "atrial flutter", ["164890007"]),
        new("AVB", "atrioventricular block", ["233917008"]),
        new("QTIE", "qt interval extension", ["111975006"]),
        new("LBBB", "left bundle branch block", ["164909002", "733534002"]),
        new("VEB", "ventricular escape beat", ["75532003"]),
        new("SVT", "supraventricular tachycardia", ["426761007"]),
        new("RBBB", "right bundle branch block", ["59118001", "713427006"]),
        new("1AVB", "first degree atrioventricular block", ["270492004"]),
        new("STDD", "st drop down", ["429622005"]),
        new("MI", "myocardial infarction", ["164865005"]),
        new("AFIB", "atrial fibrillation", ["164889003"]),
        new("TWC", "t wave change", ["164934002"]),
        new("PWC", "p wave change", ["164912004"]),
        new("ERV", "early repolarization of the ventricles", ["428417006"]),
        new("RVH", "right ventricle hypertrophy", ["89792004"]),
        new("LVH", "left ventricle hypertrophy", ["164873001", "55827005"]),
        new("ST", "sinus tachycardia", ["427084000"]),
        new("JEB", "junctional escape beat", ["426995002"]),
    ]);
}
