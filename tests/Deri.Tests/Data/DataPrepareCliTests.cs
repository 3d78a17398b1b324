using System.Text.Json;
using Deri.Data.Store;
using Deri.Tests.Cli;

namespace Deri.Tests.Data;

public class DataPrepareCliTests
{
    /// <summary>A PTB-XL root with the first rows of the shared metadata; the records folder is linked, not copied.</summary>
    private static void SmallPtbXlRoot(TempDir dir, int rows)
    {
        var lines = File.ReadLines(DataFiles.Shared("ptbxl", "ptbxl_database.csv")).Take(rows + 1);
        dir.File("ptbxl/ptbxl_database.csv", string.Join("\n", lines) + "\n");
        File.Copy(DataFiles.Shared("ptbxl", "scp_statements.csv"), Path.Combine(dir.Path, "ptbxl", "scp_statements.csv"));
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "ptbxl", "records500"), DataFiles.Shared("ptbxl", "records500"));
    }

    [Fact]
    public void AHeaderOnlyCsvIsAnErrorAndMakesNoStore()
    {
        using var dir = new TempDir();
        dir.File("gen/records.csv", "record,report\n");
        string store = Path.Combine(dir.Path, "store");
        var run = CliRunner.Run(["data", "prepare", "--dataset", "generic", "--root", Path.Combine(dir.Path, "gen"), "--out", store]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("records.csv: no records (the file holds only a header)", run.Stderr);
        Assert.False(Directory.Exists(store));
    }

    [Fact]
    public void PreparesAFewPtbXlRecordsAndReopensTheStore()
    {
        using var dir = new TempDir();
        SmallPtbXlRoot(dir, 6);
        string root = Path.Combine(dir.Path, "ptbxl"), store = Path.Combine(dir.Path, "store");
        string splits = Path.Combine(SharedData.Root, "splits", "ptbxl");
        var run = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", store, "--task", "rhythm", "--splits", splits, "--workers", "2", "--chunk", "4"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        string o = run.Stdout;
        Assert.Contains("ptbxl: 6 records listed", run.Stderr);
        Assert.Contains("6 records (train 6)", o);
        Assert.Contains("0 bad records", o);
        using (var s = EcgStore.Open(store))
        {
            Assert.Equal(12, s.LabelNames.Count);
            Assert.Equal("1", s.Entries[0].Id);
            Assert.Equal(1f, s.Entries[0].Labels[s.LabelNames.ToList().IndexOf("SR")]);
            Assert.InRange(s.Signal(0).ToArray().Max(), 0.999f, 1f);
        }
        string again = CliRunner.Ok("data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", store, "--task", "rhythm", "--splits", splits);
        Assert.Contains("already prepared", again);
    }

    [Fact]
    public void TargetRateStoresTenSecondsAtThatRate()
    {
        using var dir = new TempDir();
        SmallPtbXlRoot(dir, 3);
        string root = Path.Combine(dir.Path, "ptbxl"), s500 = Path.Combine(dir.Path, "s500"), s100 = Path.Combine(dir.Path, "s100");
        CliRunner.Ok("data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", s500, "--task", "none", "--normalize", "none");
        CliRunner.Ok("data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", s100, "--task", "none", "--normalize", "none", "--target-rate", "100");
        using var a = EcgStore.Open(s500);
        using var b = EcgStore.Open(s100);
        Assert.Equal(5000, a.Index.Length);
        Assert.Equal(1000, b.Index.Length);
        Assert.Equal(100, b.Index.SamplingRate);
        // The 100 Hz store is the 500 Hz signal resampled: compare the mean absolute amplitude per record (mV).
        for (int r = 0; r < 3; r++)
        {
            double m5 = a.Signal(r).ToArray().Average(v => Math.Abs(v)), m1 = b.Signal(r).ToArray().Average(v => Math.Abs(v));
            Assert.InRange(m1 / m5, 0.9, 1.1);
        }
        var bad = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", Path.Combine(dir.Path, "s0"), "--target-rate", "0"]);
        Assert.Equal(2, bad.ExitCode); // a value out of its range is a usage error, like --k 0
        Assert.Contains("--target-rate", bad.Stderr);
    }

    [Fact]
    public void BadArgumentsAreClearErrors()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run(["data", "prepare", "--dataset", "nope", "--root", dir.Path, "--out", Path.Combine(dir.Path, "s")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("unknown dataset 'nope'", r.Stderr);
        r = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", Path.Combine(dir.Path, "missing"), "--out", Path.Combine(dir.Path, "s")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("dataset folder not found", r.Stderr);
    }

    [Theory]
    [InlineData("1-8/8/9", "fold 8 is in both train and val")]
    [InlineData("9-1/8/10", "range '9-1' is reversed")]
    public void OverlappingOrReversedFoldsAreUsageErrors(string folds, string message)
    {
        using var dir = new TempDir();
        SmallPtbXlRoot(dir, 3);
        string store = Path.Combine(dir.Path, "s");
        var r = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", Path.Combine(dir.Path, "ptbxl"), "--out", store, "--folds", folds]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.False(Directory.Exists(store + EcgStoreBuilder.PartialSuffix));
    }

    [Fact]
    public void EmptySplitsWarnAndHeaderOnlyMetadataIsAnError()
    {
        using var dir = new TempDir();
        // The first six shared rows are folds 3, 2, 5, 3, 4, 4: with the default folds 1-8/9/10 val and test are empty.
        SmallPtbXlRoot(dir, 6);
        string root = Path.Combine(dir.Path, "ptbxl");
        var r = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", Path.Combine(dir.Path, "s"), "--task", "none", "--chunk", "3"]);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("warning: ptbxl: the test split is empty (no listed record in strat_fold 10)", r.Stderr);
        Assert.Contains("warning: ptbxl: the val split is empty (no listed record in strat_fold 9)", r.Stderr);

        string db = Path.Combine(root, "ptbxl_database.csv");
        File.WriteAllText(db, File.ReadLines(db).First() + "\n");
        r = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", Path.Combine(dir.Path, "s0")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: {db}: no records (the file holds only a header)", r.Stderr.Trim());
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "s0")));
    }

    [Fact]
    public void RowsWithoutScpCodesOrReportDoNotAbortPrepare()
    {
        // Modelled on shared/data/ptbxl-zscore, where about half the rows have neither report nor scp_codes.
        using var dir = new TempDir();
        string root = Path.Combine(dir.Path, "zscore");
        var lines = File.ReadLines(DataFiles.Shared("ptbxl-zscore", "ptbxl_database.csv")).Take(6);
        dir.File("zscore/ptbxl_database.csv", string.Join("\n", lines) + "\n");
        File.Copy(DataFiles.Shared("ptbxl", "scp_statements.csv"), Path.Combine(root, "scp_statements.csv"));
        Directory.CreateSymbolicLink(Path.Combine(root, "records100"), DataFiles.Shared("ptbxl-zscore", "records100"));

        string store = Path.Combine(dir.Path, "s");
        var run = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", store, "--task", "none", "--source-rate", "100", "--target-rate", "100"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("ptbxl: 5 records listed (2 without a report: kept for ECG-only use, listed in no_report.csv", run.Stderr);
        Assert.Contains("2 without a report (no_report.csv)", run.Stdout);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(store, EcgStore.NoReportFile)).Length);

        // The labelled default task leaves those rows out (skipped.csv); --rate is the old name of --source-rate.
        string labelled = Path.Combine(dir.Path, "labelled");
        run = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", labelled, "--rate", "100", "--target-rate", "100"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("ptbxl: 3 records listed, 2 metadata rows left out", run.Stderr);
        Assert.Contains("10000,\"no scp_codes, so no labels\"", File.ReadAllText(Path.Combine(labelled, EcgStore.SkippedFile)));

        // --require-report leaves the records without a report out instead of storing them.
        run = CliRunner.Run(["data", "prepare", "--dataset", "ptbxl", "--root", root, "--out", Path.Combine(dir.Path, "reported"), "--task", "none", "--source-rate", "100", "--target-rate", "100", "--require-report"]);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("ptbxl: 3 records listed, 2 metadata rows left out", run.Stderr);
    }

    [Fact]
    public void RateOptionsSayWhichIsReadAndWhichIsStored()
    {
        string help = CliRunner.Ok("data", "prepare", "--help");
        Assert.Contains("--source-rate", help);
        Assert.Contains("which recordings to READ", help);
        Assert.Contains("Not the stored rate (see --target-rate)", help);
        Assert.Contains("Sampling rate of the STORED signals", help);
    }

    [Fact]
    public void BenchDataPrintsOneJsonLine()
    {
        using var dir = new TempDir();
        SmallPtbXlRoot(dir, 3);
        string o = CliRunner.Ok("bench", "data", "--records", Path.Combine(dir.Path, "ptbxl", "records500"), "--seconds", "0.2", "--workers", "1");
        var line = Assert.Single(o.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var doc = JsonDocument.Parse(line);
        Assert.True(doc.RootElement.GetProperty("preprocess_records_per_s").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("store_read_records_per_s").GetDouble() > 0);
    }

    [Fact]
    public void BenchDataReadsASparseStorePastFourGiB()
    {
        string o = CliRunner.Ok("bench", "data", "--sparse-gib", "4.2", "--seconds", "0.2", "--workers", "1", "--batch", "8");
        var line = Assert.Single(o.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var doc = JsonDocument.Parse(line);
        Assert.True(doc.RootElement.GetProperty("store_sparse").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("store_bytes").GetInt64() > 4.2 * (1L << 30) - 120_000);
        Assert.Equal(37_581, doc.RootElement.GetProperty("store_records").GetInt32());
        Assert.True(doc.RootElement.GetProperty("store_read_records_per_s").GetDouble() > 0);
        var bad = CliRunner.Run(["bench", "data", "--sparse-gib", "1", "--store", "x"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--sparse-gib makes its own store", bad.Stderr);
    }
}
