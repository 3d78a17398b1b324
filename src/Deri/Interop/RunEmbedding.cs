using Deri.Downstream;
using Deri.Models.Inference;
using Deri.Pretraining;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Interop;

/// <summary>
/// The fast inference path (<see cref="EcgEmbedder"/>: folded batch norms, inference mode) for a pretrained run:
/// the library entry point for callers that embed ECGs with a run (the embed command, a service).
/// </summary>
public static class RunEmbedding
{
    /// <summary>
    /// An embedder of a DERI or MERL run's model computing <paramref name="feature"/>; the run must outlive it.
    /// </summary>
    /// <exception cref="ArgumentException">The run is an ECG-only baseline (its representation is its method's own; use
    /// <see cref="FeatureExtractor.Compute"/>), or a MERL run asked for the mixed feature.</exception>
    public static EcgEmbedder Load(PretrainedRun run, DownstreamFeature feature)
    {
        if (!run.IsEcgText)
            throw new InputValueException($"{run.Directory}: the folded inference path serves DERI and MERL runs; this {run.Method} run embeds through its own method");
        return EcgEmbedder.Create(run.Module.Model, Kind(feature));
    }

    /// <summary>The <see cref="EcgEmbeddingKind"/> of a downstream feature name.</summary>
    public static EcgEmbeddingKind Kind(DownstreamFeature feature) => feature switch
    {
        DownstreamFeature.Mixed => EcgEmbeddingKind.Mixed,
        DownstreamFeature.Aligned => EcgEmbeddingKind.Aligned,
        DownstreamFeature.Global => EcgEmbeddingKind.Global,
        DownstreamFeature.ZeroShot => EcgEmbeddingKind.ZeroShot,
        DownstreamFeature.Encoder => EcgEmbeddingKind.Encoder,
        _ => throw new ArgumentOutOfRangeException(nameof(feature), feature, "unknown feature"),
    };

    /// <summary>
    /// <see cref="EmbeddingFile.Export"/> through the fast path for DERI and MERL runs: the <paramref name="split"/> records
    /// of a store embedded in batches of <paramref name="batchSize"/> and written as the same CSV. A record whose embedding
    /// is not finite is left out and named. ECG-only baseline runs go through <see cref="EmbeddingFile.Export"/> unchanged.
    /// </summary>
    /// <returns>Records written, embedding width, ids of records left out, and whether the folded path was used.</returns>
    /// <exception cref="InputFormatException">The store's record shape does not match the run, or every record was left out.</exception>
    public static (int Records, int Dim, IReadOnlyList<string> Skipped, bool Fast) Export(PretrainedRun run, string storeDirectory, string split,
        DownstreamFeature feature, string path, int batchSize = 64)
    {
        if (!run.IsEcgText)
        {
            var (n, d, skipped) = EmbeddingFile.Export(run, storeDirectory, split, feature, path, batchSize);
            return (n, d, skipped, false);
        }
        if (batchSize <= 0) throw new InputValueException($"batch size must be positive, got {batchSize}");
        using var store = FeatureExtractor.OpenStore(storeDirectory);
        run.CheckStore(store);
        int[] rows = FeatureExtractor.Rows(store, split);
        using var embedder = Load(run, feature);
        var list = new List<EmbeddingRow>(rows.Length);
        var left = new List<string>();
        for (int start = 0; start < rows.Length; start += batchSize)
        {
            int count = Math.Min(batchSize, rows.Length - start);
            using var scope = NewDisposeScope();
            var ecg = store.ReadTensor(rows.AsSpan(start, count), run.Device);      // (B, leads, samples)
            var vectors = embedder.Embed(ecg);                                      // B × D
            for (int b = 0; b < count; b++)
            {
                var entry = store.Entries[rows[start + b]];
                if (!vectors[b].All(float.IsFinite))
                {
                    left.Add(entry.Id);
                    continue;
                }
                list.Add(new EmbeddingRow(entry.Id, entry.Split, EmbeddingFile.PositiveLabels(store, entry), vectors[b].Select(x => (double)x).ToArray()));
            }
        }
        if (list.Count == 0)
            throw new InputFormatException($"{store.Directory}: every record gives a non-finite {FeatureExtractor.Name(feature)} feature (first: {left[0]})");
        EmbeddingFile.Write(path, list);
        return (list.Count, (int)embedder.Dim, left, true);
    }
}
