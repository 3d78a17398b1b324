using System.Diagnostics;
using System.Globalization;
using Deri.Config;
using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.Evaluation;
using Deri.Pretraining;
using Deri.Synthetic;
using Deri.Training;
using static TorchSharp.torch;

namespace Deri.Workflows;

/// <summary>Settings of the end-to-end demo.</summary>
/// <param name="OutputDirectory">Folder for the data, the store, the run and the tables.</param>
/// <param name="Records">Synthetic records to generate (train 70 %, val 10 %, test 20 %).</param>
/// <param name="Seed">Seed of the data, the split and training.</param>
/// <param name="Overrides"><c>key=value</c> config overrides applied on top of <see cref="Demo.Config"/>.</param>
/// <param name="Threads">Threads for data generation and preparation (0: one per processor).</param>
public sealed record DemoOptions(string OutputDirectory = "runs/demo", int Records = 8000, int Seed = 7,
    IReadOnlyList<string>? Overrides = null, int Threads = 0);

/// <summary>What the demo produced.</summary>
/// <param name="Result">Zero-shot result on the held-out synthetic test split.</param>
/// <param name="Table">Per-condition table (both threshold protocols).</param>
/// <param name="Files">The table files written.</param>
/// <param name="Seconds">Wall time of the whole demo.</param>
/// <param name="Checkpoint">The checkpoint the table was computed with.</param>
/// <param name="CommandLine">The command line recorded as the table's provenance.</param>
public sealed record DemoResult(ZeroShotResult Result, ResultTable Table, IReadOnlyList<string> Files, double Seconds, string Checkpoint, string CommandLine)
{
    /// <summary>The result as a user reads it: the zero-shot table (Markdown) and one summary line.</summary>
    public string Summary() =>
        Table.ToMarkdown(new RunProvenance(CommandLine, Checkpoint)) + Environment.NewLine +
        string.Create(CultureInfo.InvariantCulture,
            $"mean zero-shot AUC {Result.Paper.MacroAuc:F2} (paper protocol), F1 {Result.Paper.MacroF1:F2}, accuracy {Result.Paper.MacroAccuracy:F2}; " +
            $"{Seconds / 60:F1} min in all");
}

/// <summary>
/// The main job on the embedded default: synthesise ECG–report pairs in the MIMIC-IV-ECG layout, prepare them
/// with the same dataset code as real data (at 100 Hz to fit a CPU budget), pretrain a small DERI with zero-shot
/// checkpoint selection on the validation split, and report zero-shot metrics per condition on the held-out test split.
/// Every stage reuses its finished output, so a killed demo continues where it stopped.
/// </summary>
public static class Demo
{
    /// <summary>Sampling rate of the demo's model input (10 s at 100 Hz = 1000 samples).</summary>
    public const int Rate = 100;

    /// <summary>Steps between plain progress lines (<c>trainer.log_every_steps</c> of the demo's config).</summary>
    public const int LogEverySteps = 10;

    /// <summary>
    /// The demo's configuration: DERI as in METHOD §2–3 but sized for 2 CPU cores — ResNet18 of base width 32 on
    /// 100 Hz input, the built-in pretrained all-MiniLM-L6-v2 frozen as the text encoder (as the release freezes MedCPT;
    /// 384-d, 64 tokens, <c>proj_t</c> 384 → 256), batch 64, 4 epochs. The learning rate is half the release's 1e-3
    /// because the batch is 16× smaller (1e-3 overfits and oscillates at batch 64). A small BERT trained jointly from the
    /// synthetic reports (<c>--set network.text_model=scratch --set network.feature_dim=256</c>, the demo before
    /// 2026-12-05) conflated the atrial-fibrillation and first-degree-AV-block reports and left those classes near 78 AUC
    /// (docs/RESULTS.md §1).
    /// </summary>
    public static DeriConfig Config(string storeDir, string promptFile, int seed, IReadOnlyList<string>? overrides)
    {
        var set = new ZeroshotSetConfig { DataPath = Path.GetFullPath(storeDir), Split = "val" };
        var baseline = DeriConfig.Load(null, overrides: null);
        var config = baseline with
        {
            Network = baseline.Network with { TextModel = Deri.Text.BuiltInTextModel.MiniLm.Name, EcgBaseWidth = 32, FeatureDim = 384, TextMaxLength = 64 },
            Dataset = baseline.Dataset with { DataPath = Path.GetFullPath(storeDir), SeqLength = 10 * Rate, SamplingRate = Rate, DatasetName = "synthetic" },
            Trainer = baseline.Trainer with
            {
                BatchSize = 64, ValBatchSize = 128, MaxEpochs = 4, Seed = seed, CheckpointEverySteps = 20, LogEverySteps = LogEverySteps,
                TextComputeOnLongest = true, NumWorkers = 1,
            },
            Optimizer = baseline.Optimizer with { Params = baseline.Optimizer.Params with { Lr = 5e-4 } },
            Zeroshot = baseline.Zeroshot with
            {
                PromptDict = promptFile, BatchSize = 256,
                ValSets = new() { ["synthetic"] = set },
                TestSets = new() { ["synthetic"] = set with { Split = "test" } },
            },
        };
        if (overrides is { Count: > 0 })
            config = DeriConfig.Parse(config.ToYaml(), "demo config", overrides);
        config.Validate("demo config");
        return config;
    }

    /// <summary>
    /// Runs the demo; <paramref name="log"/> receives status messages (none by default). The result table is not logged:
    /// the caller shows <see cref="DemoResult.Summary"/> where results go (the CLI: stdout).
    /// </summary>
    public static DemoResult Run(DemoOptions options, Device device, Action<string>? log = null, ITrainingProgress? progress = null,
        string? commandLine = null, CancellationToken cancel = default)
    {
        log ??= _ => { };
        var sw = Stopwatch.StartNew();
        string root = Path.GetFullPath(options.OutputDirectory);
        string dataDir = Path.Combine(root, "data"), storeDir = Path.Combine(root, "store"), runDir = Path.Combine(root, "run");
        Directory.CreateDirectory(root);

        if (!File.Exists(Path.Combine(dataDir, "record_list.csv")))
        {
            var s = SyntheticDatasetWriter.Write(new SyntheticDatasetOptions(dataDir, options.Records,
                new SyntheticEcgConfig(Seed: options.Seed), options.Threads, Overwrite: true));
            log($"synthesised {s.Records} records in {s.Seconds:F1} s ({s.Records / s.Seconds:F0} records/s) → {dataDir}" +
                (s.Failed.Count > 0 ? $"; {s.Failed.Count} failed" : ""));
        }
        else log($"reusing synthetic data in {dataDir}");

        var dataset = MimicIvEcgDataset.Load(dataDir, new MimicOptions { ValFraction = 0.1, TestFraction = 0.2, Seed = options.Seed });
        var preprocess = PreprocessConfig.Default with { TargetRate = Rate, TargetLength = 10 * Rate };
        var built = EcgStoreBuilder.Build(dataset, storeDir, new StoreBuildOptions { Preprocess = preprocess, Workers = options.Threads });
        log($"store {storeDir}: {built.Written} records ({string.Join(", ", built.SplitCounts.Select(kv => $"{kv.Value} {kv.Key}"))})" +
            (built.Bad > 0 ? $", {built.Bad} bad (see bad_records.csv)" : "") + (built.AlreadyComplete ? " (reused)" : ""));

        var config = Config(storeDir, Path.Combine(dataDir, SyntheticPrompts.FileName), options.Seed, options.Overrides);
        string? resume = File.Exists(Path.Combine(runDir, "last.ckpt")) ? Path.Combine(runDir, "last.ckpt") : null;
        if (resume is not null) log($"resuming from {resume}");
        var result = Pretrainer.Run(config, runDir, device, resume, progress, log, cancel);
        var (task, zs) = result.TestResults.Single();

        var table = ResultTable.ForClasses($"Zero-shot classification on the held-out synthetic test split (x100), checkpoint {Path.GetFileName(result.Checkpoint)}",
            zs.HeldOut is null ? [zs.Paper] : [zs.Paper, zs.HeldOut]);
        commandLine ??= "deri demo";
        var files = table.WriteAll(root, "zeroshot", new RunProvenance(commandLine, result.Checkpoint));
        return new DemoResult(zs, table, files, sw.Elapsed.TotalSeconds, result.Checkpoint, commandLine);
    }
}
