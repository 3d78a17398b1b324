using Deri.IO;
using Deri.Data.Store;
using Deri.Interop.Bundle;
using Deri.Retrieval;
using Deri.Runtime;

namespace Deri.Serving;

// The parts of the service that serve a model bundle (deri model build): its ECG side on ONNX Runtime, its
// preprocessing, classes, prompt embeddings and validation thresholds from its sidecar, instead of a run's.
public sealed partial class InferenceService
{
    /// <summary>The engine that runs the ECG side: <c>onnxruntime</c> for a bundle, <c>torchsharp</c> for a run.</summary>
    public string Engine => bundle is not null ? "onnxruntime" : "torchsharp";

    /// <summary>The bundle's model card (Markdown); null when serving a run.</summary>
    public string? ModelCardPath => bundle?.CardPath;

    // A bundle carries its preprocessing, prompts and thresholds: options that would replace them are mistakes, not
    // silently ignored.
    private static ModelBundle OpenBundle(ServiceOptions options)
    {
        if (options.Store is not null || options.Prompts is not null)
            throw new InputValueException($"{options.Run} is a model bundle: it carries its own preprocessing, prompts and validation thresholds " +
                "(--store and --prompts go with a run folder)");
        if (options.Checkpoint is not ("best" or ""))
            throw new InputValueException($"{options.Run} is a model bundle: it holds one model (--checkpoint goes with a run folder)");
        return ModelBundle.Open(options.Run);
    }

    private static (RetrievalIndex? Index, EcgStore? CaseStore, Dictionary<string, int>? CaseRows) OpenIndex(string? path)
    {
        if (path is null) return (null, null, null);
        var index = RetrievalIndex.Open(path);
        if (!EcgStore.Exists(index.Manifest.Store)) return (index, null, null);
        try
        {
            var store = EcgStore.Open(index.Manifest.Store);
            var rows = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < store.Count; i++) rows.TryAdd(store.Entries[i].Id, i);
            return (index, store, rows);
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    // An index must hold vectors of the bundle's model: same width and record length, and, where the index's checkpoint
    // file is still there, the checkpoint the bundle was built from.
    private static void CheckIndex(RetrievalIndex index, ModelBundle bundle)
    {
        var m = bundle.Manifest;
        if (index.Dim != m.Onnx.Dim)
            throw new InputFormatException($"{index.Directory}: vectors are {index.Dim}-d but the bundle {m.Name} embeds into {m.Onnx.Dim}-d (build the index with the bundle's run)");
        if (index.Manifest.Preprocess.TargetLength != m.Onnx.Length)
            throw new InputFormatException($"{index.Directory}: the index's preprocessing gives {index.Manifest.Preprocess.TargetLength} samples, the bundle {m.Name} takes {m.Onnx.Length}");
        string ckpt = index.Manifest.Checkpoint;
        if (File.Exists(ckpt) && ModelBundle.Sha256(ckpt) != m.Provenance.CheckpointSha256)
            throw new InputFormatException($"{index.Directory}: built with the checkpoint {ckpt}, not the one the bundle {m.Name} was built from (SHA-256 {m.Provenance.CheckpointSha256[..16]}…)");
    }

    private ModelInfo DescribeBundle(ModelBundle b, RuntimeInfo info)
    {
        var m = b.Manifest;
        return new ModelInfo(m.Name, m.Onnx.File, m.Provenance.Method,
            ClassNames.Select((c, i) => new Finding(c, PromptTexts[i], 0, Thresholds?[i], null)).ToList(),
            Preprocessing, reportRun is null ? null : FolderName(reportRun.Directory), index is null ? null : FolderName(index.Directory),
            new Dictionary<string, string>
            {
                ["deri"] = info.DeriVersion,
                ["dotnet"] = Environment.Version.ToString(),
                ["onnxruntime"] = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "unknown",
                ["torchsharp"] = info.TorchSharpVersion,
                ["libtorch"] = info.LibTorchVersion,
            },
            Options.MaxBatch, m.Provenance.CheckpointEpoch, checkpointFacts.Sha256)
        {
            Name = m.Name,
            Version = m.Version,
            Engine = Engine,
            Card = ModelCardRoute,
            SourceRun = m.Provenance.Run,
        };
    }

    /// <summary>Where the server serves the bundle's model card.</summary>
    public const string ModelCardRoute = "/api/v1/model/card";
}
