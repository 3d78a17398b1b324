using Deri.Data.Datasets;
using Deri.Data.Store;
using Deri.Tests.Cli;

namespace Deri.Tests.Data;

/// <summary>Several PTB-XL roots as one dataset (raw ptbxl + ptbxl-zscore) and the report corpus without test folds.</summary>
public class PtbXlRootsTests
{
    private static readonly DatasetRequest Request = new()
    {
        Task = PtbXlTask.None, Rate = 100, PtbXlFolds = PtbXlDataset.ParseFolds("1-7/8/9"),
    };

    /// <summary>
    /// Small copies of the shared metadata: <c>raw</c> = ptbxl rows with ecg_id ≤ 30 (holds id 24), <c>z</c> = the first
    /// five ptbxl-zscore rows (three with report and codes, two without) + the zscore row of id 24 (also in raw) and of
    /// id 134 (fold 9). Record folders are linked.
    /// </summary>
    private static (string Raw, string Z) SmallRoots(TempDir dir, Func<string, string>? editZ = null)
    {
        var raw = File.ReadLines(DataFiles.Shared("ptbxl", "ptbxl_database.csv")).ToList();
        dir.File("raw/ptbxl_database.csv", string.Join("\n", raw.Take(1).Concat(raw.Skip(1).Where(l => int.Parse(l.Split(',')[0]) <= 30))) + "\n");
        var z = File.ReadLines(DataFiles.Shared("ptbxl-zscore", "ptbxl_database.csv")).ToList();
        var zRows = z.Skip(1).Take(5).Concat(z.Where(l => l.StartsWith("24,") || l.StartsWith("134,"))).Select(editZ ?? (l => l));
        dir.File("z/ptbxl_database.csv", string.Join("\n", zRows.Prepend(z[0])) + "\n");
        string rawRoot = Path.Combine(dir.Path, "raw"), zRoot = Path.Combine(dir.Path, "z");
        File.Copy(DataFiles.Shared("ptbxl", "scp_statements.csv"), Path.Combine(rawRoot, "scp_statements.csv"));
        File.Copy(DataFiles.Shared("ptbxl-zscore", "scp_statements.csv"), Path.Combine(zRoot, "scp_statements.csv"));
        Directory.CreateSymbolicLink(Path.Combine(rawRoot, "records100"), DataFiles.Shared("ptbxl", "records100"));
        Directory.CreateSymbolicLink(Path.Combine(zRoot, "records100"), DataFiles.Shared("ptbxl-zscore", "records100"));
        return (rawRoot, zRoot);
    }

    [Fact]
    public void AnEcgIdInBothRootsIsKeptOnceFromTheFirstRoot()
    {
        using var dir = new TempDir();
        var (raw, z) = SmallRoots(dir);
        int rawRows = File.ReadLines(Path.Combine(raw, "ptbxl_database.csv")).Count() - 1;
        var ds = DatasetCatalog.Load("ptbxl", [raw, z], Request);
        // raw rows + 7 zscore rows − the one duplicate (24).
        Assert.Equal(rawRows + 7 - 1, ds.Entries.Count);
        Assert.Single(ds.Entries, e => e.Id == "24");
        Assert.StartsWith(raw, ds.Entries.Single(e => e.Id == "24").RecordPath);
        Assert.Equal("test", ds.Entries.Single(e => e.Id == "134").Split);
        var dup = Assert.Single(ds.Skipped);
        Assert.Equal("24", dup.Id);
        Assert.Contains($"also in {raw}, which is kept (in {z})", dup.Reason);

        // Given the other way round, the zscore copy is the one kept.
        var swapped = DatasetCatalog.Load("ptbxl", [z, raw], Request);
        Assert.StartsWith(z, swapped.Entries.Single(e => e.Id == "24").RecordPath);

        var e = Assert.Throws<InputValueException>(() => DatasetCatalog.Load("ptbxl", [raw, raw + "/"], Request));
        Assert.Contains("is given twice", e.Message);
        e = Assert.Throws<InputValueException>(() => DatasetCatalog.Load("cpsc", [raw, z], Request));
        Assert.Contains("several dataset folders are supported for ptbxl only", e.Message);
    }

    [Fact]
    public void PrepareTakesSeveralRootsAndListsRowsWithoutLabels()
    {
        using var dir = new TempDir();
        var (raw, z) = SmallRoots(dir);
        int rawRows = File.ReadLines(Path.Combine(raw, "ptbxl_database.csv")).Count() - 1;
        string store = Path.Combine(dir.Path, "s");
        // Comma list and repeated option are the same list.
        var run = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", $"{raw},{z}", "--out", store, "--task", "none",
            "--source-rate", "100", "--target-rate", "100", "--folds", "1-7/8/9", "--chunk", "8"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"ptbxl: {rawRows + 6} records listed (2 without a report", run.Stderr);
        using (var s = EcgStore.Open(store))
        {
            Assert.Equal(rawRows + 6, s.Count);
            Assert.Single(s.Entries, x => x.Id == "24");
            Assert.Equal(2, s.Entries.Count(x => string.IsNullOrEmpty(x.Report)));
        }
        Assert.Contains("24,\"duplicate: ecg_id also in", File.ReadAllText(Path.Combine(store, EcgStore.SkippedFile)));

        // With labels, the two zscore rows without scp_codes are left out and listed, not fatal.
        string labelled = Path.Combine(dir.Path, "super");
        run = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", raw, "--root", z, "--out", labelled, "--task", "super",
            "--source-rate", "100", "--target-rate", "100", "--folds", "1-7/8/9"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        string skipped = File.ReadAllText(Path.Combine(labelled, EcgStore.SkippedFile));
        Assert.Contains($"10000,\"no scp_codes, so no labels (in {z})\"", skipped);
    }

    [Fact]
    public void TheSharedPtbXlRootsKeepEveryPatientInOneSplit()
    {
        var ds = DatasetCatalog.Load("ptbxl", [DataFiles.Shared("ptbxl"), DataFiles.Shared("ptbxl-zscore")], Request);
        // 434 + 1,625 records, 27 of them in both roots.
        Assert.Equal(434 + 1625 - 27, ds.Entries.Count);
        Assert.Equal(27, ds.Skipped.Count(s => s.Reason.StartsWith("duplicate")));
        Assert.Empty(ds.PatientsInSeveralSplits());
        Assert.All(ds.Entries, e => Assert.NotNull(e.Patient));
        var bySplit = ds.Entries.GroupBy(e => e.Split).ToDictionary(g => g.Key, g => g.Select(e => e.Patient!).ToHashSet());
        Assert.Equal(3, bySplit.Count);
        Assert.Empty(bySplit["train"].Intersect(bySplit["test"]));
        Assert.Empty(bySplit["val"].Intersect(bySplit["test"]));
        Assert.Empty(bySplit["train"].Intersect(bySplit["val"]));
    }

    [Fact]
    public void APatientInTwoSplitsOrAConflictingDuplicateIsRefused()
    {
        using (var dir = new TempDir())
        {
            // Row 10010 (fold 4, train) is given the patient of row 134 (fold 9, test).
            var (raw, z) = SmallRoots(dir, l => l.StartsWith("10010,") ? "10010,10784.0" + l[l.IndexOf(",4,", StringComparison.Ordinal)..] : l);
            var e = Assert.Throws<InputFormatException>(() => DatasetCatalog.Load("ptbxl", [raw, z], Request));
            Assert.Contains("1 patients have records in more than one split (patient 10784 in train and test)", e.Message);
        }
        using (var dir = new TempDir())
        {
            // The zscore copy of id 24 names another patient than the raw row.
            var (raw, z) = SmallRoots(dir, l => l.StartsWith("24,") ? "24,1.0" + l[l.IndexOf(",3,", StringComparison.Ordinal)..] : l);
            var e = Assert.Throws<InputFormatException>(() => DatasetCatalog.Load("ptbxl", [raw, z], Request));
            Assert.Contains("ecg_id 24 is patient 1 in split train in", e.Message);
        }
    }

    [Fact]
    public void TheReportCorpusNeverHoldsATestFoldReport()
    {
        string corpusFile = DataFiles.Shared("ptbxl-reports", "ptbxl_reports.csv");
        var all = PtbXlReportCorpus.Read(corpusFile, [10]);
        var corpus = PtbXlReportCorpus.Read(DataFiles.Shared("ptbxl-reports"), [9]);
        Assert.Equal(10971, all.Reports.Count + all.Empty);
        Assert.Equal(1245, corpus.ExcludedByFold);
        Assert.Equal(10971 - 1245, corpus.Reports.Count + corpus.Empty);
        Assert.DoesNotContain(corpus.Reports, r => r.Fold == 9);

        // Every fold-9 id of all three shared metadata files is absent.
        var testIds = new[] { ("ptbxl", "ptbxl_database.csv"), ("ptbxl-zscore", "ptbxl_database.csv"), ("ptbxl-reports", "ptbxl_reports.csv") }
            .SelectMany(f => DatasetFoldIds(DataFiles.Shared(f.Item1, f.Item2), 9)).ToHashSet();
        Assert.True(testIds.Count > 1245);
        Assert.DoesNotContain(corpus.Reports, r => testIds.Contains(r.Id));

        // Through the CLI: no fold-9 report whose text is unique in the corpus reaches the file.
        using var dir = new TempDir();
        string o = Path.Combine(dir.Path, "reports_extra.txt");
        string line = CliRunner.Ok("data", "reports", "--root", corpusFile, "--exclude-folds", "9", "--out", o);
        Assert.Contains($"{corpus.Reports.Count} reports; left out 1245 of folds 9", line);
        var written = File.ReadAllLines(o);
        Assert.Equal(corpus.Reports.Select(r => r.Text), written);
        var unique = all.Reports.GroupBy(r => r.Text).Where(g => g.Count() == 1).Select(g => g.Single()).Where(r => r.Fold == 9).Select(r => r.Text).ToList();
        Assert.True(unique.Count > 100, $"only {unique.Count} unique fold-9 reports");
        Assert.Empty(unique.Intersect(written));

        // Ids excluded by a store's test split go too, whatever the corpus says their fold is.
        var byId = PtbXlReportCorpus.Read(corpusFile, [9], excludeIds: new HashSet<string> { corpus.Reports[0].Id });
        Assert.Equal(1, byId.ExcludedById);
        Assert.DoesNotContain(byId.Reports, r => r.Id == corpus.Reports[0].Id);
    }

    [Fact]
    public void TheReportCorpusRefusesRowsWithoutAFoldAndAnEmptyExclusion()
    {
        using var dir = new TempDir();
        string f = dir.File("r.csv", "ecg_id,strat_fold,report\n1,3,sinus rhythm\n2,,left axis deviation\n");
        var e = Assert.Throws<InputFormatException>(() => PtbXlReportCorpus.Read(f, [9]));
        Assert.Contains($"{f}: line 3: strat_fold '' is not an integer", e.Message);
        Assert.Throws<InputValueException>(() => PtbXlReportCorpus.Read(f, []));
        var run = CliRunner.Run(["data", "reports", "--root", f, "--out", Path.Combine(dir.Path, "o.txt")]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--exclude-folds is required", run.Stderr);
    }

    private static IEnumerable<string> DatasetFoldIds(string csv, int fold)
    {
        var t = CsvTable.Read(csv);
        int cId = t.Column("ecg_id"), cFold = t.Column("strat_fold");
        return t.Rows.Where(r => r[cFold].Trim() == fold.ToString()).Select(r => ((long)double.Parse(r[cId])).ToString());
    }
}
