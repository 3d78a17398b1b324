using System.CommandLine;
using System.Text.Json;
using Deri.Benchmarks;
using Deri.Models;
using Deri.Models.Inference;
using Deri.Pretraining;
using TorchSharp;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench embed</c>: records/s of the zero-shot ECG embedding in training mode, eval no_grad and the folded path, one JSON line.</summary>
public static class BenchEmbedCommand
{
    /// <summary>Builds the <c>embed</c> command (placed under <c>bench</c>).</summary>
    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "A DERI or MERL run to embed with (default: a random model of --ecg-model and --length)" };
        var checkpoint = new Option<string>("--checkpoint") { Description = "best, last or a checkpoint path (with --run)", DefaultValueFactory = _ => "best" };
        var model = new Option<string>("--ecg-model") { Description = "ECG backbone of the random model (network.ecg_model)", DefaultValueFactory = _ => "resnet18" };
        var length = new Option<int>("--length") { Description = "Samples per record of the random model", DefaultValueFactory = _ => 5000 };
        var batches = OptionRules.IntList("--batches", "Batch sizes to time");
        batches.DefaultValueFactory = _ => [1, 32];
        var iterations = new Option<int>("--iters") { Description = "Timed forwards per mode and batch size", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed forwards before them", DefaultValueFactory = _ => 1 };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("embed",
            "Time the zero-shot ECG embedding: train-mode forward, eval-mode no_grad forward and the batch-norm-folded inference path; prints one JSON line")
        {
            run, checkpoint, model, length, batches, iterations, warmup, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var resolved = CommonOptions.Settings(result, device, threads).Resolve();
            string? runDir = result.GetValue(run);
            using var loaded = runDir is null ? null : PretrainedRun.Load(runDir, result.GetValue(checkpoint)!, resolved);
            using var random = loaded is null ? EmbedBenchmark.RandomModel(result.GetValue(model)!, result.GetValue(length)) : null;
            DeriModel target = loaded?.Module.Model ?? random!;
            if (random is not null) random.to(resolved);
            var rows = EmbedBenchmark.Run(target, result.GetValue(batches)!, result.GetValue(iterations), result.GetValue(warmup), resolved);
            var o = new Dictionary<string, object>
            {
                ["bench"] = "embed",
                ["impl"] = "torchsharp-" + typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3),
                ["device"] = resolved.ToString(), ["threads"] = TorchSharp.torch.get_num_threads(),
                ["model"] = runDir is null ? $"random {result.GetValue(model)}" : loaded!.Directory,
                ["ecg_model"] = target.Encoder.GetType().Name, ["method"] = target.Method.ToString().ToLowerInvariant(),
                ["length"] = target.InputLength,
                ["results"] = rows.Select(r => new Dictionary<string, object>
                {
                    ["mode"] = r.Mode, ["batch"] = r.Batch, ["iters"] = r.Iterations, ["records_per_s"] = r.RecordsPerSecond,
                }).ToList(),
            };
            stdout.WriteLine(JsonSerializer.Serialize(o));
            return 0;
        });
        return cmd;
    }
}
