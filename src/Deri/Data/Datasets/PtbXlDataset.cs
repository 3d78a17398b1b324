using System.Globalization;
using System.Text.RegularExpressions;
using Deri.Data.Preprocessing;

namespace Deri.Data.Datasets;

/// <summary>PTB-XL label tasks of the downstream protocol.</summary>
public enum PtbXlTask
{
    /// <summary>No labels (reports only).</summary>
    None,

    /// <summary>5 diagnostic superclasses (<c>diagnostic_class</c>).</summary>
    Super,

    /// <summary>23 diagnostic subclasses (<c>diagnostic_subclass</c>).</summary>
    Sub,

    /// <summary>19 form statements.</summary>
    Form,

    /// <summary>12 rhythm statements.</summary>
    Rhythm,
}

/// <summary>Where the labels (and the record selection) of a downstream dataset come from.</summary>
public enum LabelSource
{
    /// <summary>Derived from the dataset's own metadata (PTB-XL <c>scp_codes</c> + <c>scp_statements.csv</c>; SNOMED codes by exact code).</summary>
    Derived,

    /// <summary>The paper's per-task split CSVs (one 0/1 column per class); records not listed there are left out and the split comes from the file.</summary>
    SplitFiles,
}

/// <summary>Which text becomes a PTB-XL entry's report.</summary>
public enum PtbXlReport
{
    /// <summary>The <c>report</c> column as recorded (mostly German).</summary>
    Original,

    /// <summary>An English report composed from the SCP statement descriptions of the record's codes.</summary>
    Composed,
}

/// <summary>Options of the PTB-XL listing.</summary>
public sealed record PtbXlOptions
{
    /// <summary>Sampling rate of the records used: 500 (<c>filename_hr</c>) or 100 (<c>filename_lr</c>, resampled to 500).</summary>
    public int Rate { get; init; } = 500;

    /// <summary>Label task.</summary>
    public PtbXlTask Task { get; init; } = PtbXlTask.Super;

    /// <summary>Label source.</summary>
    public LabelSource Labels { get; init; } = LabelSource.Derived;

    /// <summary>Folder with the paper's split CSVs (<c>super_class/ptbxl_super_class_train.csv</c> …); needed for
    /// <see cref="LabelSource.SplitFiles"/>, and when given with derived labels it fixes the class order.</summary>
    public string? SplitsDir { get; init; }

    /// <summary>Stratification folds of the training split (1–8).</summary>
    public IReadOnlyList<int> TrainFolds { get; init; } = [1, 2, 3, 4, 5, 6, 7, 8];

    /// <summary>Stratification folds of the validation split (9).</summary>
    public IReadOnlyList<int> ValFolds { get; init; } = [9];

    /// <summary>Stratification folds of the test split (10).</summary>
    public IReadOnlyList<int> TestFolds { get; init; } = [10];

    /// <summary>Report text.</summary>
    public PtbXlReport Report { get; init; } = PtbXlReport.Original;
}

/// <summary>One row of <c>scp_statements.csv</c>.</summary>
/// <param name="Code">SCP code (e.g. <c>NORM</c>, <c>NST_</c>).</param>
/// <param name="Description">English description.</param>
/// <param name="Diagnostic">Whether it is a diagnostic statement.</param>
/// <param name="Form">Whether it is a form statement.</param>
/// <param name="Rhythm">Whether it is a rhythm statement.</param>
/// <param name="DiagnosticClass">Superclass (diagnostic statements only).</param>
/// <param name="DiagnosticSubclass">Subclass (diagnostic statements only).</param>
public sealed record ScpStatement(string Code, string Description, bool Diagnostic, bool Form, bool Rhythm, string DiagnosticClass, string DiagnosticSubclass);

/// <summary>PTB-XL: <c>ptbxl_database.csv</c> + <c>scp_statements.csv</c> + WFDB records at 100 or 500 Hz.</summary>
public static partial class PtbXlDataset
{
    /// <summary>Folder and file stem of a task in the paper's split CSVs (<c>super_class</c>, <c>sub_class</c>, <c>form</c>, <c>rhythm</c>).</summary>
    public static string TaskFileName(PtbXlTask task) => task switch
    {
        PtbXlTask.Super => "super_class",
        PtbXlTask.Sub => "sub_class",
        PtbXlTask.Form => "form",
        PtbXlTask.Rhythm => "rhythm",
        _ => throw new ArgumentException($"task {task} has no split files"),
    };

    /// <summary>Parses a task name: <c>super</c>, <c>sub</c>, <c>form</c>, <c>rhythm</c> or <c>none</c> (also <c>super_class</c>, <c>sub_class</c>).</summary>
    public static PtbXlTask ParseTask(string name) => name.Trim().ToLowerInvariant() switch
    {
        "super" or "super_class" or "superclass" => PtbXlTask.Super,
        "sub" or "sub_class" or "subclass" => PtbXlTask.Sub,
        "form" => PtbXlTask.Form,
        "rhythm" => PtbXlTask.Rhythm,
        "none" or "" => PtbXlTask.None,
        _ => throw new ArgumentException($"unknown PTB-XL task '{name}' (super, sub, form, rhythm, none)"),
    };

    /// <summary>Lists PTB-XL under <paramref name="root"/> (the folder holding <c>ptbxl_database.csv</c>).</summary>
    public static EcgDataset Load(string root, PtbXlOptions? options = null)
    {
        options ??= new PtbXlOptions();
        if (options.Rate is not (100 or 500)) throw new ArgumentException($"PTB-XL rate must be 100 or 500, got {options.Rate}");
        var db = CsvTable.Read(Path.Combine(root, "ptbxl_database.csv"));
        var statements = ReadStatements(Path.Combine(root, "scp_statements.csv"));
        int cId = db.Column("ecg_id"), cCodes = db.Column("scp_codes"), cFold = db.Column("strat_fold");
        int cPatient = db.TryColumn("patient_id");
        int cFile = db.Column(options.Rate == 500 ? "filename_hr" : "filename_lr");
        int cReport = options.Report == PtbXlReport.Original ? db.Column("report") : -1;

        Dictionary<string, (string Split, float[] Labels)>? fromFiles = null;
        IReadOnlyList<string> labelNames = [];
        if (options.Task != PtbXlTask.None)
        {
            if (options.SplitsDir != null)
                (labelNames, fromFiles) = ReadSplitFiles(options.SplitsDir, options.Task);
            else if (options.Labels == LabelSource.SplitFiles)
                throw new ArgumentException("PTB-XL labels from split files need the splits folder (SplitsDir)");
            else
                labelNames = AllClasses(statements.Values, options.Task);
        }
        var labelIndex = labelNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);

        var entries = new List<DatasetEntry>();
        var skipped = new List<DatasetIssue>();
        foreach (var row in db.Rows)
        {
            string id = NormalizeId(row[cId]);
            var codes = ParseScpCodes(row[cCodes], db.Path, id);
            string report = cReport >= 0 ? row[cReport].Trim() : ComposeReport(codes, statements);
            string path = Path.Combine(root, row[cFile].Trim()) + ".hea";
            float[] labels = [];
            string? split;
            if (options.Task == PtbXlTask.None)
            {
                split = FoldSplit(row[cFold], options, db.Path, id);
            }
            else if (options.Labels == LabelSource.SplitFiles)
            {
                if (!fromFiles!.TryGetValue(id, out var f)) { skipped.Add(new DatasetIssue(id, $"not in the {TaskFileName(options.Task)} split files")); continue; }
                split = f.Split;
                labels = f.Labels;
            }
            else
            {
                var classes = DeriveClasses(codes.Select(c => c.Code), statements, options.Task);
                if (classes.Count == 0) { skipped.Add(new DatasetIssue(id, $"no {TaskFileName(options.Task)} label")); continue; }
                labels = new float[labelNames.Count];
                foreach (string c in classes)
                {
                    if (!labelIndex.TryGetValue(c, out int k)) { skipped.Add(new DatasetIssue(id, $"class {c} is not among the task's classes")); labels = []; break; }
                    labels[k] = 1;
                }
                if (labels.Length == 0) continue;
                split = FoldSplit(row[cFold], options, db.Path, id);
            }
            if (split == null) { skipped.Add(new DatasetIssue(id, $"fold {row[cFold]} is in no split")); continue; }
            // patient_id is a float cell ("15709.0"); a blank cell leaves the patient unknown.
            string? patient = cPatient >= 0 && !string.IsNullOrWhiteSpace(row[cPatient]) ? NormalizeId(row[cPatient]) : null;
            entries.Add(new DatasetEntry(id, path, report, labels, split, patient));
        }
        return new EcgDataset("ptbxl", labelNames, entries, PreprocessConfig.Default, skipped);
    }

    /// <summary>Reads <c>scp_statements.csv</c> keyed by code.</summary>
    public static IReadOnlyDictionary<string, ScpStatement> ReadStatements(string path)
    {
        var t = CsvTable.Read(path);
        int code = t.TryColumn("") >= 0 ? t.Column("") : 0;
        int desc = t.Column("description"), diag = t.Column("diagnostic"), form = t.Column("form"), rhythm = t.Column("rhythm");
        int cls = t.Column("diagnostic_class"), sub = t.Column("diagnostic_subclass");
        var d = new Dictionary<string, ScpStatement>();
        foreach (var r in t.Rows)
            d[r[code].Trim()] = new ScpStatement(r[code].Trim(), r[desc].Trim(), IsOne(r[diag]), IsOne(r[form]), IsOne(r[rhythm]), r[cls].Trim(), r[sub].Trim());
        return d;
    }

    /// <summary>
    /// The classes of a record for a task, from its SCP codes (all likelihoods, as the PTB-XL benchmark does):
    /// super = <c>diagnostic_class</c> and sub = <c>diagnostic_subclass</c> of its diagnostic codes, form/rhythm =
    /// its form/rhythm codes. Names lose leading/trailing underscores (<c>NST_</c> → <c>NST</c>, <c>_AVB</c> → <c>AVB</c>), as in the split CSVs.
    /// </summary>
    public static SortedSet<string> DeriveClasses(IEnumerable<string> codes, IReadOnlyDictionary<string, ScpStatement> statements, PtbXlTask task)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string code in codes)
        {
            if (!statements.TryGetValue(code, out var s)) continue;
            string? c = task switch
            {
                PtbXlTask.Super when s.Diagnostic => s.DiagnosticClass,
                PtbXlTask.Sub when s.Diagnostic => s.DiagnosticSubclass,
                PtbXlTask.Form when s.Form => s.Code,
                PtbXlTask.Rhythm when s.Rhythm => s.Code,
                _ => null,
            };
            if (!string.IsNullOrEmpty(c)) set.Add(c.Trim('_'));
        }
        return set;
    }

    /// <summary>Parses a <c>scp_codes</c> cell, a Python dict literal such as <c>{'NORM': 100.0, 'SR': 0.0}</c>.</summary>
    /// <exception cref="InvalidDataException">The cell is not such a literal.</exception>
    public static IReadOnlyList<(string Code, double Likelihood)> ParseScpCodes(string cell, string file = "scp_codes", string id = "?")
    {
        string s = cell.Trim();
        if (!s.StartsWith('{') || !s.EndsWith('}'))
            throw new InvalidDataException($"{file}: record {id}: scp_codes '{cell}' is not a dict literal");
        var list = new List<(string, double)>();
        foreach (Match m in ScpPair().Matches(s))
            list.Add((m.Groups[1].Value, double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
        if (list.Count == 0 && s.Length > 2 && s[1..^1].Trim().Length > 0)
            throw new InvalidDataException($"{file}: record {id}: cannot parse scp_codes '{cell}'");
        return list;
    }

    /// <summary>An English report from the statement descriptions of the codes, most likely first (e.g. <c>normal ecg. sinus rhythm</c>).</summary>
    public static string ComposeReport(IEnumerable<(string Code, double Likelihood)> codes, IReadOnlyDictionary<string, ScpStatement> statements) =>
        string.Join(". ", codes.OrderByDescending(c => c.Likelihood)
            .Select(c => statements.TryGetValue(c.Code, out var s) ? s.Description : null)
            .Where(d => !string.IsNullOrWhiteSpace(d))
            .Distinct(StringComparer.OrdinalIgnoreCase)!);

    private static (IReadOnlyList<string>, Dictionary<string, (string, float[])>) ReadSplitFiles(string dir, PtbXlTask task)
    {
        string name = TaskFileName(task);
        var result = new Dictionary<string, (string, float[])>();
        string[]? names = null;
        foreach (string split in new[] { DataSplits.Train, DataSplits.Val, DataSplits.Test })
        {
            string file = Path.Combine(dir, name, $"ptbxl_{name}_{split}.csv");
            var t = CsvTable.Read(file);
            int cId = t.Column("ecg_id");
            int first = t.Column(name) + 1;
            var these = t.Header.Skip(first).ToArray();
            names ??= these;
            // The paper's files do not share one column order (sub_class val differs from train): match columns by name.
            if (!names.OrderBy(n => n, StringComparer.Ordinal).SequenceEqual(these.OrderBy(n => n, StringComparer.Ordinal)))
                throw new InvalidDataException($"{file}: class columns [{string.Join(",", these)}] differ from the train file's [{string.Join(",", names)}]");
            var cols = names.Select(t.Column).ToArray();
            foreach (var r in t.Rows)
            {
                var labels = new float[names.Length];
                for (int k = 0; k < names.Length; k++) labels[k] = ParseBinary(r[cols[k]], file, r[cId]);
                result[NormalizeId(r[cId])] = (split, labels);
            }
        }
        return (names!, result);
    }

    private static IReadOnlyList<string> AllClasses(IEnumerable<ScpStatement> statements, PtbXlTask task) =>
        statements.SelectMany(s => DeriveClasses([s.Code], new Dictionary<string, ScpStatement> { [s.Code] = s }, task))
            .Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();

    private static string? FoldSplit(string foldCell, PtbXlOptions o, string file, string id)
    {
        if (!int.TryParse(foldCell.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fold))
            throw new InvalidDataException($"{file}: record {id}: strat_fold '{foldCell}' is not an integer");
        return o.TrainFolds.Contains(fold) ? DataSplits.Train : o.ValFolds.Contains(fold) ? DataSplits.Val : o.TestFolds.Contains(fold) ? DataSplits.Test : null;
    }

    internal static float ParseBinary(string cell, string file, string id)
    {
        string s = cell.Trim();
        if (s is "1" or "1.0" or "True") return 1;
        if (s is "0" or "0.0" or "False" or "") return 0;
        throw new InvalidDataException($"{file}: record {id}: label value '{cell}' is not 0/1");
    }

    /// <summary><c>ecg_id</c> as an integer string (<c>"12.0"</c> → <c>"12"</c>).</summary>
    internal static string NormalizeId(string cell)
    {
        string s = cell.Trim();
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v == Math.Floor(v) && Math.Abs(v) < 1e15
            ? ((long)v).ToString(CultureInfo.InvariantCulture)
            : s;
    }

    private static bool IsOne(string cell) => cell.Trim() is "1" or "1.0" or "True";

    [GeneratedRegex(@"'([^']+)'\s*:\s*(-?[0-9.eE+-]+)")]
    private static partial Regex ScpPair();
}
