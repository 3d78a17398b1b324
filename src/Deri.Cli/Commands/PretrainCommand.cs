using System.CommandLine;
using Deri.Cli.Progress;
using Deri.Config;
using Deri.Evaluation;
using Deri.Pretraining;
using Deri.Training;

namespace Deri.Cli.Commands;

/// <summary><c>deri pretrain</c>: DERI (or MERL) pretraining from a config; an existing run is never overwritten in place.</summary>
internal static class PretrainCommand
{
    public static Command Create()
    {
        var file = ConfigOptions.File();
        var set = ConfigOptions.Set();
        var output = new Option<string>("--out", "-o") { Description = "Run folder (checkpoints, metrics, plots, tables)", DefaultValueFactory = _ => "runs/pretrain" };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue from a checkpoint; 'auto' uses RUN/last.ckpt when it exists",
        };
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "If the run folder already holds a run (and --resume is not given), move it aside to RUN.old-YYYYMMDD-HHMMSS and start afresh",
        };
        var method = new Option<string?>("--method")
        {
            Description = "Pretraining method, shorthand for --set network.method=NAME: " + string.Join(", ", Deri.Config.MethodNames.All),
        };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("pretrain",
            "Pretrain DERI, MERL or an ECG-only baseline (--method NAME) on a prepared store (dataset.data_path)")
        {
            file, set, method, output, resume, overwrite, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var overrides = result.GetValue(set)!.ToList();
            if (result.GetValue(method) is { } m) overrides.Add($"network.method={m}");
            var config = DeriConfig.Load(result.GetValue(file), overrides);
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            string run = result.GetValue(output)!;
            string? from = result.GetValue(resume);
            RunFolder.Prepare(run, resuming: from is not null, result.GetValue(overwrite), stderr.WriteLine);
            if (from == "auto") from = File.Exists(Path.Combine(run, "last.ckpt")) ? Path.Combine(run, "last.ckpt") : null;
            var r = Pretrainer.Run(config, run, dev, from, ConsoleProgress.For(config.Trainer.LogEverySteps), stderr.WriteLine);
            stdout.WriteLine($"training: {r.Training.GlobalSteps} steps, {r.Training.Epochs} epochs, last loss {r.Training.LastLoss:F4}; " +
                              $"best: {(r.Training.BestEpoch is { } e ? $"epoch {e + 1}, {r.Training.BestMetric} {r.Training.BestSelection:F4}" : "none")}");
            if (r.TestResults.Count > 0)
            {
                var table = ResultTable.ForZeroShot(r.TestResults);
                var provenance = new RunProvenance("deri " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)), r.Checkpoint);
                table.WriteAll(run, "zeroshot_test", provenance);
                stdout.WriteLine(table.ToMarkdown(provenance));
            }
            return 0;
        });
        return cmd;
    }
}
