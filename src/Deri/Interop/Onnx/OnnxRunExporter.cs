using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.Downstream;
using Deri.Evaluation;
using Deri.IO;
using Deri.Models;
using Deri.Pretraining;
using Deri.Signals;
using Google.Protobuf;

namespace Deri.Interop.Onnx;

/// <summary>What <see cref="OnnxRunExporter.Export"/> wrote.</summary>
/// <param name="Model">Path of <c>model.onnx</c>.</param>
/// <param name="Sidecar">Path of <c>deri_onnx.json</c>.</param>
/// <param name="Classes">Classes whose prompt embeddings the sidecar holds (empty when the run had no prompt file).</param>
/// <param name="PreprocessingSource">Where the preprocessing in the sidecar came from (the run's store index, or Deri's defaults).</param>
public sealed record OnnxExportResult(string Model, string Sidecar, IReadOnlyList<string> Classes, string PreprocessingSource);

/// <summary>
/// <c>deri export --format onnx</c>: a DERI or MERL run's ECG side as <c>model.onnx</c> (<see cref="OnnxEcgExporter"/>)
/// and a JSON sidecar <c>deri_onnx.json</c> with what a consumer needs around it: the preprocessing (sampling rate,
/// length, crop, normalisation, lead order), the input and output names, and, where the run has a prompt file, the
/// class names and their L2-normalised prompt embeddings, so zero-shot scores are one matrix product
/// <c>embedding · class_embeddingsᵀ</c>.
/// </summary>
public static class OnnxRunExporter
{
    /// <summary>File name of the graph.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>File name of the sidecar.</summary>
    public const string SidecarFile = "deri_onnx.json";

    /// <summary>Writes the export of <paramref name="run"/> into <paramref name="directory"/> (atomically, file by file).</summary>
    /// <param name="run">A DERI or MERL run.</param>
    /// <param name="directory">Output folder (created).</param>
    /// <param name="prompts">A prompt file (class → description JSON); null uses the run's <c>zeroshot.prompt_dict</c> when it exists.</param>
    /// <param name="log">Receives a line when the sidecar has no class embeddings or default preprocessing.</param>
    /// <exception cref="ArgumentException">The run is an ECG-only baseline.</exception>
    public static OnnxExportResult Export(PretrainedRun run, string directory, string? prompts = null, Action<string>? log = null)
    {
        if (!run.IsEcgText)
            throw new InputValueException($"{run.Directory}: ONNX export covers DERI and MERL runs (the zero-shot embedding); this run is {run.Method}, an ECG-only method");
        Directory.CreateDirectory(directory);
        var model = run.Module.Model;
        var proto = OnnxEcgExporter.Build(model, run.Config.Network);
        string modelPath = Path.GetFullPath(Path.Combine(directory, ModelFile));
        AtomicFile.Write(modelPath, s => proto.WriteTo(s));

        var (preprocess, source) = Preprocessing(run);
        if (source != "store") log?.Invoke($"{run.Directory}: the run's store ({run.Config.Dataset.DataPath}) was not found: the sidecar states Deri's default preprocessing at the run's rate and length");
        var sidecar = new JsonObject
        {
            ["format"] = "deri-onnx",
            ["version"] = 1,
            ["model"] = ModelFile,
            ["method"] = run.Method,
            ["ecg_model"] = run.Config.Network.EcgModel,
            ["checkpoint"] = run.CheckpointPath,
            ["opset"] = OnnxGraph.Opset,
            ["input"] = new JsonObject
            {
                ["name"] = OnnxEcgExporter.InputName, ["dtype"] = "float32",
                ["shape"] = new JsonArray("batch", model.Leads, model.InputLength),
            },
            ["output"] = new JsonObject
            {
                ["name"] = OnnxEcgExporter.OutputName, ["dtype"] = "float32", ["shape"] = new JsonArray("batch", model.Width),
                ["l2_normalized"] = true,
                ["what"] = model.Method == PretrainingMethod.Merl ? "normalize(mean over tokens of the attention-pooled ECG tokens)"
                    : "normalize(mean over tokens of the attention-pooled ECG tokens + proj_t(mean of the ECG→text decoder's output))",
            },
            ["preprocessing"] = PreprocessingJson(preprocess, source, run),
        };
        var classes = new List<string>();
        string? promptPath = prompts ?? TryRunPrompts(run);
        if (promptPath is not null)
        {
            var loaded = ClassPrompts.Load(promptPath);
            classes.AddRange(loaded.Descriptions.Keys);
            var zeroShot = new DeriZeroShotModel(run.Module, run.Device);
            using var embeddings = ZeroShotClassifier.ClassEmbeddings(zeroShot, loaded.TextsFor(classes));   // (C, d) float64
            var flat = embeddings.cpu().contiguous().data<double>().ToArray();
            int d = (int)embeddings.shape[1];
            sidecar["zero_shot"] = new JsonObject
            {
                ["prompts"] = Path.GetFullPath(promptPath),
                ["scores"] = "embedding (batch, d) · class_embeddings (C, d)ᵀ → cosine scores (batch, C)",
                ["classes"] = new JsonArray(classes.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
                ["class_embeddings"] = new JsonArray(Enumerable.Range(0, classes.Count)
                    .Select(i => (JsonNode?)new JsonArray(flat.AsSpan(i * d, d).ToArray().Select(v => (JsonNode?)JsonValue.Create((float)v)).ToArray())).ToArray()),
            };
        }
        else log?.Invoke($"{run.Directory}: no prompt file (pass --prompts FILE): the sidecar has no class embeddings");
        string sidecarPath = Path.GetFullPath(Path.Combine(directory, SidecarFile));
        AtomicFile.WriteAllText(sidecarPath, sidecar.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return new OnnxExportResult(modelPath, sidecarPath, classes, source);
    }

    private static string? TryRunPrompts(PretrainedRun run)
    {
        try
        {
            return ZeroShotEvaluation.ResolvePrompts(run, null);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    // The store's recorded preprocessing when the run's store is still there; else Deri's default at the run's rate and length.
    private static (PreprocessConfig Config, string Source) Preprocessing(PretrainedRun run)
    {
        string path = run.Config.Dataset.DataPath;
        if (!string.IsNullOrWhiteSpace(path) && EcgStore.Exists(path))
        {
            using var store = EcgStore.Open(path);
            return (store.Index.Preprocess, "store");
        }
        return (PreprocessConfig.Default with { TargetRate = run.Config.Dataset.SamplingRate, TargetLength = run.Config.Dataset.SeqLength }, "defaults");
    }

    private static JsonObject PreprocessingJson(PreprocessConfig p, string source, PretrainedRun run) => new()
    {
        ["source"] = source == "store" ? $"store index of {Path.GetFullPath(run.Config.Dataset.DataPath)}" : "Deri defaults at the run's dataset.sampling_rate and seq_length",
        ["sampling_rate_hz"] = p.TargetRate,
        ["length_samples"] = p.TargetLength,
        ["crop_start"] = p.CropStart,
        ["crop_length"] = p.EffectiveCropLength,
        ["pad"] = "zeros after the cropped samples up to length_samples",
        ["units"] = "millivolts before normalisation",
        ["repair_non_finite"] = p.RepairNonFinite,
        ["normalization"] = p.Normalization switch
        {
            Normalization.MinMax => "min_max: (x - min) / (max - min + 1e-8) over all leads and samples of the record",
            Normalization.ZScorePerLead => "zscore_per_lead: (x - mean) / (std + 1e-8) per lead",
            _ => "none",
        },
        ["normalize_after_padding"] = p.NormalizeAfterPadding,
        ["lead_order"] = p.ReorderLeads ? new JsonArray(LeadOrder.Model.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray())
            : JsonValue.Create("the first 12 channels as stored in the source files (the store was prepared without lead reordering)"),
        ["order_of_steps"] = "units → non-finite repair → resample → crop → zero-pad → normalise → lead order",
    };
}
