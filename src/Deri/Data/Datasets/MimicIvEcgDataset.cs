using Deri.Data.Preprocessing;
using Deri.IO;

namespace Deri.Data.Datasets;

/// <summary>Options of the MIMIC-IV-ECG listing.</summary>
public sealed record MimicOptions
{
    /// <summary>Fraction of the reports that goes to validation (0.02).</summary>
    public double ValFraction { get; init; } = 0.02;

    /// <summary>Seed of the train/val assignment.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Reports with fewer words than this are dropped (4).</summary>
    public int MinWords { get; init; } = 4;

    /// <summary>Fraction held out as a test split (0: MIMIC-IV-ECG has none; the synthetic demo holds one out).</summary>
    public double TestFraction { get; init; }
}

/// <summary>
/// MIMIC-IV-ECG (pretraining): <c>record_list.csv</c> gives each study's record path, <c>machine_measurements.csv</c>
/// its machine report in <c>report_0</c>…<c>report_17</c>. The synthetic data of this project uses the same layout,
/// plus a <c>labels.csv</c> (<c>study_id</c> and one 0/1 column per condition) that is read when present.
/// </summary>
public static class MimicIvEcgDataset
{
    /// <summary>Number of free-text report columns (<c>report_0</c>…<c>report_17</c>).</summary>
    public const int ReportColumns = 18;

    /// <summary>Lists the dataset under <paramref name="root"/> (the folder holding the two CSV files and <c>files/</c>).</summary>
    /// <exception cref="FileNotFoundException">A CSV file is missing.</exception>
    /// <exception cref="InputFormatException">A required column is missing.</exception>
    public static EcgDataset Load(string root, MimicOptions? options = null)
    {
        options ??= new MimicOptions();
        var records = CsvTable.Read(Path.Combine(root, "record_list.csv")).RequireRows();
        var measurements = CsvTable.Read(Path.Combine(root, "machine_measurements.csv"));
        int mStudy = measurements.Column("study_id");
        var reportCols = Enumerable.Range(0, ReportColumns).Select(i => measurements.TryColumn($"report_{i}")).Where(i => i >= 0).ToArray();
        if (reportCols.Length == 0) measurements.Column("report_0");
        var reports = new Dictionary<string, string?>(measurements.Rows.Count);
        foreach (var row in measurements.Rows)
            reports[row[mStudy].Trim()] = CleanReport(reportCols.Select(c => row[c]), options.MinWords);

        int rStudy = records.Column("study_id"), rPath = records.Column("path"), rSubject = records.TryColumn("subject_id");
        var kept = new List<(string Id, string Path, string Report, string? Patient)>();
        var skipped = new List<DatasetIssue>();
        var firstRow = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < records.Rows.Count; r++)
        {
            var row = records.Rows[r];
            string study = row[rStudy].Trim();
            // Reports and labels join by study_id: a repeated id would give two records one report.
            if (study.Length == 0) throw new InputFormatException($"{records.At(r)}: empty study_id");
            if (!firstRow.TryAdd(study, r))
                throw new InputFormatException($"{records.At(r)}: study_id {study} is already listed on line {records.Lines[firstRow[study]]}; ids must be unique");
            if (!reports.TryGetValue(study, out string? report))
                skipped.Add(new DatasetIssue(study, "no row in machine_measurements.csv"));
            else if (report == null)
                skipped.Add(new DatasetIssue(study, $"report has fewer than {options.MinWords} words"));
            else
                kept.Add((study, Path.Combine(root, row[rPath].Trim()) + ".hea", report, rSubject >= 0 ? NonEmpty(row[rSubject]) : null));
        }
        var (labelNames, labels) = ReadLabels(Path.Combine(root, LabelsFile));
        if (labels != null)
        {
            skipped.AddRange(kept.Where(k => !labels.ContainsKey(k.Id)).Select(k => new DatasetIssue(k.Id, $"no row in {LabelsFile}")));
            kept.RemoveAll(k => !labels.ContainsKey(k.Id));
        }
        var splits = DatasetSplitter.Assign(kept.Count, options.ValFraction, options.TestFraction, options.Seed);
        var entries = kept.Select((k, i) => new DatasetEntry(k.Id, k.Path, k.Report, labels?[k.Id] ?? [], splits[i], k.Patient)).ToList();
        return new EcgDataset("mimic", labelNames, entries, PreprocessConfig.Default, skipped)
        {
            ExpectedSplits = EcgDataset.SeededSplits(options.ValFraction, options.TestFraction),
        };
    }

    // A blank subject_id cell means the patient is unknown, not a patient called "".
    private static string? NonEmpty(string cell) => string.IsNullOrWhiteSpace(cell) ? null : cell.Trim();

    /// <summary>Name of the optional label file beside <c>record_list.csv</c>.</summary>
    public const string LabelsFile = "labels.csv";

    // labels.csv: study_id, then one 0/1 column per class. Absent file → no labels.
    private static (IReadOnlyList<string> Names, Dictionary<string, float[]>? Labels) ReadLabels(string path)
    {
        if (!File.Exists(path)) return ([], null);
        var table = CsvTable.Read(path);
        int study = table.Column("study_id");
        var classCols = Enumerable.Range(0, table.Header.Count).Where(c => c != study).ToArray();
        var result = new Dictionary<string, float[]>(table.Rows.Count);
        foreach (var (row, r) in table.Rows.Select((row, r) => (row, r)))
        {
            var v = new float[classCols.Length];
            for (int j = 0; j < classCols.Length; j++)
            {
                string cell = row[classCols[j]].Trim();
                v[j] = cell switch
                {
                    "0" => 0f,
                    "1" => 1f,
                    _ => throw new InputFormatException($"{path}: row {r + 2}, column '{table.Header[classCols[j]]}': expected 0 or 1, got '{cell}'"),
                };
            }
            result[row[study].Trim()] = v;
        }
        return (classCols.Select(c => table.Header[c]).ToList(), result);
    }

    /// <summary>
    /// The release's report rule: the non-empty parts joined with <c>". "</c>, <c>EKG</c> → <c>ECG</c>, then — like
    /// Python's <c>str.strip</c> with a character set — leading/trailing <c>*</c> and spaces, then <c>=</c> and <c>-</c>,
    /// then <c>=</c> removed, then surrounding whitespace (which the release leaves in place), lower-cased. Returns <c>null</c> when fewer than <paramref name="minWords"/> whitespace-separated words remain.
    /// </summary>
    public static string? CleanReport(IEnumerable<string?> parts, int minWords = 4)
    {
        string joined = string.Join(". ", parts.Where(p => !string.IsNullOrWhiteSpace(p)));
        string s = joined.Replace("EKG", "ECG", StringComparison.Ordinal)
            .Trim('*', ' ')
            .Trim('=', '-')
            .Trim('=')
            .Trim()
            .ToLowerInvariant();
        int words = s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        return words < minWords ? null : s;
    }
}
