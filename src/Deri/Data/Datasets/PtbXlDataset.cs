using System.Globalization;
using System.Text.RegularExpressions;
using Deri.Data.Preprocessing;
using Deri.IO;

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
        _ => throw new InputValueException($"unknown PTB-XL task '{name}' (super, sub, form, rhythm, none)"),
    };

    /// <summary>Lists PTB-XL under <paramref name="root"/> (the folder holding <c>ptbxl_database.csv</c>).</summary>
    public static EcgDataset Load(string root, PtbXlOptions? options = null)
    {
        options ??= new PtbXlOptions();
        if (options.Rate is not (100 or 500)) throw new InputValueException($"PTB-XL rate must be 100 or 500, got {options.Rate}");
        CheckFolds(options.TrainFolds, options.ValFolds, options.TestFolds, "PTB-XL folds");
        var db = CsvTable.Read(Path.Combine(root, "ptbxl_database.csv")).RequireRows();
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
                throw new InputValueException("PTB-XL labels from split files need the splits folder (SplitsDir)");
            else
                labelNames = AllClasses(statements.Values, options.Task);
        }
        var labelIndex = labelNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        var ids = ReadIds(db, cId);

        var entries = new List<DatasetEntry>();
        var skipped = new List<DatasetIssue>();
        for (int r = 0; r < db.Rows.Count; r++)
        {
            var row = db.Rows[r];
            string id = ids[r];
            // About half the rows of some public copies have neither report nor scp_codes: no codes, not a bad row.
            bool noCodes = string.IsNullOrWhiteSpace(row[cCodes]);
            IReadOnlyList<(string Code, double Likelihood)> codes = noCodes ? [] : ParseScpCodes(row[cCodes], db.At(r), id);
            string report = cReport >= 0 ? row[cReport].Trim() : ComposeReport(codes, statements);
            string file = row[cFile].Trim();
            if (file.Length == 0) { skipped.Add(new DatasetIssue(id, $"{db.Header[cFile]} is empty: no {options.Rate} Hz record" + (options.Rate == 500 ? " (--source-rate 100 reads filename_lr)" : ""))); continue; }
            string path = Path.Combine(root, file) + ".hea";
            float[] labels = [];
            string? split;
            if (options.Task == PtbXlTask.None)
            {
                split = FoldSplit(row[cFold], options, db.At(r));
            }
            else if (options.Labels == LabelSource.SplitFiles)
            {
                if (!fromFiles!.TryGetValue(id, out var f)) { skipped.Add(new DatasetIssue(id, $"not in the {TaskFileName(options.Task)} split files")); continue; }
                split = f.Split;
                labels = f.Labels;
            }
            else
            {
                if (noCodes) { skipped.Add(new DatasetIssue(id, "no scp_codes, so no labels")); continue; }
                var classes = DeriveClasses(codes.Select(c => c.Code), statements, options.Task);
                if (classes.Count == 0) { skipped.Add(new DatasetIssue(id, $"no {TaskFileName(options.Task)} label")); continue; }
                labels = new float[labelNames.Count];
                foreach (string c in classes)
                {
                    if (!labelIndex.TryGetValue(c, out int k)) { skipped.Add(new DatasetIssue(id, $"class {c} is not among the task's classes")); labels = []; break; }
                    labels[k] = 1;
                }
                if (labels.Length == 0) continue;
                split = FoldSplit(row[cFold], options, db.At(r));
            }
            if (split == null) { skipped.Add(new DatasetIssue(id, $"fold {row[cFold]} is in no split")); continue; }
            // patient_id is a float cell ("15709.0"); a blank cell leaves the patient unknown.
            string? patient = cPatient >= 0 && !string.IsNullOrWhiteSpace(row[cPatient]) ? NormalizeId(row[cPatient]) : null;
            entries.Add(new DatasetEntry(id, path, report, labels, split, patient));
        }
        var expected = options.Task != PtbXlTask.None && options.Labels == LabelSource.SplitFiles
            ? EcgDataset.AllSplits($"the {TaskFileName(options.Task)} split files")
            : FoldSources(options);
        var dataset = new EcgDataset("ptbxl", labelNames, entries, PreprocessConfig.Default, skipped) { ExpectedSplits = expected };
        // PTB-XL's folds are patient-disjoint; splits made from folds must be too (the paper's split files are taken as given).
        if (options.Task == PtbXlTask.None || options.Labels != LabelSource.SplitFiles) CheckPatientSplits(dataset, Path.Combine(root, "ptbxl_database.csv"));
        return dataset;
    }

    /// <summary>
    /// Parses <c>TRAIN/VAL/TEST</c> stratification folds, each part a comma-separated list of folds (1–10) or ranges
    /// <c>a-b</c> with a ≤ b, e.g. <c>1-7/8/9</c> or <c>1-6,8/7/9</c>. A part may be empty (that split is not wanted).
    /// </summary>
    /// <exception cref="ArgumentException">Not three parts, a fold outside 1–10, a reversed range, or a fold in two places.</exception>
    public static (IReadOnlyList<int> Train, IReadOnlyList<int> Val, IReadOnlyList<int> Test) ParseFolds(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 3) throw new ArgumentException($"--folds must be TRAIN/VAL/TEST, e.g. 1-7/8/9; got '{text}'");
        List<int> Part(string p)
        {
            var folds = new List<int>();
            foreach (string r in p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var ends = r.Split('-');
                if (ends.Length > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is >= 1 and <= 10))
                    throw new ArgumentException($"--folds '{text}': '{r}' is not a fold (1–10) or a range of folds");
                int a = int.Parse(ends[0], CultureInfo.InvariantCulture), b = int.Parse(ends[^1], CultureInfo.InvariantCulture);
                if (b < a) throw new ArgumentException($"--folds '{text}': range '{r}' is reversed (write {b}-{a})");
                folds.AddRange(Enumerable.Range(a, b - a + 1));
            }
            return folds;
        }
        var (train, val, test) = (Part(parts[0]), Part(parts[1]), Part(parts[2]));
        CheckFolds(train, val, test, $"--folds '{text}'");
        return (train, val, test);
    }

    /// <summary>Checks that no fold is listed twice, within one split or across splits.</summary>
    /// <exception cref="ArgumentException">A fold is listed twice; the message starts with <paramref name="what"/>.</exception>
    private static void CheckFolds(IReadOnlyList<int> train, IReadOnlyList<int> val, IReadOnlyList<int> test, string what)
    {
        var owner = new Dictionary<int, string>();
        foreach (var (split, folds) in new[] { (DataSplits.Train, train), (DataSplits.Val, val), (DataSplits.Test, test) })
            foreach (int f in folds)
                if (!owner.TryAdd(f, split))
                    throw new ArgumentException(owner[f] == split
                        ? $"{what}: fold {f} is listed twice in {split}"
                        : $"{what}: fold {f} is in both {owner[f]} and {split}; the splits must not overlap");
    }

    // Splits with folds are expected to hold records; one given no folds was asked to be empty.
    private static Dictionary<string, string> FoldSources(PtbXlOptions o)
    {
        var d = new Dictionary<string, string>();
        foreach (var (split, folds) in new[] { (DataSplits.Train, o.TrainFolds), (DataSplits.Val, o.ValFolds), (DataSplits.Test, o.TestFolds) })
            if (folds.Count > 0) d[split] = $"strat_fold {string.Join(",", folds)}";
        return d;
    }

    /// <summary>
    /// The <c>ecg_id</c> of every row as an integer string (<c>"12.0"</c> → <c>"12"</c>), checked before anything
    /// else: later joins (split files, labels, stores) match records by id, so ids must be integers and unique.
    /// </summary>
    private static string[] ReadIds(CsvTable db, int cId)
    {
        var ids = new string[db.Rows.Count];
        var firstRow = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < ids.Length; r++)
        {
            string cell = db.Rows[r][cId];
            string id = NormalizeId(cell);
            if (!long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
                throw new InputFormatException($"{db.At(r)}: ecg_id '{cell}' is not an integer");
            if (!firstRow.TryAdd(id, r))
                throw new InputFormatException($"{db.At(r)}: ecg_id {id} is already used on line {db.Lines[firstRow[id]]}; ids must be unique");
            ids[r] = id;
        }
        return ids;
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
    /// <exception cref="InputFormatException">The cell is not such a literal.</exception>
    public static IReadOnlyList<(string Code, double Likelihood)> ParseScpCodes(string cell, string file = "scp_codes", string id = "?")
    {
        string s = cell.Trim();
        if (!s.StartsWith('{') || !s.EndsWith('}'))
            throw new InputFormatException($"{file}: record {id}: scp_codes '{cell}' is not a dict literal");
        var list = new List<(string, double)>();
        foreach (Match m in ScpPair().Matches(s))
        {
            if (!double.TryParse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double likelihood))
                throw new InputFormatException($"{file}: record {id}: scp_codes '{cell}': likelihood '{m.Groups[2].Value}' of {m.Groups[1].Value} is not a number");
            list.Add((m.Groups[1].Value, likelihood));
        }
        if (list.Count == 0 && s.Length > 2 && s[1..^1].Trim().Length > 0)
            throw new InputFormatException($"{file}: record {id}: cannot parse scp_codes '{cell}'");
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
                throw new InputFormatException($"{file}: class columns [{string.Join(",", these)}] differ from the train file's [{string.Join(",", names)}]");
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

    private static string? FoldSplit(string foldCell, PtbXlOptions o, string where)
    {
        if (!int.TryParse(foldCell.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fold))
            throw new InputFormatException($"{where}: strat_fold '{foldCell}' is not an integer");
        return o.TrainFolds.Contains(fold) ? DataSplits.Train : o.ValFolds.Contains(fold) ? DataSplits.Val : o.TestFolds.Contains(fold) ? DataSplits.Test : null;
    }

    internal static float ParseBinary(string cell, string file, string id)
    {
        string s = cell.Trim();
        if (s is "1" or "1.0" or "True") return 1;
        if (s is "0" or "0.0" or "False" or "") return 0;
        throw new InputFormatException($"{file}: record {id}: label value '{cell}' is not 0/1");
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
