using System.Globalization;
using Deri.Data.Preprocessing;
using Deri.Signals;
using Deri.IO;

namespace Deri.Data.Datasets;

/// <summary>Options of the CPSC2018 and CSN listings.</summary>
public sealed record ChallengeOptions
{
    /// <summary>Label source: exact SNOMED codes / REFERENCE numbers (default) or the paper's split CSV columns.</summary>
    public LabelSource Labels { get; init; } = LabelSource.Derived;

    /// <summary>Folder with the paper's split CSVs (<c>icbeb_{train,val,test}.csv</c> or <c>chapman_…</c>). When given, only
    /// the records listed there are used, in the split they are listed in; otherwise a seeded 7:1:2 split.</summary>
    public string? SplitsDir { get; init; }

    /// <summary>Validation fraction of the seeded split (0.1).</summary>
    public double ValFraction { get; init; } = 0.1;

    /// <summary>Test fraction of the seeded split (0.2).</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>Seed of the seeded split.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>The paper's per-dataset split CSVs: record id → split and 0/1 class columns.</summary>
internal static class PaperSplitFiles
{
    public static Dictionary<string, (string Split, float[] Labels)> Read(string dir, string stem, Func<CsvTable, string[], string> id, IReadOnlyList<string> classNames)
    {
        var result = new Dictionary<string, (string, float[])>(StringComparer.Ordinal);
        foreach (string split in new[] { DataSplits.Train, DataSplits.Val, DataSplits.Test })
        {
            var t = CsvTable.Read(Path.Combine(dir, $"{stem}_{split}.csv"));
            var cols = classNames.Select(t.Column).ToArray();
            foreach (var r in t.Rows)
            {
                string key = id(t, r);
                var labels = new float[cols.Length];
                for (int k = 0; k < cols.Length; k++) labels[k] = PtbXlDataset.ParseBinary(r[cols[k]], t.Path, key);
                result[key] = (split, labels);
            }
        }
        return result;
    }
}

/// <summary>
/// CPSC2018 (ICBEB), 9 classes, 500 Hz, variable length; DERI keeps the first 2500 samples zero-padded to 5000.
/// Two layouts: the original one (MAT v5 <c>A0001.mat</c> + <c>REFERENCE.csv</c> or <c>REFERENCE_with_text.csv</c>
/// with label numbers 1–9) and the PhysioNet challenge one (<c>.hea</c> + <c>.mat</c>, SNOMED codes in <c>#Dx:</c>).
/// </summary>
public static class Cpsc2018Dataset
{
    /// <summary>Lists CPSC2018 under <paramref name="root"/>; the layout is chosen by the presence of a REFERENCE file.</summary>
    public static EcgDataset Load(string root, ChallengeOptions? options = null)
    {
        options ??= new ChallengeOptions();
        var map = SnomedLabelMap.Cpsc2018;
        string? reference = new[] { "REFERENCE_with_text.csv", "REFERENCE.csv" }.Select(f => Path.Combine(root, f)).FirstOrDefault(File.Exists);
        var items = new List<(string Id, string Path, float[] Labels, string Report)>();
        var skipped = new List<DatasetIssue>();
        if (reference != null)
        {
            var t = CsvTable.Read(reference).RequireRows();
            int cRec = t.Column("Recording");
            int[] cLab = new[] { "First_label", "Second_label", "Third_label" }.Select(t.TryColumn).Where(i => i >= 0).ToArray();
            if (cLab.Length == 0) t.Column("First_label");
            int cText = t.TryColumn("reports");
            var firstRow = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int row = 0; row < t.Rows.Count; row++)
            {
                var r = t.Rows[row];
                string id = r[cRec].Trim();
                if (id.Length == 0) throw new InputFormatException($"{t.At(row)}: empty Recording name");
                if (!firstRow.TryAdd(id, row))
                    throw new InputFormatException($"{t.At(row)}: record {id} is already listed on line {t.Lines[firstRow[id]]}; records must be unique");
                string path = Path.Combine(root, id + ".mat");
                if (!File.Exists(path)) { skipped.Add(new DatasetIssue(id, "record file missing")); continue; }
                var labels = new float[map.Names.Count];
                foreach (int c in cLab)
                {
                    string cell = r[c].Trim();
                    if (cell.Length == 0) continue;
                    labels[IndexOf(map, ReferenceClass(cell, $"{t.At(row)}: record {id}"))] = 1;
                }
                string report = cText >= 0 && r[cText].Trim().Length > 0 ? r[cText].Trim() : map.Describe(labels);
                items.Add((id, path, labels, report));
            }
        }
        else
        {
            foreach (var (id, header) in ListHeaders(root))
            {
                var labels = map.Map(WfdbHeader.Read(header).Diagnoses);
                items.Add((id, header, labels, map.Describe(labels)));
            }
        }
        return Finish("cpsc", items, skipped, map, options, "icbeb", (t, r) => r[t.Column("filename")].Trim(), PreprocessConfig.Cpsc2018);
    }

    /// <summary>
    /// The class named by a REFERENCE label cell: an integer 1–9 (<c>"5"</c>, or <c>"5.0"</c> as pandas writes a column
    /// with blanks). Anything else, <c>"1.5"</c> included, is an error rather than rounded to a class.
    /// </summary>
    private static string ReferenceClass(string cell, string where)
    {
        if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v == Math.Floor(v)
            && v is >= int.MinValue and <= int.MaxValue && SnomedLabelMap.CpscReferenceClasses.TryGetValue((int)v, out string? name))
            return name;
        throw new InputFormatException($"{where}: label '{cell}' is not a class number 1–9");
    }

    internal static int IndexOf(SnomedLabelMap map, string name)
    {
        for (int i = 0; i < map.Names.Count; i++) if (map.Names[i] == name) return i;
        throw new ArgumentException($"class {name} not in the label map");
    }

    /// <summary>Every <c>*.hea</c> under <paramref name="root"/> (recursively), sorted by record name.</summary>
    internal static IEnumerable<(string Id, string Header)> ListHeaders(string root)
    {
        if (!Directory.Exists(root)) throw new InputFileNotFoundException($"dataset folder not found: {root}");
        return Directory.EnumerateFiles(root, "*.hea", SearchOption.AllDirectories)
            .Select(p => (Path.GetFileNameWithoutExtension(p), p))
            .OrderBy(p => p.Item1, StringComparer.Ordinal);
    }

    internal static EcgDataset Finish(string name, List<(string Id, string Path, float[] Labels, string Report)> items, List<DatasetIssue> skipped,
        SnomedLabelMap map, ChallengeOptions options, string stem, Func<CsvTable, string[], string> splitId, PreprocessConfig preprocess)
    {
        var entries = new List<DatasetEntry>();
        if (options.SplitsDir != null)
        {
            var files = PaperSplitFiles.Read(options.SplitsDir, stem, splitId, map.Names);
            foreach (var it in items)
            {
                if (!files.TryGetValue(it.Id, out var f)) { skipped.Add(new DatasetIssue(it.Id, $"not in the {stem} split files")); continue; }
                var labels = options.Labels == LabelSource.SplitFiles ? f.Labels : it.Labels;
                entries.Add(new DatasetEntry(it.Id, it.Path, it.Report, labels, f.Split));
            }
        }
        else
        {
            if (options.Labels == LabelSource.SplitFiles) throw new InputValueException($"{name}: labels from split files need the splits folder");
            var kept = items.Where(it =>
            {
                if (it.Labels.Any(v => v > 0)) return true;
                skipped.Add(new DatasetIssue(it.Id, $"no diagnosis among the {map.Names.Count} classes"));
                return false;
            }).ToList();
            var splits = DatasetSplitter.Assign(kept.Count, options.ValFraction, options.TestFraction, options.Seed);
            entries.AddRange(kept.Select((it, i) => new DatasetEntry(it.Id, it.Path, it.Report, it.Labels, splits[i])));
        }
        return new EcgDataset(name, map.Names, entries, preprocess, skipped)
        {
            ExpectedSplits = options.SplitsDir != null
                ? EcgDataset.AllSplits($"the {stem} split files")
                : EcgDataset.SeededSplits(options.ValFraction, options.TestFraction),
        };
    }
}

/// <summary>
/// Chapman-Shaoxing-Ningbo (CSN), 38 classes, 500 Hz, 10 s: every WFDB header under the root (the 1.0.0 layout
/// <c>WFDBRecords/01/010/JS00001.hea</c> and the challenge layout alike), labels from the <c>#Dx:</c> SNOMED codes.
/// </summary>
public static class CsnDataset
{
    /// <summary>Lists CSN under <paramref name="root"/>.</summary>
    public static EcgDataset Load(string root, ChallengeOptions? options = null)
    {
        options ??= new ChallengeOptions();
        var map = SnomedLabelMap.Csn;
        var items = new List<(string Id, string Path, float[] Labels, string Report)>();
        foreach (var (id, header) in Cpsc2018Dataset.ListHeaders(root))
        {
            var labels = map.Map(WfdbHeader.Read(header).Diagnoses);
            items.Add((id, header, labels, map.Describe(labels)));
        }
        return Cpsc2018Dataset.Finish("csn", items, [], map, options, "chapman",
            (t, r) => Path.GetFileNameWithoutExtension(r[t.Column("ecg_path")].Trim()), PreprocessConfig.Default);
    }
}

/// <summary>Options of the generic listing.</summary>
public sealed record GenericOptions
{
    /// <summary>CSV with columns <c>record,report[,split][,label columns…]</c>; relative to the root unless absolute.</summary>
    public string Csv { get; init; } = "records.csv";

    /// <summary>Validation fraction when the CSV has no <c>split</c> column.</summary>
    public double ValFraction { get; init; } = 0.1;

    /// <summary>Test fraction when the CSV has no <c>split</c> column.</summary>
    public double TestFraction { get; init; }

    /// <summary>Seed of that split.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>
/// A folder of records (WFDB, or single-file DICOM/aECG/MUSE XML/EDF/BDF exports) plus a CSV <c>record,report[,split][,labels…]</c>: every column after those is a 0/1 class.
/// Each record may be listed once; a row with an empty report is kept for ECG-only use and listed by
/// <see cref="EcgDataset.Unreported"/>.
/// </summary>
public static class GenericDataset
{
    /// <summary>Lists the records of the CSV; a record path is relative to <paramref name="root"/> and may omit <c>.hea</c>
    /// (<c>.dcm</c>, <c>.xml</c>, <c>.edf</c>, <c>.bdf</c> files are named with their extension).</summary>
    public static EcgDataset Load(string root, GenericOptions? options = null)
    {
        options ??= new GenericOptions();
        string csvPath = Path.IsPathRooted(options.Csv) ? options.Csv : Path.Combine(root, options.Csv);
        var t = CsvTable.Read(csvPath).RequireRows();
        int cRec = t.Column("record"), cRep = t.Column("report"), cSplit = t.TryColumn("split");
        var labelCols = Enumerable.Range(0, t.Header.Count).Where(i => i != cRec && i != cRep && i != cSplit).ToArray();
        var names = labelCols.Select(i => t.Header[i]).ToList();
        var rows = new List<(string Id, string Path, string Report, float[] Labels, string? Split)>();
        // Two rows naming one record would store it twice under one id: an error, whichever spelling (a.hea, ./a) is used.
        var firstRow = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int row = 0; row < t.Rows.Count; row++)
        {
            var r = t.Rows[row];
            string rec = r[cRec].Trim();
            if (rec.Length == 0) throw new InputFormatException($"{t.At(row)}: empty record name");
            string path = Path.Combine(root, rec);
            string ext = Path.GetExtension(path).ToLowerInvariant();
            if (ext is not (".hea" or ".mat") && !RecordReader.ClinicalExtensions.Contains(ext)) path += ".hea";
            if (!firstRow.TryAdd(Path.GetFullPath(path), row))
                throw new InputFormatException($"{t.At(row)}: record {rec} is already listed on line {t.Lines[firstRow[Path.GetFullPath(path)]]}; records must be unique");
            var labels = labelCols.Select(c => PtbXlDataset.ParseBinary(r[c], t.At(row), rec)).ToArray();
            string? split = null;
            if (cSplit >= 0)
            {
                split = r[cSplit].Trim().ToLowerInvariant();
                if (split == "validation") split = DataSplits.Val;
                if (split is not (DataSplits.Train or DataSplits.Val or DataSplits.Test))
                    throw new InputFormatException($"{t.At(row)}: record {rec}: split '{r[cSplit]}' is not train, val or test");
            }
            // An empty report is kept (ECG-only jobs and probing can use the record); EcgDataset.Unreported lists it.
            rows.Add((rec, path, r[cRep].Trim(), labels, split));
        }
        var seeded = cSplit < 0 ? DatasetSplitter.Assign(rows.Count, options.ValFraction, options.TestFraction, options.Seed) : null;
        var entries = rows.Select((x, i) => new DatasetEntry(x.Id, x.Path, x.Report, x.Labels, x.Split ?? seeded![i])).ToList();
        return new EcgDataset("generic", names, entries, PreprocessConfig.Default)
        {
            ExpectedSplits = cSplit >= 0 ? EcgDataset.AllSplits("the split column") : EcgDataset.SeededSplits(options.ValFraction, options.TestFraction),
        };
    }
}
