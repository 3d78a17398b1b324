using System.CommandLine;
using System.Text.Json;
using Deri.Benchmarks;
using Deri.Interop.Bundle;
using Deri.Interop.Onnx;
using Google.Protobuf;
using Deri.Models;
using Deri.Models.Inference;
using Deri.Pretraining;
using TorchSharp;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench embed</c>: records/s and ms per record of the zero-shot ECG embedding in training mode, eval no_grad, the folded path and ONNX Runtime, one JSON line.</summary>
public static class BenchEmbedCommand
{
    /// <summary>Builds the <c>embed</c> command (placed under <c>bench</c>).</summary>
    public static Command Create()
    {
        var run = new Option<string?>("--run") { Description = "A DERI or MERL run, or a model bundle (ONNX Runtime only), to embed with (default: a random model of --ecg-model and --length)" };
        var checkpoint = new Option<string>("--checkpoint") { Description = "best, last or a checkpoint path (with --run)", DefaultValueFactory = _ => "best" };
        var model = new Option<string>("--ecg-model") { Description = "ECG backbone of the random model (network.ecg_model)", DefaultValueFactory = _ => "resnet18" };
        var length = new Option<int>("--length") { Description = "Samples per record of the random model", DefaultValueFactory = _ => 5000 };
        var batches = OptionRules.IntList("--batches", "Batch sizes to time");
        batches.DefaultValueFactory = _ => [1, 32];
        var iterations = new Option<int>("--iters") { Description = "Timed forwards per mode and batch size", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed forwards before them", DefaultValueFactory = _ => 1 };
        var onnx = new Option<bool>("--onnx") { Description = "Also time the model exported to ONNX on ONNX Runtime (mode onnxruntime; always on for a bundle)" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("embed",
            "Time the zero-shot ECG embedding: train-mode forward, eval-mode no_grad forward, the batch-norm-folded inference path and (--onnx, or a bundle) ONNX Runtime; prints one JSON line")
        {
            run, checkpoint, model, length, batches, iterations, warmup, onnx, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var resolved = CommonOptions.Settings(result, device, threads).Resolve();
            string? runDir = result.GetValue(run);
            var sizes = result.GetValue(batches)!;
            int iters = result.GetValue(iterations), warm = result.GetValue(warmup);
            // ONNX Runtime gets the threads LibTorch was given (--threads; 0 = one per core), so the two compare on equal cores.
            int threadCount = TorchSharp.torch.get_num_threads();
            var o = new Dictionary<string, object>
            {
                ["bench"] = "embed",
                ["impl"] = "torchsharp-" + typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3),
                ["onnxruntime"] = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "unknown",
                ["device"] = resolved.ToString(), ["threads"] = threadCount,
            };
            List<EmbedBenchResult> rows;
            if (runDir is not null && ModelBundle.IsBundle(runDir))
            {
                var bundle = ModelBundle.Open(runDir);
                var m = bundle.Manifest;
                using var session = new OnnxEcgEmbedder(bundle.OnnxPath, m.Onnx.Leads, m.Onnx.Length, threadCount, m.Onnx.Input, m.Onnx.Output);
                rows = [.. EmbedBenchmark.RunOnnx(session, sizes, iters, warm)];
                o["model"] = $"{m.Name} {m.Version}";
                o["ecg_model"] = m.Provenance.EcgModel;
                o["method"] = m.Provenance.Method;
                o["length"] = m.Onnx.Length;
            }
            else
            {
                using var loaded = runDir is null ? null : PretrainedRun.Load(runDir, result.GetValue(checkpoint)!, resolved);
                using var random = loaded is null ? EmbedBenchmark.RandomModel(result.GetValue(model)!, result.GetValue(length)) : null;
                DeriModel target = loaded?.Module.Model ?? random!;
                if (random is not null) random.to(resolved);
                rows = [.. EmbedBenchmark.Run(target, sizes, iters, warm, resolved)];
                if (result.GetValue(onnx))
                {
                    var network = loaded?.Config.Network ?? new Deri.Config.NetworkConfig { EcgModel = result.GetValue(model)!, Method = "deri" };
                    target.to(TorchSharp.torch.CPU);
                    var graph = OnnxEcgExporter.Build(target, network).ToByteArray();
                    using var session = new OnnxEcgEmbedder(graph, "exported graph", (int)target.Leads, (int)target.InputLength, threadCount);
                    rows.AddRange(EmbedBenchmark.RunOnnx(session, sizes, iters, warm));
                }
                o["model"] = runDir is null ? $"random {result.GetValue(model)}" : loaded!.Directory;
                o["ecg_model"] = target.Encoder.GetType().Name;
                o["method"] = target.Method.ToString().ToLowerInvariant();
                o["length"] = target.InputLength;
            }
            o["results"] = rows.Select(r => new Dictionary<string, object>
            {
                ["mode"] = r.Mode, ["batch"] = r.Batch, ["iters"] = r.Iterations, ["records_per_s"] = r.RecordsPerSecond,
                ["ms_per_record"] = Math.Round(1000 / r.RecordsPerSecond, 4),
            }).ToList();
            stdout.WriteLine(JsonSerializer.Serialize(o));
            return 0;
        });
        return cmd;
    }
}
