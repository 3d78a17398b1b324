using System.Diagnostics;
using Deri.Config;
using Deri.Losses;
using Deri.Models;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Benchmarks;

/// <summary>Settings of <see cref="TrainStepBenchmark.Run"/>.</summary>
/// <param name="Batch">Records per step.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="Warmup">Untimed steps first.</param>
/// <param name="Length">Samples per record.</param>
/// <param name="TextLength">Tokens of the (random, frozen) text hidden states.</param>
/// <param name="EcgModel">Backbone (<c>network.ecg_model</c>).</param>
/// <param name="Seed">Seed of weights and inputs.</param>
public sealed record TrainBenchOptions(int Batch = 32, int Steps = 5, int Warmup = 2, int Length = 5000, int TextLength = 256,
    string EcgModel = "resnet18", int Seed = 0)
{
    /// <summary>The benchmarked model's configuration: the release's DERI with this backbone, length and text length.</summary>
    public ModelConfig ModelConfig() => new()
    {
        Network = new NetworkConfig { EcgModel = EcgModel, TextMaxLength = TextLength },
        Dataset = new ModelDatasetConfig { SeqLength = Length },
    };
}

/// <summary>Measured throughput of full training steps.</summary>
/// <param name="Batch">Records per step.</param>
/// <param name="Length">Samples per record.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="Tokens">ECG tokens n.</param>
/// <param name="SamplesPerSecond">Batch · steps / wall time of the timed steps.</param>
/// <param name="Loss">Total loss of the last step.</param>
/// <param name="ParamsMillions">Trainable parameters, millions.</param>
/// <param name="ForwardMs">Mean forward + loss time per step, ms.</param>
/// <param name="BackwardMs">Mean backward time per step, ms.</param>
/// <param name="OptimizerMs">Mean zero_grad + AdamW step time, ms.</param>
/// <param name="CpuMsPerStep">Process CPU time per timed step, ms: a load-independent measure on a shared machine.</param>
/// <param name="PeakRssMb">Peak resident memory of the process after the steps, MB (CPU: weights, activations, LibTorch's caches).</param>
public sealed record TrainBenchResult(int Batch, int Length, int Steps, long Tokens, double SamplesPerSecond, double Loss,
    double ParamsMillions, double ForwardMs, double BackwardMs, double OptimizerMs, double CpuMsPerStep, double PeakRssMb);

/// <summary>
/// Times full DERI training steps (forward, default loss, backward, AdamW step) on random ECGs and
/// random frozen text features: the workload of the shared PyTorch reference <c>bench/deri_reference.py</c>.
/// </summary>
public static class TrainStepBenchmark
{
    /// <summary>Runs the benchmark on <paramref name="device"/>.</summary>
    public static TrainBenchResult Run(TrainBenchOptions options, Device device)
    {
        if (options.Batch < 2) throw new ArgumentOutOfRangeException(nameof(options), options.Batch, "batch must be at least 2 (contrastive loss)");
        if (options.Steps < 1 || options.Warmup < 0) throw new ArgumentOutOfRangeException(nameof(options), "steps must be ≥ 1 and warmup ≥ 0");
        manual_seed(options.Seed);
        var config = options.ModelConfig();
        using var model = ModelFactory.Create(config);
        model.to(device).train();
        using var loss = new DeriLoss(config.Loss);
        using var optimizer = new AdamW(model.parameters(), lr: 1e-3, weightDecay: 1e-8);
        using var ecg = randn(options.Batch, config.Network.NumLeads, options.Length, device: device);
        using var pooled = randn(options.Batch, config.Network.FeatureDim, device: device);
        using var hidden = randn(options.Batch, options.TextLength, config.Network.FeatureDim, device: device);

        double forward = 0, backward = 0, step = 0, last = double.NaN;
        var clock = new Stopwatch();
        var process = Process.GetCurrentProcess();
        TimeSpan cpuStart = TimeSpan.Zero;
        for (int i = 0; i < options.Warmup + options.Steps; i++)
        {
            if (i == options.Warmup)
            {
                forward = backward = step = 0;
                process.Refresh();
                cpuStart = process.TotalProcessorTime;
                clock.Restart();
            }
            using var scope = NewDisposeScope();
            long t0 = Stopwatch.GetTimestamp();
            optimizer.zero_grad();
            long t1 = Stopwatch.GetTimestamp();
            using var output = model.Forward(ecg, pooled, hidden);
            using var terms = loss.forward(output, pooled);
            using var total = loss.Total(terms);
            long t2 = Stopwatch.GetTimestamp();
            total.backward();
            long t3 = Stopwatch.GetTimestamp();
            optimizer.step();
            last = total.ToDouble();
            long t4 = Stopwatch.GetTimestamp();
            forward += Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
            backward += Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds;
            step += Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds + Stopwatch.GetElapsedTime(t3, t4).TotalMilliseconds;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpuStart).TotalMilliseconds;
        long parameters = model.parameters().Sum(p => p.numel());
        int n = options.Steps;
        return new TrainBenchResult(options.Batch, options.Length, n, model.Tokens, Math.Round(options.Batch * n / seconds, 3),
            Math.Round(last, 4), Math.Round(parameters / 1e6, 3), Math.Round(forward / n, 1), Math.Round(backward / n, 1),
            Math.Round(step / n, 1), Math.Round(cpuMs / n, 1), Math.Round(process.PeakWorkingSet64 / 1e6, 1));
    }
}
