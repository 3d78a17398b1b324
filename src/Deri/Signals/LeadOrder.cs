namespace Deri.Signals;

/// <summary>
/// Names of the 12 standard leads and the order the model uses. Lead names in files vary in case and
/// spelling (<c>AVR</c>, <c>avl</c>, <c>Lead I</c>); <see cref="Normalize"/> maps them to the canonical names.
/// </summary>
public static class LeadOrder
{
    /// <summary>The model's lead order (that of MIMIC-IV-ECG): I, II, III, aVR, aVF, aVL, V1–V6.</summary>
    public static IReadOnlyList<string> Model { get; } = ["I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6"];

    /// <summary>The conventional order of most files (PTB-XL, CinC, CPSC2018): I, II, III, aVR, aVL, aVF, V1–V6.</summary>
    public static IReadOnlyList<string> Standard { get; } = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];

    private static readonly Dictionary<string, string> Canonical = BuildCanonical();

    private static Dictionary<string, string> BuildCanonical()
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string l in Standard) d[l] = l;
        // Roman-numeral limb leads are sometimes written with a D prefix (Einthoven's "Ableitung").
        d["DI"] = "I";
        d["DII"] = "II";
        d["DIII"] = "III";
        return d;
    }

    /// <summary>
    /// The canonical name (<c>I</c> … <c>V6</c>) of a lead as written in a file, ignoring case, surrounding blanks,
    /// a leading <c>lead</c> and separators (<c>Lead_II</c>, <c>AVR</c>, <c>v1</c>); null when it is not one of the
    /// 12 standard leads (e.g. <c>MLII</c>, <c>vx</c>, <c>PLETH</c>).
    /// </summary>
    public static string? Normalize(string name)
    {
        string s = name.Trim();
        if (s.StartsWith("lead", StringComparison.OrdinalIgnoreCase)) s = s[4..];
        s = s.Trim(' ', '_', '-', '.', ':');
        return Canonical.TryGetValue(s, out var c) ? c : null;
    }

    /// <summary>
    /// For each lead of <see cref="Model"/>, the index of the channel in <paramref name="leads"/> that holds it,
    /// so that <c>leads[result[k]]</c> is <c>Model[k]</c>. Extra channels are ignored; the first channel wins
    /// when a lead appears twice.
    /// </summary>
    /// <param name="leads">Channel names as stored.</param>
    /// <param name="source">File or record named in the error message.</param>
    /// <exception cref="EcgFormatException">One or more of the 12 leads is missing.</exception>
    public static int[] Indices(IReadOnlyList<string> leads, string source) => Indices(leads, source, Model);

    /// <summary>As <see cref="Indices(IReadOnlyList{string}, string)"/>, for any target order of canonical lead names.</summary>
    /// <exception cref="EcgFormatException">A lead of <paramref name="order"/> is missing.</exception>
    public static int[] Indices(IReadOnlyList<string> leads, string source, IReadOnlyList<string> order)
    {
        var at = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < leads.Count; i++)
            if (Normalize(leads[i]) is string c) at.TryAdd(c, i);
        var result = new int[order.Count];
        List<string>? missing = null;
        for (int k = 0; k < order.Count; k++)
        {
            if (at.TryGetValue(order[k], out int i)) result[k] = i;
            else (missing ??= []).Add(order[k]);
        }
        if (missing is not null)
            throw new EcgFormatException(source,
                $"missing lead(s) {string.Join(", ", missing)}; the record's channels are {string.Join(", ", leads.Select(l => $"'{l}'"))}");
        return result;
    }

    /// <summary>
    /// The record with its channels reordered to <see cref="Model"/> and renamed to the canonical lead names;
    /// extra channels are dropped. Samples are shared with <paramref name="record"/>, not copied.
    /// </summary>
    /// <exception cref="EcgFormatException">A lead is missing; the message names the record's file.</exception>
    public static EcgRecord Reorder(EcgRecord record)
    {
        int[] idx = Indices(record.Leads, record.SourcePath ?? record.Id);
        int?[]? declared = record.DeclaredChecksums;
        int[]? computed = record.ComputedChecksums;
        return new EcgRecord
        {
            Id = record.Id,
            SamplingRate = record.SamplingRate,
            Leads = Model,
            Digital = idx.Select(i => record.Digital[i]).ToArray(),
            Gain = idx.Select(i => record.Gain[i]).ToArray(),
            Baseline = idx.Select(i => record.Baseline[i]).ToArray(),
            Units = idx.Select(i => record.Units[i]).ToArray(),
            Age = record.Age,
            Sex = record.Sex,
            Diagnoses = record.Diagnoses,
            Comments = record.Comments,
            SourcePath = record.SourcePath,
            ExactPhysical = record.ExactPhysical is { } e ? idx.Select(i => e[i]).ToArray() : null,
            Header = record.Header,
            DeclaredChecksums = declared is null ? null : idx.Select(i => declared[i]).ToArray(),
            ComputedChecksums = computed is null ? null : idx.Select(i => computed[i]).ToArray(),
            MissingSamples = record.MissingSamples,
        };
    }
}
