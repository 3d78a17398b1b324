using System.CommandLine;
using System.Text.Json;
using Deri.Benchmarks;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench train</c>: samples/s of full DERI training steps, printed as one JSON line.</summary>
public static class BenchTrainCommand
{
    /// <summary>Builds the <c>train</c> command (placed under <c>bench</c>).</summary>
    public static Command Create()
    {
        var batch = new Option<int>("--batch") { Description = "Records per step", DefaultValueFactory = _ => 32 };
        var steps = new Option<int>("--steps") { Description = "Timed steps", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps", DefaultValueFactory = _ => 2 };
        var length = new Option<int>("--length") { Description = "Samples per ECG record", DefaultValueFactory = _ => 5000 };
        var textLength = new Option<int>("--text-len") { Description = "Tokens of the random text hidden states", DefaultValueFactory = _ => 256 };
        var model = new Option<string>("--ecg-model") { Description = "ECG backbone (network.ecg_model)", DefaultValueFactory = _ => "resnet18" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("train",
            "Time full DERI training steps (forward, loss, backward, AdamW) on random ECGs and frozen random text features; prints one JSON line")
        {
            batch, steps, warmup, length, textLength, model, device, threads,
        };
        cmd.SetAction(result =>
        {
            var settings = CommonOptions.Settings(result, device, threads);
            var resolved = settings.Resolve();
            var options = new TrainBenchOptions(result.GetValue(batch), result.GetValue(steps), result.GetValue(warmup),
                result.GetValue(length), result.GetValue(textLength), result.GetValue(model)!);
            var r = TrainStepBenchmark.Run(options, resolved);
            var o = new Dictionary<string, object>
            {
                ["impl"] = "torchsharp-" + typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3),
                ["device"] = resolved.ToString(), ["threads"] = TorchSharp.torch.get_num_threads(),
                ["ecg_model"] = options.EcgModel, ["batch"] = r.Batch, ["length"] = r.Length, ["steps"] = r.Steps, ["tokens"] = r.Tokens,
                ["samples_per_s"] = r.SamplesPerSecond, ["loss"] = r.Loss, ["params_m"] = r.ParamsMillions,
                ["forward_ms"] = r.ForwardMs, ["backward_ms"] = r.BackwardMs, ["optimizer_ms"] = r.OptimizerMs,
                ["cpu_ms_per_step"] = r.CpuMsPerStep,
            };
            Console.WriteLine(JsonSerializer.Serialize(o));
            return 0;
        });
        return cmd;
    }
}
