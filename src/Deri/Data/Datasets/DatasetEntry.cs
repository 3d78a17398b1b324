using Deri.Data.Preprocessing;

namespace Deri.Data.Datasets;

/// <summary>Names of the splits an entry can belong to.</summary>
public static class DataSplits
{
    /// <summary>Training split.</summary>
    public const string Train = "train";

    /// <summary>Validation split.</summary>
    public const string Val = "val";

    /// <summary>Test split.</summary>
    public const string Test = "test";
}

/// <summary>One ECG of a dataset: where its signal is, its report, its labels and its split.</summary>
/// <param name="Id">Identifier unique within the dataset (e.g. PTB-XL <c>ecg_id</c>, MIMIC <c>study_id</c>, <c>A0001</c>).</param>
/// <param name="RecordPath">Path of the record file the reader opens (<c>.hea</c> or <c>.mat</c>).</param>
/// <param name="Report">Report text (may be empty for label-only datasets).</param>
/// <param name="Labels">0/1 per class of <see cref="EcgDataset.LabelNames"/> (empty when the dataset has no labels).</param>
/// <param name="Split"><see cref="DataSplits.Train"/>, <see cref="DataSplits.Val"/> or <see cref="DataSplits.Test"/>.</param>
/// <param name="Patient">The patient the record belongs to when the dataset names one (PTB-XL <c>patient_id</c>, MIMIC <c>subject_id</c>), else null.</param>
public sealed record DatasetEntry(string Id, string RecordPath, string Report, float[] Labels, string Split, string? Patient = null);

/// <summary>A dataset ready to be preprocessed: its entries, label names and the preprocessing it calls for.</summary>
public sealed class EcgDataset
{
    /// <summary>Creates a dataset.</summary>
    public EcgDataset(string name, IReadOnlyList<string> labelNames, IReadOnlyList<DatasetEntry> entries, PreprocessConfig preprocess, IReadOnlyList<DatasetIssue>? skipped = null)
    {
        Name = name;
        LabelNames = labelNames;
        Entries = entries;
        Preprocess = preprocess;
        Skipped = skipped ?? [];
        foreach (var e in entries)
            if (e.Labels.Length != labelNames.Count)
                throw new ArgumentException($"{name}: entry {e.Id} has {e.Labels.Length} labels, the dataset names {labelNames.Count}");
    }

    /// <summary>Dataset name (<c>mimic</c>, <c>ptbxl</c>, <c>cpsc</c>, <c>csn</c>, <c>generic</c>).</summary>
    public string Name { get; }

    /// <summary>Class names, in label-vector order.</summary>
    public IReadOnlyList<string> LabelNames { get; }

    /// <summary>The entries, in a stable order.</summary>
    public IReadOnlyList<DatasetEntry> Entries { get; }

    /// <summary>The preprocessing this dataset calls for (e.g. CPSC2018's 2500-sample crop).</summary>
    public PreprocessConfig Preprocess { get; }

    /// <summary>Rows of the metadata left out while listing the dataset, with the reason (e.g. a report under 4 words).</summary>
    public IReadOnlyList<DatasetIssue> Skipped { get; }

    /// <summary>
    /// The splits the listing meant to fill, each with where its records come from (e.g. <c>strat_fold 10</c>,
    /// <c>10 % seeded</c>); a split missing here was asked to be empty (e.g. a test fraction of 0). Default: all three.
    /// </summary>
    public IReadOnlyDictionary<string, string> ExpectedSplits { get; init; } = AllSplits("");

    /// <summary>Number of entries per split.</summary>
    public IReadOnlyDictionary<string, int> SplitCounts() =>
        Entries.GroupBy(e => e.Split).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>One line per split of <see cref="ExpectedSplits"/> that holds no entry, naming the split and its source.</summary>
    public IReadOnlyList<string> EmptySplitWarnings()
    {
        var counts = SplitCounts();
        return [.. ExpectedSplits.Where(s => !counts.ContainsKey(s.Key))
            .Select(s => $"{Name}: the {s.Key} split is empty" + (s.Value.Length > 0 ? $" (no listed record in {s.Value})" : ""))];
    }

    /// <summary>
    /// Patients (by <see cref="DatasetEntry.Patient"/>) whose records are in more than one split, each with its splits in
    /// train, val, test order; entries without a patient are not counted.
    /// </summary>
    public IReadOnlyList<(string Patient, IReadOnlyList<string> Splits)> PatientsInSeveralSplits()
    {
        string[] order = [DataSplits.Train, DataSplits.Val, DataSplits.Test];
        return [.. Entries.Where(e => e.Patient != null).GroupBy(e => e.Patient!, StringComparer.Ordinal)
            .Select(g => (Patient: g.Key, Splits: (IReadOnlyList<string>)[.. g.Select(e => e.Split).Distinct().OrderBy(s => Array.IndexOf(order, s)).ThenBy(s => s, StringComparer.Ordinal)]))
            .Where(p => p.Splits.Count > 1)];
    }

    /// <summary>Entries without a report: usable by ECG-only jobs and probing, refused by report-based training.</summary>
    public IReadOnlyList<DatasetEntry> Unreported() => [.. Entries.Where(e => string.IsNullOrWhiteSpace(e.Report))];

    /// <summary>This dataset with the entries that have no report moved to <see cref="Skipped"/> (reason <c>no report</c>).</summary>
    public EcgDataset WithReportsOnly() =>
        new(Name, LabelNames, [.. Entries.Where(e => !string.IsNullOrWhiteSpace(e.Report))], Preprocess,
            [.. Skipped, .. Unreported().Select(e => new DatasetIssue(e.Id, "no report"))])
        {
            ExpectedSplits = ExpectedSplits,
        };

    /// <summary>All three splits, each described by <paramref name="source"/>.</summary>
    public static IReadOnlyDictionary<string, string> AllSplits(string source) =>
        new Dictionary<string, string> { [DataSplits.Train] = source, [DataSplits.Val] = source, [DataSplits.Test] = source };

    /// <summary>The splits a seeded split fills: train always, val and test when their fraction is positive.</summary>
    public static IReadOnlyDictionary<string, string> SeededSplits(double valFraction, double testFraction)
    {
        var d = new Dictionary<string, string> { [DataSplits.Train] = "the seeded split" };
        if (valFraction > 0) d[DataSplits.Val] = $"the seeded split, fraction {valFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        if (testFraction > 0) d[DataSplits.Test] = $"the seeded split, fraction {testFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        return d;
    }
}

/// <summary>A metadata row or record left out, and why.</summary>
/// <param name="Id">Record identifier.</param>
/// <param name="Reason">Why it was left out.</param>
public sealed record DatasetIssue(string Id, string Reason);
