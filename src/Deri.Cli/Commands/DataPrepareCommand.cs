using System.CommandLine;
using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Spectre.Console;

namespace Deri.Cli.Commands;

/// <summary><c>deri data prepare</c>: lists a dataset, preprocesses every record and writes a memory-mapped store.</summary>
public static class DataPrepareCommand
{
    /// <summary>Builds the <c>reports</c> subcommand: PTB-XL report texts for the text side, never those of the test folds.</summary>
    public static Command CreateReports()
    {
        var root = new Option<string>("--root") { Description = "Report corpus: a CSV with ecg_id, strat_fold, report (and scp_codes), or its folder (e.g. shared/data/ptbxl-reports)", Required = true };
        var excludeFolds = OptionRules.IntList("--exclude-folds", "Folds whose reports are left out: the test fold(s), e.g. 9");
        excludeFolds.Required = true;
        var excludeStore = OptionRules.StringList("--exclude-store", "Stores whose test-split ids are left out too, whatever the corpus says their fold is");
        var report = new Option<string>("--report") { Description = "original (the report column) or composed (English, from scp_codes; needs --statements)", DefaultValueFactory = _ => "original" };
        var statements = new Option<string?>("--statements") { Description = "scp_statements.csv for composed reports" };
        var output = new Option<string>("--out") { Description = "Text file to write, one report per line", Required = true };
        var cmd = new Command("reports", "Report texts of a PTB-XL metadata CSV for the text side, leaving out every record of the test fold(s)")
        {
            root, excludeFolds, excludeStore, report, statements, output,
        };
        // The list option has an empty default, so Required alone never fires: a missing or empty list is a usage error here.
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(excludeFolds) is not { Length: > 0 })
                r.AddError("--exclude-folds is required: give the test fold(s), e.g. 9, so that no test report reaches the text side");
        });
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var kind = ParseReport(result.GetValue(report)!);
            var scp = result.GetValue(statements) is { } st ? PtbXlDataset.ReadStatements(st) : null;
            var testIds = new HashSet<string>(StringComparer.Ordinal);
            var stores = result.GetValue(excludeStore) ?? [];
            foreach (string dir in stores)
            {
                using var store = EcgStore.Open(dir);
                testIds.UnionWith(store.Entries.Where(e => e.Split == DataSplits.Test).Select(e => e.Id));
            }
            var corpus = PtbXlReportCorpus.Read(result.GetValue(root)!, result.GetValue(excludeFolds)!, kind, scp, stores.Length > 0 ? testIds : null);
            string o = result.GetValue(output)!;
            Deri.IO.AtomicFile.WriteAllLines(o, corpus.Reports.Select(r => r.Text));
            stdout.WriteLine($"{o}: {corpus.Reports.Count} reports; left out {corpus.ExcludedByFold} of folds {string.Join(",", result.GetValue(excludeFolds)!)}"
                + (stores.Length > 0 ? $", {corpus.ExcludedById} in the test split of {string.Join(", ", stores)}" : "") + $", {corpus.Empty} without text");
            return 0;
        });
        return cmd;
    }

    private static PtbXlReport ParseReport(string s) => s switch
    {
        "original" => PtbXlReport.Original,
        "composed" => PtbXlReport.Composed,
        _ => throw new CliUsageException($"--report must be original or composed, got '{s}'"),
    };

    /// <summary>Builds the <c>prepare</c> subcommand.</summary>
    public static Command Create()
    {
        var dataset = new Option<string>("--dataset") { Description = "mimic, ptbxl, cpsc, csn or generic", Required = true };
        var root = OptionRules.StringList("--root",
            "Dataset folder; PTB-XL takes several (e.g. ptbxl and ptbxl-zscore): an ecg_id in several is kept once, from the first listed", required: true);
        var output = new Option<string>("--out") { Description = "Store folder to write (a finished store is reopened, an interrupted one resumed)", Required = true };
        var task = new Option<string>("--task") { Description = "PTB-XL label task: super, sub, form, rhythm or none", DefaultValueFactory = _ => "super" };
        // Was --rate, which read like the stored rate; the old name stays an alias so existing scripts keep working.
        var sourceRate = new Option<int>("--source-rate", "--rate")
        {
            Description = "PTB-XL only: which recordings to READ: 500 (records500/, filename_hr) or 100 (records100/, filename_lr). "
                + "Not the stored rate (see --target-rate)",
            DefaultValueFactory = _ => 500,
        };
        var labels = new Option<string>("--labels") { Description = "Label source: derived (metadata / exact SNOMED codes) or splits (the paper's split CSVs)", DefaultValueFactory = _ => "derived" };
        var splits = new Option<string?>("--splits") { Description = "Folder of the paper's split CSVs for this dataset (e.g. shared/splits/ptbxl)" };
        var report = new Option<string>("--report") { Description = "PTB-XL report text: original or composed (English, from SCP statement descriptions)", DefaultValueFactory = _ => "original" };
        var csv = new Option<string>("--csv") { Description = "Generic dataset: CSV record,report[,split][,labels…]", DefaultValueFactory = _ => "records.csv" };
        var seed = new Option<int>("--seed") { Description = "Seed of seeded splits", DefaultValueFactory = _ => 42 };
        var valFraction = new Option<double?>("--val-fraction") { Description = "Validation fraction of seeded splits (MIMIC 0.02, others 0.1)" };
        var normalize = new Option<string>("--normalize") { Description = "minmax (global), none or zscore (per lead)", DefaultValueFactory = _ => "minmax" };
        var targetRate = new Option<int>("--target-rate")
        {
            Description = "Sampling rate of the STORED signals in Hz, any dataset: every record is resampled to it and keeps 10 s, "
                + "i.e. 10 × rate samples (500 as the paper; 100 for CPU-sized runs)",
            DefaultValueFactory = _ => 500,
        };
        var cropStart = new Option<int>("--crop-start") { Description = "First sample kept (at the target rate)", DefaultValueFactory = _ => 0 };
        var cropLength = new Option<int?>("--crop-length") { Description = "Samples kept (at the target rate) before zero-padding to 10 s (CPSC default: 5 s)" };
        var normalizePadding = new Option<bool>("--normalize-padding") { Description = "Include the zero padding in the normalisation statistics (default: only recorded samples are normalised, padding stays 0)" };
        var float16 = new Option<bool>("--float16") { Description = "Store signals as float16 (half the size)" };
        var workers = new Option<int>("--workers") { Description = "Records preprocessed in parallel (0 = one per core)", DefaultValueFactory = _ => 0 };
        var folds = new Option<string?>("--folds")
        {
            Description = "PTB-XL stratification folds as TRAIN/VAL/TEST ranges, e.g. 1-7/8/9 (default 1-8/9/10); the splits must not overlap",
        };
        // Overlapping or reversed folds are a usage error, reported by the parser before anything is read.
        folds.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            try
            {
                PtbXlDataset.ParseFolds(r.Tokens[0].Value);
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        var requireReport = new Option<bool>("--require-report")
        {
            Description = "Leave out records without a report (listed in skipped.csv); by default they are stored for ECG-only use and listed in no_report.csv",
        };
        var chunk = new Option<int>("--chunk") { Description = "Records per committed chunk (unit of resumption)", DefaultValueFactory = _ => 256 };
        var cmd = new Command("prepare", "Preprocess a dataset to (N, 12, 10 s) at 500 Hz (or --target-rate) into a memory-mapped store")
        {
            dataset, root, output, task, sourceRate, labels, splits, report, csv, seed, valFraction, normalize, normalizePadding, targetRate, cropStart, cropLength, float16, workers, chunk, folds, requireReport,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var request = new DatasetRequest
            {
                Task = PtbXlDataset.ParseTask(result.GetValue(task)!),
                Rate = result.GetValue(sourceRate),
                Labels = result.GetValue(labels) switch
                {
                    "derived" => LabelSource.Derived,
                    "splits" => LabelSource.SplitFiles,
                    var s => throw new CliUsageException($"--labels must be derived or splits, got '{s}'"),
                },
                SplitsDir = result.GetValue(splits),
                Report = ParseReport(result.GetValue(report)!),
                Csv = result.GetValue(csv)!,
                Seed = result.GetValue(seed),
                ValFraction = result.GetValue(valFraction),
                PtbXlFolds = result.GetValue(folds) is { } f ? PtbXlDataset.ParseFolds(f) : null,
            };
            var ds = DatasetCatalog.Load(result.GetValue(dataset)!, result.GetValue(root)!, request);
            if (result.GetValue(requireReport)) ds = ds.WithReportsOnly();
            int target = result.GetValue(targetRate);
            if (target <= 0) throw new CliUsageException($"--target-rate must be a positive number of Hz, got {target}");
            // Dataset defaults are counted at the paper's 500 Hz (e.g. CPSC keeps 2500 samples = 5 s): keep their durations.
            int defaultRate = ds.Preprocess.TargetRate;
            int? datasetCrop = ds.Preprocess.CropLength is { } c ? (int)((long)c * target / defaultRate) : null;
            var config = ds.Preprocess with
            {
                TargetRate = target,
                TargetLength = (int)((long)ds.Preprocess.TargetLength * target / defaultRate),
                Normalization = result.GetValue(normalize) switch
                {
                    "minmax" => Normalization.MinMax,
                    "none" => Normalization.None,
                    "zscore" => Normalization.ZScorePerLead,
                    var s => throw new CliUsageException($"--normalize must be minmax, none or zscore, got '{s}'"),
                },
                CropStart = result.GetValue(cropStart),
                CropLength = result.GetValue(cropLength) ?? datasetCrop,
                NormalizeAfterPadding = result.GetValue(normalizePadding),
            };
            config.Validate();
            int unreported = ds.Unreported().Count;
            string unreportedText = unreported > 0 ? $" ({unreported} without a report: kept for ECG-only use, listed in no_report.csv; --require-report leaves them out)" : "";
            stderr.WriteLine($"{ds.Name}: {ds.Entries.Count} records listed{unreportedText}, {ds.Skipped.Count} metadata rows left out, {ds.LabelNames.Count} classes");
            // With no record at all the store builder refuses with its own error; per-split warnings would only repeat it.
            if (ds.Entries.Count > 0)
                foreach (string warning in ds.EmptySplitWarnings()) stderr.WriteLine($"warning: {warning}");
            StoreBuildResult? built = null;
            var options = new StoreBuildOptions { Workers = result.GetValue(workers), ChunkSize = result.GetValue(chunk), Float16 = result.GetValue(float16), Preprocess = config };
            // The bar is status: drawn on the command's error writer (stderr, or what Program.Run was given), never the console.
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr) });
            console.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var bar = ctx.AddTask("preprocessing", maxValue: Math.Max(1, ds.Entries.Count));
                    built = EcgStoreBuilder.Build(ds, result.GetValue(output)!, options with { Progress = (done, _) => bar.Value = done });
                    bar.Value = bar.MaxValue;
                });
            var r = built!;
            string splitsText = string.Join(", ", r.SplitCounts.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"));
            stdout.WriteLine(r.AlreadyComplete
                ? $"store {r.Directory} already prepared: {r.Written} records ({splitsText}); reopened, not rebuilt"
                : $"store {r.Directory}: {r.Written} records ({splitsText}), {r.Bad} bad records (bad_records.csv), {r.Skipped} left out while listing (skipped.csv), "
                  + (r.NoReport > 0 ? $"{r.NoReport} without a report (no_report.csv), " : "") + $"{r.ProcessedNow} preprocessed by this run");
            return 0;
        });
        return cmd;
    }
}
