using System.Globalization;
using Deri.IO;

namespace Deri.Data.Datasets;

/// <summary>One report of a text corpus, with the record it belongs to.</summary>
/// <param name="Id">The record's <c>ecg_id</c> (integer string).</param>
/// <param name="Fold">Its stratification fold.</param>
/// <param name="Text">The report, on one line.</param>
public sealed record CorpusReport(string Id, int Fold, string Text);

/// <summary>What <see cref="PtbXlReportCorpus.Read"/> kept and left out.</summary>
/// <param name="Reports">The reports kept, in file order.</param>
/// <param name="ExcludedByFold">Rows left out because their <c>strat_fold</c> is excluded (the test folds).</param>
/// <param name="ExcludedById">Rows left out because their <c>ecg_id</c> is excluded (e.g. a store's test split).</param>
/// <param name="Empty">Rows left out because they have no report text.</param>
public sealed record ReportCorpus(IReadOnlyList<CorpusReport> Reports, int ExcludedByFold, int ExcludedById, int Empty);

/// <summary>
/// Report texts of PTB-XL metadata without signals (e.g. <c>shared/data/ptbxl-reports/ptbxl_reports.csv</c>, 10,971 rows)
/// for the text side, never including a report of a test-fold record: every row must name its <c>strat_fold</c>,
/// and rows of the excluded folds (and excluded ids) are dropped before any text is returned.
/// </summary>
public static class PtbXlReportCorpus
{
    /// <summary>File names looked for when <see cref="Read"/> is given a folder, in this order.</summary>
    public static IReadOnlyList<string> FileNames { get; } = ["ptbxl_reports.csv", "ptbxl_database.csv"];

    /// <summary>Reads the reports of <paramref name="path"/> (a CSV, or a folder holding one of <see cref="FileNames"/>).</summary>
    /// <param name="path">The metadata CSV (<c>ecg_id</c>, <c>strat_fold</c>, <c>report</c>, and <c>scp_codes</c> for composed reports) or its folder.</param>
    /// <param name="excludeFolds">Folds whose reports are left out: the test fold(s). Must not be empty.</param>
    /// <param name="report">The <c>report</c> column as written, or English composed from <c>scp_codes</c> (needs <paramref name="statements"/>).</param>
    /// <param name="statements"><c>scp_statements.csv</c> keyed by code, for composed reports.</param>
    /// <param name="excludeIds"><c>ecg_id</c>s left out whatever their fold (e.g. the test split of a store).</param>
    /// <exception cref="ArgumentException">No fold to exclude, a fold outside 1–10, or composed reports without statements.</exception>
    /// <exception cref="InputFormatException">A column is missing, a row has no integer <c>strat_fold</c> (it could be a test record), or an id repeats.</exception>
    public static ReportCorpus Read(string path, IReadOnlyCollection<int> excludeFolds, PtbXlReport report = PtbXlReport.Original,
        IReadOnlyDictionary<string, ScpStatement>? statements = null, IReadOnlySet<string>? excludeIds = null)
    {
        if (excludeFolds.Count == 0) throw new InputValueException("no fold to exclude: give the test fold(s), e.g. 9, so that no test report reaches the text side");
        foreach (int f in excludeFolds)
            if (f is < 1 or > 10) throw new InputValueException($"fold {f} to exclude is not a PTB-XL fold (1–10)");
        if (report == PtbXlReport.Composed && statements == null) throw new InputValueException("composed reports need scp_statements.csv");
        string file = Resolve(path);
        var t = CsvTable.Read(file).RequireRows();
        int cId = t.Column("ecg_id"), cFold = t.Column("strat_fold");
        int cText = report == PtbXlReport.Original ? t.Column("report") : t.Column("scp_codes");
        var ids = ReadIds(t, cId);
        var kept = new List<CorpusReport>();
        int byFold = 0, byId = 0, empty = 0;
        for (int r = 0; r < t.Rows.Count; r++)
        {
            var row = t.Rows[r];
            // A row without a fold might be a test record: refuse rather than guess.
            if (!int.TryParse(row[cFold].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fold))
                throw new InputFormatException($"{t.At(r)}: strat_fold '{row[cFold]}' is not an integer, so the row cannot be shown to be outside the test folds");
            if (excludeFolds.Contains(fold)) { byFold++; continue; }
            if (excludeIds != null && excludeIds.Contains(ids[r])) { byId++; continue; }
            string text = report == PtbXlReport.Original
                ? row[cText]
                : string.IsNullOrWhiteSpace(row[cText]) ? "" : PtbXlDataset.ComposeReport(PtbXlDataset.ParseScpCodes(row[cText], t.At(r), ids[r]), statements!);
            text = string.Join(' ', text.ReplaceLineEndings(" ").Split(' ', StringSplitOptions.RemoveEmptyEntries));
            if (text.Length == 0) { empty++; continue; }
            kept.Add(new CorpusReport(ids[r], fold, text));
        }
        return new ReportCorpus(kept, byFold, byId, empty);
    }

    private static string Resolve(string path)
    {
        if (File.Exists(path)) return path;
        if (!Directory.Exists(path)) throw new InputFileNotFoundException($"report corpus not found: {path}", path);
        foreach (string name in FileNames)
            if (File.Exists(Path.Combine(path, name))) return Path.Combine(path, name);
        throw new InputFileNotFoundException($"{path}: holds none of {string.Join(", ", FileNames)}", path);
    }

    private static string[] ReadIds(CsvTable t, int cId)
    {
        var ids = new string[t.Rows.Count];
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < ids.Length; r++)
        {
            string id = PtbXlDataset.NormalizeId(t.Rows[r][cId]);
            if (!long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                throw new InputFormatException($"{t.At(r)}: ecg_id '{t.Rows[r][cId]}' is not an integer");
            if (!seen.TryAdd(id, r)) throw new InputFormatException($"{t.At(r)}: ecg_id {id} is already used on line {t.Lines[seen[id]]}");
            ids[r] = id;
        }
        return ids;
    }
}
