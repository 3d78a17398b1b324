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
        var profile = new Option<bool>("--profile")
        {
            Description = "Also time each part of the step alone (encoder stages, heads, decoders, every convolution shape), with counted FLOPs "
                + "against the measured matmul rate; one JSON line per row, then a summary line",
        };
        var reference = new Option<string?>("--reference")
        {
            Description = "PyTorch reference step to run after this one with the same shapes (default: shared/bench/deri_reference.py in "
                + "this folder or a parent, when present); prints its samples/s and the ratio",
        };
        var noReference = new Option<bool>("--no-reference") { Description = "Do not run the PyTorch reference even when it is present" };
        var python = new Option<string?>("--python")
        {
            Description = "Python interpreter with PyTorch for the reference (default: python3 on PATH, then /usr/bin/python3)",
        };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("train",
            "Time full DERI training steps (forward, loss, backward, AdamW) on random ECGs and frozen random text features; prints one JSON line")
        {
            batch, steps, warmup, length, textLength, model, profile, reference, noReference, python, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var resolved = CommonOptions.Settings(result, device, threads).Resolve();
            var options = new TrainBenchOptions(result.GetValue(batch), result.GetValue(steps), result.GetValue(warmup),
                result.GetValue(length), result.GetValue(textLength), result.GetValue(model)!);
            var r = TrainStepBenchmark.Run(options, resolved);
            var line = ResultLine(options, resolved, r);
            string? script = result.GetValue(noReference) ? null : PyTorchReference.Find(result.GetValue(reference), Environment.CurrentDirectory);
            if (script is not null) AddReference(line, script, options, r, result.GetValue(python), required: result.GetValue(reference) is not null, stderr);
            stdout.WriteLine(JsonSerializer.Serialize(line));
            if (result.GetValue(profile)) PrintProfile(options, resolved, r, stdout);
            return 0;
        });
        return cmd;
    }

    // The JSON line of one measurement.
    private static Dictionary<string, object> ResultLine(TrainBenchOptions options, TorchSharp.torch.Device device, TrainBenchResult r) => new()
    {
        ["impl"] = "torchsharp-" + typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3),
        ["device"] = device.ToString(), ["threads"] = TorchSharp.torch.get_num_threads(),
        ["ecg_model"] = options.EcgModel, ["batch"] = r.Batch, ["length"] = r.Length, ["steps"] = r.Steps, ["tokens"] = r.Tokens,
        ["samples_per_s"] = r.SamplesPerSecond, ["loss"] = r.Loss, ["params_m"] = r.ParamsMillions,
        ["forward_ms"] = r.ForwardMs, ["backward_ms"] = r.BackwardMs, ["optimizer_ms"] = r.OptimizerMs,
        ["cpu_ms_per_step"] = r.CpuMsPerStep, ["peak_rss_mb"] = r.PeakRssMb,
    };

    /// <summary>
    /// Runs the PyTorch reference with the same shapes and adds its samples/s and the ratio to <paramref name="line"/>.
    /// A reference that was named (<paramref name="required"/>) and could not run is a <see cref="CommandFailedException"/>;
    /// otherwise why it did not run goes to <paramref name="stderr"/>.
    /// </summary>
    private static void AddReference(Dictionary<string, object> line, string script, TrainBenchOptions options, TrainBenchResult r,
        string? python, bool required, TextWriter stderr)
    {
        if (options.EcgModel != "resnet18")
        {
            stderr.WriteLine($"reference skipped: {script} runs ResNet18 only");
            return;
        }
        // After the measurement, never beside it: two LibTorch processes on the same cores slow each other down.
        var refResult = PyTorchReference.Run(script, options, TorchSharp.torch.get_num_threads(), TimeSpan.FromMinutes(30),
            python is { } named ? [named] : PyTorchReference.DefaultInterpreters);
        if (refResult.SamplesPerSecond is { } refSps)
        {
            line["reference_impl"] = refResult.Implementation ?? "?";
            line["reference_samples_per_s"] = refSps;
            line["ratio_to_reference"] = Math.Round(r.SamplesPerSecond / refSps, 3);
            return;
        }
        if (required) throw new CommandFailedException($"reference: {refResult.Problem}");
        stderr.WriteLine($"reference not run: {refResult.Problem}");
    }

    // --profile: one JSON line per part and convolution shape, then a summary line.
    private static void PrintProfile(TrainBenchOptions options, TorchSharp.torch.Device device, TrainBenchResult r, TextWriter stdout)
    {
        var p = TrainStepProfile.Run(options, device);
        double stepMs = r.ForwardMs + r.BackwardMs;
        foreach (var row in p.Rows)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["profile"] = row.Kind, ["name"] = row.Name, ["count"] = row.Count, ["forward_ms"] = row.ForwardMs,
                ["backward_ms"] = row.BackwardMs, ["total_ms"] = Math.Round(row.TotalMs, 1),
                ["share_of_step"] = Math.Round(row.TotalMs / stepMs, 3),
                ["forward_gflop"] = Math.Round(row.ForwardGflop, 3), ["gflops"] = Math.Round(row.Gflops, 1),
                ["of_matmul_rate"] = Math.Round(row.Gflops / p.MatmulGflops, 3),
            }));
        }
        double partsMs = p.Rows.Where(x => x.Kind == "part").Sum(x => x.TotalMs);
        stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["profile"] = "summary", ["matmul_gflops"] = p.MatmulGflops, ["step_forward_gflop"] = Math.Round(p.StepForwardGflop, 2),
            ["step_gflop_fwd_bwd"] = Math.Round(3 * p.StepForwardGflop, 2), ["step_fwd_bwd_ms"] = Math.Round(stepMs, 1),
            ["parts_fwd_bwd_ms"] = Math.Round(partsMs, 1), ["unaccounted_ms"] = Math.Round(stepMs - partsMs, 1),
            ["step_gflops"] = Math.Round(3 * p.StepForwardGflop / (stepMs / 1000), 1),
            ["roof_samples_per_s"] = Math.Round(p.RoofSamplesPerSecond(options.Batch), 2),
        }));
    }
}
