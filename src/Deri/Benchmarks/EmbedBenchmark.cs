using System.Diagnostics;
using Deri.Config;
using Deri.Interop.Onnx;
using Deri.Models;
using Deri.Models.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Benchmarks;

/// <summary>One measurement of <see cref="EmbedBenchmark"/>.</summary>
/// <param name="Mode"><c>train_forward</c> (train mode, autograd recording), <c>eval_no_grad</c> (eval mode under no_grad)
/// or <c>folded_inference</c> (<see cref="EcgEmbedder"/>: batch norms folded, inference mode).</param>
/// <param name="Batch">Records per forward.</param>
/// <param name="Iterations">Timed forwards.</param>
/// <param name="RecordsPerSecond">Records embedded per wall-clock second.</param>
public sealed record EmbedBenchResult(string Mode, int Batch, int Iterations, double RecordsPerSecond);

/// <summary>
/// Throughput of the zero-shot ECG embedding of a DERI/MERL model in three ways: a training-mode forward with
/// autograd recording, the eval-mode forward under no_grad (what the downstream commands did before), and the folded
/// inference path of <see cref="EcgEmbedder"/>. Inputs are random; the numbers depend on the machine's load.
/// </summary>
public static class EmbedBenchmark
{
    /// <summary>Times every mode at every batch size in <paramref name="batches"/> on <paramref name="model"/>.</summary>
    /// <param name="model">The model (left in eval mode).</param>
    /// <param name="batches">Batch sizes, e.g. 1 and 32.</param>
    /// <param name="iterations">Timed forwards per mode and batch.</param>
    /// <param name="warmup">Untimed forwards before them.</param>
    /// <param name="device">Where the model lives and inputs are made.</param>
    /// <exception cref="ArgumentOutOfRangeException">A batch below 1, iterations below 1 or negative warm-up.</exception>
    public static IReadOnlyList<EmbedBenchResult> Run(DeriModel model, IReadOnlyList<int> batches, int iterations, int warmup, Device device)
    {
        if (iterations < 1 || warmup < 0) throw new ArgumentOutOfRangeException(nameof(iterations), "iterations must be ≥ 1 and warm-up ≥ 0");
        if (batches.Count == 0 || batches.Any(b => b < 1)) throw new ArgumentOutOfRangeException(nameof(batches), "batch sizes must be ≥ 1");
        var results = new List<EmbedBenchResult>();
        using var embedder = EcgEmbedder.Create(model, EcgEmbeddingKind.ZeroShot);
        foreach (int batch in batches)
        {
            using var ecg = randn(batch, model.Leads, model.InputLength, device: device);
            model.train();
            results.Add(Time("train_forward", batch, iterations, warmup, () => model.ZeroShotEcgEmbedding(ecg)));
            model.eval();
            results.Add(Time("eval_no_grad", batch, iterations, warmup, () =>
            {
                using var _ = no_grad();
                return model.ZeroShotEcgEmbedding(ecg);
            }));
            results.Add(Time("folded_inference", batch, iterations, warmup, () => embedder.Forward(ecg)));
        }
        model.eval();
        return results;
    }

    /// <summary>
    /// Times the ONNX Runtime session of <paramref name="embedder"/> (mode <c>onnxruntime</c>) at every batch size in
    /// <paramref name="batches"/> on random inputs: the serving path of a model bundle.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A batch below 1, iterations below 1 or negative warm-up.</exception>
    public static IReadOnlyList<EmbedBenchResult> RunOnnx(OnnxEcgEmbedder embedder, IReadOnlyList<int> batches, int iterations, int warmup)
    {
        if (iterations < 1 || warmup < 0) throw new ArgumentOutOfRangeException(nameof(iterations), "iterations must be ≥ 1 and warm-up ≥ 0");
        if (batches.Count == 0 || batches.Any(b => b < 1)) throw new ArgumentOutOfRangeException(nameof(batches), "batch sizes must be ≥ 1");
        var random = new Random(0);
        var results = new List<EmbedBenchResult>();
        foreach (int batch in batches)
        {
            var flat = new float[batch * embedder.Leads * embedder.Length];
            for (int i = 0; i < flat.Length; i++) flat[i] = (float)random.NextDouble();
            for (int i = 0; i < warmup; i++) embedder.Run(flat, batch);
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++) embedder.Run(flat, batch);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            results.Add(new EmbedBenchResult("onnxruntime", batch, iterations, Math.Round(batch * iterations / seconds, 2)));
        }
        return results;
    }

    /// <summary>A model of the given backbone and input length with random weights, as <c>deri bench embed</c> uses without a run.</summary>
    public static DeriModel RandomModel(string ecgModel, int length, string method = "deri")
    {
        var config = new ModelConfig
        {
            Network = new NetworkConfig { EcgModel = ecgModel, Method = method },
            Dataset = new ModelDatasetConfig { SeqLength = length },
        };
        return ModelFactory.Create(config);
    }

    private static EmbedBenchResult Time(string mode, int batch, int iterations, int warmup, Func<Tensor> forward)
    {
        for (int i = 0; i < warmup; i++) forward().Dispose();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < iterations; i++)
        {
            using var scope = NewDisposeScope();
            // Reading one value makes the forward finish on asynchronous devices before the clock stops.
            forward().sum().item<float>();
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new EmbedBenchResult(mode, batch, iterations, Math.Round(batch * iterations / seconds, 2));
    }
}
