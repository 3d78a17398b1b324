using System.Text.Json;
using Deri.Downstream;
using Deri.IO;
using Deri.Pretraining;

namespace Deri.Retrieval;

/// <summary>What <see cref="RetrievalIndexBuilder.Build"/> indexes.</summary>
/// <param name="Store">Prepared store (with reports).</param>
/// <param name="Split">Split to index; <c>all</c> for every record.</param>
/// <param name="BatchSize">Records or reports per forward pass.</param>
public sealed record IndexBuildOptions(string Store, string Split = "all", int BatchSize = 64);

/// <summary>Builds a <see cref="RetrievalIndex"/> from a store with a DERI or MERL run.</summary>
public static class RetrievalIndexBuilder
{
    /// <summary>
    /// Embeds the ECGs and reports of the store's split and writes the index folder <paramref name="outputDirectory"/>:
    /// everything is written into a sibling temporary folder that is renamed into place at the end, so a reader never
    /// sees a half-written index; an index already there is replaced only after the new one is complete.
    /// Records whose ECG or report embedding is not finite are left out and listed in the manifest.
    /// </summary>
    /// <exception cref="InputFormatException">The store does not fit the run, or the split is empty.</exception>
    /// <exception cref="IOException">The output path is an existing folder that is not a retrieval index.</exception>
    public static IndexManifest Build(PretrainedRun run, IndexBuildOptions options, string outputDirectory, Action<string>? log = null)
    {
        log ??= _ => { };
        var encoder = new PairEncoder(run);
        string target = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(target) && !RetrievalIndex.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            throw new OutputPathException($"{target}: exists and is not a retrieval index; choose another --out");
        using var store = FeatureExtractor.OpenStore(options.Store);
        int[] rows = FeatureExtractor.Rows(store, options.Split);
        log($"embedding {rows.Length} ECGs of {store.Directory} ({options.Split})");
        using var ecg = FeatureExtractor.Compute(run, store, rows, DownstreamFeature.ZeroShot, options.BatchSize);   // (N, D)
        int d = (int)ecg.Features.shape[1];
        var ecgValues = ecg.Features.data<float>().ToArray();
        var skipped = ecg.Skipped.ToList();

        log($"embedding {ecg.Rows.Length} reports");
        var keptEcg = new List<float>(ecgValues.Length);
        var keptText = new List<float>(ecgValues.Length);
        var entries = new List<IndexEntry>(ecg.Rows.Length);
        for (int start = 0; start < ecg.Rows.Length; start += options.BatchSize)
        {
            int n = Math.Min(options.BatchSize, ecg.Rows.Length - start);
            var reports = ecg.Rows.Skip(start).Take(n).Select(r => store.Entries[r].Report).ToList();
            var text = encoder.EncodeTexts(reports);
            for (int b = 0; b < n; b++)
            {
                var e = store.Entries[ecg.Rows[start + b]];
                if (!text[b].All(float.IsFinite))
                {
                    skipped.Add(e.Id);
                    continue;
                }
                keptEcg.AddRange(ecgValues.AsSpan((start + b) * d, d));
                keptText.AddRange(text[b]);
                entries.Add(new IndexEntry(e.Id, e.Split, e.Report, EmbeddingFile.PositiveLabels(store, e)));
            }
        }
        if (entries.Count == 0) throw new InputFormatException($"{store.Directory}: no record of split '{options.Split}' has finite embeddings");

        var manifest = new IndexManifest
        {
            Run = run.Directory,
            Checkpoint = run.CheckpointPath,
            Method = run.Method,
            Store = Path.GetFullPath(store.Directory),
            Split = options.Split,
            Dim = d,
            SamplingRate = store.Index.SamplingRate,
            Preprocess = store.Index.Preprocess,
            Skipped = skipped,
            Entries = entries,
        };
        Write(target, manifest, keptEcg.ToArray(), keptText.ToArray());
        return manifest;
    }

    /// <summary>Writes an index folder from its parts (vectors row-major <c>N × D</c>, unit length), atomically as a folder.</summary>
    public static void Write(string outputDirectory, IndexManifest manifest, float[] ecg, float[] report)
    {
        string target = Path.GetFullPath(outputDirectory);
        long expected = (long)manifest.Entries.Count * manifest.Dim;
        if (ecg.Length != expected || report.Length != expected)
            throw new ArgumentException($"vectors hold {ecg.Length} and {report.Length} values, {manifest.Entries.Count} × {manifest.Dim} expected");
        // Replace: an index is remade from its run and store, and the target name only ever holds a complete index.
        AtomicFile.WriteFolder(target, ExistingFolder.Replace, temp =>
        {
            AtomicFile.Write(Path.Combine(temp, RetrievalIndex.EcgFile), s => RetrievalIndex.WriteVectors(s, ecg));
            AtomicFile.Write(Path.Combine(temp, RetrievalIndex.ReportFile), s => RetrievalIndex.WriteVectors(s, report));
            AtomicFile.WriteAllText(Path.Combine(temp, RetrievalIndex.ManifestFile),
                JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        });
    }
}
