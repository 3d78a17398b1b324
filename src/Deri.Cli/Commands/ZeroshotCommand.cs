using System.CommandLine;
using Deri.Downstream;
using Deri.Pretraining;

namespace Deri.Cli.Commands;

/// <summary><c>deri zeroshot</c>: zero-shot classification of a labelled store with a pretrained run.</summary>
internal static class ZeroshotCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Run folder made by `deri pretrain` or `deri demo` (config.yaml, text/, checkpoints)", Required = true };
        var checkpoint = DownstreamOptions.Checkpoint();
        var store = new Option<string>("--store") { Description = "Prepared, labelled store (`deri data prepare`)", Required = true };
        var split = new Option<string>("--split") { Description = "Split to classify", DefaultValueFactory = _ => "test" };
        var valSplit = new Option<string>("--val-split")
        {
            Description = "Split whose max-F1 thresholds the held-out protocol applies to --split ('none' reports the paper's protocol only)",
            DefaultValueFactory = _ => "val",
        };
        var prompts = new Option<string?>("--prompts")
        {
            Description = "CKEPE-format prompt file (JSON object: class label → description); default: the run's zeroshot.prompt_dict when that file exists",
        };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for the tables (default RUN/downstream/STORE_SPLIT)" };
        var batch = DownstreamOptions.BatchSize();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("zeroshot",
            "Zero-shot classification of a store split with a pretrained run: per-class and macro AUC, F1 and accuracy under the paper's " +
            "threshold protocol (thresholds on the evaluated split) and the held-out one (thresholds on --val-split)")
        {
            run, checkpoint, store, split, valSplit, prompts, output, batch, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            string storeDir = result.GetValue(store)!, splitName = result.GetValue(split)!;
            string? val = result.GetValue(valSplit) is { } v && v != "none" ? v : null;
            using var r = PretrainedRun.Load(result.GetValue(run)!, result.GetValue(checkpoint)!, dev);
            string outDir = result.GetValue(output)
                ?? Path.Combine(r.Directory, "downstream", $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(storeDir)))}_{splitName}");
            var z = ZeroShotEvaluation.Run(r, new ZeroShotOptions(storeDir, splitName, val, result.GetValue(prompts), result.GetValue(batch)),
                outDir, DownstreamOptions.CommandLine(), stderr.WriteLine);
            var provenance = new Deri.Evaluation.RunProvenance(DownstreamOptions.CommandLine(), r.CheckpointPath);
            stdout.WriteLine(z.PerClass.ToMarkdown(provenance));
            stdout.WriteLine(z.Summary.ToMarkdown(provenance));
            stdout.WriteLine($"tables: {string.Join(", ", z.Files)}");
            return 0;
        });
        return cmd;
    }
}

/// <summary>Options shared by the downstream commands (zeroshot, embed, probe).</summary>
internal static class DownstreamOptions
{
    public static Option<string> Checkpoint() => new("--checkpoint")
    {
        Description = "Checkpoint: best (RUN/best.ckpt), last (RUN/last.ckpt) or a checkpoint file",
        DefaultValueFactory = _ => "best",
    };

    public static Option<int> BatchSize() => new("--batch-size")
    {
        Description = "Records per forward pass",
        DefaultValueFactory = _ => 64,
    };

    /// <summary>The command line as typed, for result provenance.</summary>
    public static string CommandLine() => "deri " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
}
