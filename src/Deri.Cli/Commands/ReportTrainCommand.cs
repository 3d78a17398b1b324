using System.CommandLine;
using Deri.Cli.Progress;
using Deri.Generation;
using Deri.Training;

namespace Deri.Cli.Commands;

/// <summary><c>deri report train</c>: trains the ECG → report model from a report config.</summary>
internal static class ReportTrainCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--config") { Description = "Report config (YAML: pretrained_run, data_path, feature, decoder, trainer, optimizer, decoding, …)" };
        var set = ConfigOptions.Set();
        var output = new Option<string>("--out", "-o") { Description = "Report run folder", DefaultValueFactory = _ => "runs/report" };
        var resume = new Option<string?>("--resume") { Description = "Continue from a checkpoint; 'auto' uses RUN/train/last.ckpt when it exists" };
        var overwrite = new Option<bool>("--overwrite")
        {
            Description = "If the run folder already holds a run (and --resume is not given), move it aside to RUN.old-YYYYMMDD-HHMMSS and start afresh",
        };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("train", "Train the report generator (pretrained ECG side + GPT-2 with cross-attention) on a store's train split")
        {
            file, set, output, resume, overwrite, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var config = ReportConfig.Load(result.GetValue(file), result.GetValue(set));
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            string run = result.GetValue(output)!;
            string? from = result.GetValue(resume);
            RunFolder.Prepare(run, resuming: from is not null, result.GetValue(overwrite), stderr.WriteLine);
            if (from == "auto") from = File.Exists(ReportTrainer.LastCheckpoint(run)) ? ReportTrainer.LastCheckpoint(run) : null;
            var r = ReportTrainer.Run(config, run, dev, from, ConsoleProgress.For(config.Trainer.LogEverySteps), stderr.WriteLine);
            stdout.WriteLine($"training: {r.Training.GlobalSteps} steps, {r.Training.Epochs} epochs, last loss {r.Training.LastLoss:F4}; " +
                              $"best: {(r.Training.BestEpoch is { } e ? $"epoch {e + 1}, {r.Training.BestMetric} {r.Training.BestSelection:F4}" : "none")}; " +
                              $"checkpoint {r.BestCheckpoint}");
            return 0;
        });
        return cmd;
    }
}
