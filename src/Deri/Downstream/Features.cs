using Deri.Data.Store;
using Deri.IO;
using Deri.Models;
using Deri.Pretraining;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Downstream;

/// <summary>Which frozen ECG representation a downstream command uses.</summary>
public enum DownstreamFeature
{
    /// <summary>DERI's probe feature (<see cref="ProbeFeatureKind.Mixed"/>): aligned tokens plus the decoded text view.</summary>
    Mixed,
    /// <summary>MERL's probe feature (<see cref="ProbeFeatureKind.Aligned"/>): mean of the aligned tokens.</summary>
    Aligned,
    /// <summary>Mean over time of the down-projected feature map (<see cref="ProbeFeatureKind.Global"/>).</summary>
    Global,
    /// <summary>The zero-shot ECG embedding that is compared with class prompts.</summary>
    ZeroShot,
    /// <summary>
    /// Mean over time of the ECG backbone's feature map: an ECG-only baseline's representation
    /// (<see cref="Baselines.EcgSslMethod.Represent"/>), and the same pooling of DERI's or MERL's encoder.
    /// </summary>
    Encoder,
}

/// <summary>Features of store records, with the records they belong to.</summary>
/// <param name="Features"><c>(N, D)</c> float32 on the CPU; the caller disposes it.</param>
/// <param name="Rows">Store rows of the N feature rows, in order.</param>
/// <param name="Skipped">Ids of records left out because their feature was not finite.</param>
public sealed record FeatureSet(Tensor Features, int[] Rows, IReadOnlyList<string> Skipped) : IDisposable
{
    /// <summary>Disposes the features.</summary>
    public void Dispose() => Features.Dispose();
}

/// <summary>Frozen features of store records computed with a pretrained run.</summary>
public static class FeatureExtractor
{
    /// <summary>Parses <c>mixed</c>, <c>aligned</c>, <c>global</c>, <c>zeroshot</c> or <c>encoder</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Any other text.</exception>
    public static DownstreamFeature Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "mixed" => DownstreamFeature.Mixed,
        "aligned" => DownstreamFeature.Aligned,
        "global" => DownstreamFeature.Global,
        "zeroshot" or "zero-shot" => DownstreamFeature.ZeroShot,
        "encoder" => DownstreamFeature.Encoder,
        _ => throw new InputValueException($"unknown feature '{text}': use mixed, aligned, global, zeroshot or encoder"),
    };

    /// <summary>A run's own feature: mixed for DERI, aligned for MERL, encoder for the ECG-only baselines.</summary>
    public static DownstreamFeature DefaultFor(PretrainedRun run) =>
        !run.IsEcgText ? DownstreamFeature.Encoder
        : run.Module.Model.Method == PretrainingMethod.Merl ? DownstreamFeature.Aligned
        : DownstreamFeature.Mixed;

    /// <summary>The lower-case name used on the command line and in file headers.</summary>
    public static string Name(DownstreamFeature feature) => feature.ToString().ToLowerInvariant();

    /// <summary>
    /// Store rows of a split in signal order; <c>all</c> gives every row.
    /// </summary>
    /// <exception cref="InputFormatException">The split has no rows.</exception>
    public static int[] Rows(EcgStore store, string split)
    {
        int[] rows = split == "all" ? Enumerable.Range(0, store.Count).ToArray() : store.IndicesOf(split);
        if (rows.Length == 0)
        {
            var present = store.Entries.Select(e => e.Split).Distinct().Order();
            throw new InputFormatException($"{store.Directory}: split '{split}' has no records (the store has: {string.Join(", ", present)})");
        }
        return rows;
    }

    /// <summary>
    /// Features <c>(N, D)</c> (float32, CPU) of the store records <paramref name="rows"/>: batches of
    /// <paramref name="batchSize"/> records go through the frozen model under <c>no_grad</c>, each in its own dispose
    /// scope, and only the features are kept. A record whose feature is not finite is left out and named in
    /// <see cref="FeatureSet.Skipped"/> rather than aborting the job.
    /// </summary>
    /// <exception cref="InputFormatException">The store's record shape does not match the run, or every record was skipped.</exception>
    public static FeatureSet Compute(PretrainedRun run, EcgStore store, int[] rows, DownstreamFeature feature, int batchSize = 64)
    {
        if (batchSize <= 0) throw new InputValueException($"batch size must be positive, got {batchSize}");
        if (rows.Length == 0) throw new InputValueException($"{store.Directory}: no records to encode");
        run.CheckStore(store);
        if (!run.IsEcgText && feature != DownstreamFeature.Encoder)
            throw new InputException(
                $"{run.Directory}: a {run.Method} run (ECG only) has only the encoder feature, not {Name(feature)}");
        var network = run.Network;
        bool wasTraining = network.training;
        network.eval();
        var values = new List<float>();
        var kept = new List<int>(rows.Length);
        var skipped = new List<string>();
        int d = 0;
        try
        {
            for (int start = 0; start < rows.Length; start += batchSize)
            {
                int n = Math.Min(batchSize, rows.Length - start);
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var ecg = store.ReadTensor(rows.AsSpan(start, n), run.Device);        // (B, leads, samples)
                var f = run.SslMethod is { } ssl ? ssl.Represent(ecg) : feature switch
                {
                    DownstreamFeature.ZeroShot => run.Module.Model.ZeroShotEcgEmbedding(ecg),
                    DownstreamFeature.Mixed => run.Module.Model.ProbeFeature(ecg, ProbeFeatureKind.Mixed),
                    DownstreamFeature.Aligned => run.Module.Model.ProbeFeature(ecg, ProbeFeatureKind.Aligned),
                    DownstreamFeature.Global => run.Module.Model.ProbeFeature(ecg, ProbeFeatureKind.Global),
                    DownstreamFeature.Encoder => run.Module.Model.Encoder.forward(ecg).mean([-1]),
                    _ => throw new ArgumentOutOfRangeException(nameof(feature), feature, "unknown feature"),
                };                                                                       // (B, D)
                d = (int)f.shape[1];
                var batch = f.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
                for (int b = 0; b < n; b++)
                {
                    var v = batch.AsSpan(b * d, d);
                    bool finite = true;
                    foreach (float x in v) finite &= float.IsFinite(x);
                    if (!finite)
                    {
                        skipped.Add(store.Entries[rows[start + b]].Id);
                        continue;
                    }
                    kept.Add(rows[start + b]);
                    values.AddRange(v);
                }
            }
        }
        finally
        {
            network.train(wasTraining);
        }
        if (kept.Count == 0)
            throw new InputFormatException($"{store.Directory}: every record gives a non-finite {Name(feature)} feature (first: {skipped[0]})");
        return new FeatureSet(torch.tensor(values.ToArray(), [kept.Count, d], ScalarType.Float32), kept.ToArray(), skipped);
    }

    /// <summary>0/1 labels <c>(N, C)</c> of the rows for every class of the store.</summary>
    /// <exception cref="InputFormatException">The store has no labels.</exception>
    public static int[,] Labels(EcgStore store, int[] rows)
    {
        RequireLabels(store);
        int c = store.LabelNames.Count;
        var labels = new int[rows.Length, c];
        for (int i = 0; i < rows.Length; i++)
        {
            var v = store.Entries[rows[i]].Labels;
            for (int j = 0; j < c; j++) labels[i, j] = v[j] >= 0.5f ? 1 : 0;
        }
        return labels;
    }

    /// <summary>Throws when a store has no label columns.</summary>
    /// <exception cref="InputFormatException">The store has no labels.</exception>
    public static void RequireLabels(EcgStore store)
    {
        if (store.LabelNames.Count == 0)
            throw new InputFormatException($"{store.Directory}: the store has no labels (prepare it from a labelled dataset)");
    }

    /// <summary>Opens a prepared store with a clear message when it is missing.</summary>
    /// <exception cref="InputFileNotFoundException">No store there.</exception>
    public static EcgStore OpenStore(string directory)
    {
        if (!EcgStore.Exists(directory))
            throw new InputFileNotFoundException($"{directory}: no prepared store (no {EcgStore.IndexFile}; make one with `deri data prepare`)");
        return EcgStore.Open(directory);
    }
}
