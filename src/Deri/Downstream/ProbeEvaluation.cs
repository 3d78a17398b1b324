using System.Globalization;
using Deri.Evaluation;
using Deri.Pretraining;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Downstream;

/// <summary>What <see cref="ProbeEvaluation.Run"/> probes.</summary>
/// <param name="Runs">Run folders (several to compare checkpoints, e.g. DERI and MERL).</param>
/// <param name="Stores">Labelled stores with <c>train</c>, <c>val</c> and <c>test</c> splits.</param>
/// <param name="Checkpoint"><c>best</c>, <c>last</c> or a checkpoint path (a path only makes sense with one run).</param>
/// <param name="Feature">Frozen feature; null picks each run's own (<see cref="FeatureExtractor.DefaultFor"/>): <see cref="DownstreamFeature.Mixed"/> for DERI, <see cref="DownstreamFeature.Aligned"/> for MERL, <see cref="DownstreamFeature.Encoder"/> for the ECG-only baselines.</param>
/// <param name="Ratios">Training ratios in percent.</param>
/// <param name="Probe">Linear-probe hyper-parameters (epochs, seed, …).</param>
/// <param name="BatchSize">Records per forward pass when computing features.</param>
public sealed record ProbeOptions(IReadOnlyList<string> Runs, IReadOnlyList<string> Stores, string Checkpoint = "best",
    DownstreamFeature? Feature = null, IReadOnlyList<double>? Ratios = null, LinearProbeOptions? Probe = null, int BatchSize = 64);

/// <summary>Linear-probe results of one (store, run) pair.</summary>
/// <param name="Store">Store name (its folder name).</param>
/// <param name="Run">Run name (its folder name).</param>
/// <param name="Checkpoint">Checkpoint whose features were probed.</param>
/// <param name="Feature">The feature probed.</param>
/// <param name="Samples">Records of train, val and test.</param>
/// <param name="Results">One result per ratio.</param>
public sealed record ProbeStoreResult(string Store, string Run, string Checkpoint, DownstreamFeature Feature, (int Train, int Val, int Test) Samples,
    IReadOnlyList<LinearProbeResult> Results);

/// <summary>
/// Linear probing (METHOD §4) of one or more pretrained runs on one or more labelled stores: frozen features of
/// each split are computed once per (run, store) and kept in memory, then a probe is trained per training ratio.
/// </summary>
public static class ProbeEvaluation
{
    /// <summary>
    /// Probes every (run, store) pair; writes a <c>probe</c> table (rows <c>store / run</c>, one test macro AUC
    /// column per ratio) as Markdown, CSV and JSON when <paramref name="outputDirectory"/> is given.
    /// </summary>
    /// <exception cref="InputFormatException">A store has no labels or lacks a split.</exception>
    public static (IReadOnlyList<ProbeStoreResult> Results, ResultTable Table, IReadOnlyList<string> Files) Run(ProbeOptions options, Device device,
        string? outputDirectory = null, string commandLine = "deri probe", Action<string>? log = null)
    {
        log ??= _ => { };
        if (options.Runs.Count == 0) throw new InputValueException("no run to probe");
        if (options.Stores.Count == 0) throw new InputValueException("no store to probe");
        var probe = options.Probe ?? new LinearProbeOptions();
        probe.Validate();
        var ratios = options.Ratios ?? [1, 10, 100];
        foreach (var s in options.Stores)
            if (!Data.Store.EcgStore.Exists(s))
                throw new InputFileNotFoundException($"{s}: no prepared store (no {Data.Store.EcgStore.IndexFile}; make one with `deri data prepare`)");
        RequireDistinct(options.Runs, "run");
        RequireDistinct(options.Stores, "store");
        var runNames = UniqueNames(options.Runs);
        var storeNames = UniqueNames(options.Stores);

        var results = new List<ProbeStoreResult>();
        var notes = new ProbeNotes();
        for (int r = 0; r < options.Runs.Count; r++)
        {
            using var run = PretrainedRun.Load(options.Runs[r], options.Checkpoint, device);
            var feature = options.Feature ?? FeatureExtractor.DefaultFor(run);
            log($"run {runNames[r]}: {run.CheckpointPath}, {FeatureExtractor.Name(feature)} features");
            for (int s = 0; s < options.Stores.Count; s++)
                results.Add(ProbeStore(run, runNames[r], options.Stores[s], storeNames[s], feature, ratios, probe, options.BatchSize, notes, log));
        }

        var ordered = results.OrderBy(x => storeNames.IndexOf(x.Store)).ThenBy(x => runNames.IndexOf(x.Run)).ToList();
        var table = Table(ordered, probe, options.Stores, storeNames, notes);
        IReadOnlyList<string> files = [];
        if (outputDirectory is not null)
        {
            Directory.CreateDirectory(outputDirectory);
            string checkpoints = string.Join("; ", ordered.Select(x => x.Checkpoint).Distinct());
            files = table.WriteAll(outputDirectory, "probe", new RunProvenance(commandLine, checkpoints));
        }
        return (ordered, table, files);
    }

    /// <summary>What the table's notes list across all pairs: ratios too small for a store, records with non-finite features.</summary>
    private sealed class ProbeNotes
    {
        public List<string> Skipped { get; } = [];

        public List<string> TooSmall { get; } = [];
    }

    /// <summary>
    /// Probes one (run, store) pair: the features of each split once <c>(N, D)</c>, kept in memory for every ratio, then one
    /// probe per ratio. A ratio that leaves no training sample on a small split is skipped for that store (and noted), not fatal.
    /// </summary>
    private static ProbeStoreResult ProbeStore(PretrainedRun run, string runName, string storePath, string storeName, DownstreamFeature feature,
        IReadOnlyList<double> ratios, LinearProbeOptions probe, int batchSize, ProbeNotes notes, Action<string> log)
    {
        using var store = FeatureExtractor.OpenStore(storePath);
        FeatureExtractor.RequireLabels(store);
        var splits = new List<(int[] Rows, ProbeSplit Split)>();
        try
        {
            foreach (var name in new[] { "train", "val", "test" })
            {
                var set = FeatureExtractor.Compute(run, store, FeatureExtractor.Rows(store, name), feature, batchSize);
                splits.Add((set.Rows, new ProbeSplit(set.Features, FeatureExtractor.Labels(store, set.Rows))));
                if (set.Skipped.Count > 0)
                {
                    log($"{storeName} {name}: {set.Skipped.Count} records left out (non-finite feature): {string.Join(", ", set.Skipped)}");
                    notes.Skipped.AddRange(set.Skipped.Select(id => $"{storeName}/{name}/{id}"));
                }
            }
            log($"{storeName} / {runName}: {FeatureExtractor.Name(feature)} features of {splits[0].Rows.Length} train, " +
                $"{splits[1].Rows.Length} val, {splits[2].Rows.Length} test records ({splits[0].Split.Features.shape[1]}-d)");
            int nTrain = splits[0].Rows.Length;
            var usable = ratios.Where(p => p == 100 || Math.Floor(p / 100 * nTrain) >= 1).ToList();
            foreach (var p in ratios.Except(usable))
            {
                log(string.Create(CultureInfo.InvariantCulture, $"  {p}%: skipped, {p} % of {nTrain} training records is less than one record"));
                notes.TooSmall.Add(string.Create(CultureInfo.InvariantCulture, $"{storeName} / {runName} {p}% ({nTrain} training records)"));
            }
            var rs = LinearProbe.RunRatios(splits[0].Split, splits[1].Split, splits[2].Split, store.LabelNames, usable, probe);
            foreach (var x in rs)
                log(string.Create(CultureInfo.InvariantCulture,
                    $"  {x.RatioPercent}%: {x.TrainSamples} samples, best epoch {x.BestEpoch}, val AUC {x.ValidationMacroAuc:F2}, test AUC {x.TestMacroAuc:F2}"));
            return new ProbeStoreResult(storeName, runName, run.CheckpointPath, feature,
                (splits[0].Rows.Length, splits[1].Rows.Length, splits[2].Rows.Length), rs);
        }
        finally
        {
            foreach (var x in splits) x.Split.Features.Dispose();
        }
    }

    /// <summary>The <c>probe</c> table: rows <c>store / run</c>, one test macro AUC column per ratio, and its notes.</summary>
    private static ResultTable Table(List<ProbeStoreResult> ordered, LinearProbeOptions probe, IReadOnlyList<string> stores,
        List<string> storeNames, ProbeNotes notes)
    {
        var table = ResultTable.ForLinearProbe(ordered.Select(x => ($"{x.Store} / {x.Run}", x.Results)),
            $"Linear probing of frozen features (test macro AUC, x100)");
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"probe: {probe.Epochs} epochs, batch {probe.BatchSize}, AdamW lr {probe.LearningRate}, warm-up {probe.WarmupEpochs} epochs, seed {probe.Seed}; the epoch with the best validation macro AUC is evaluated on test"));
        foreach (var x in ordered.DistinctBy(x => x.Run)) table.Notes.Add($"run {x.Run}: {x.Checkpoint}, {FeatureExtractor.Name(x.Feature)} features");
        foreach (var x in ordered.DistinctBy(x => x.Store))
            table.Notes.Add($"store {x.Store}: {Path.GetFullPath(stores[storeNames.IndexOf(x.Store)])} ({x.Samples.Train} train, {x.Samples.Val} val, {x.Samples.Test} test)");
        if (notes.TooSmall.Count > 0) table.Notes.Add($"ratios skipped because they leave no training record: {string.Join("; ", notes.TooSmall.Distinct())}");
        if (notes.Skipped.Count > 0) table.Notes.Add($"records left out for a non-finite feature ({notes.Skipped.Count}): {string.Join(", ", notes.Skipped)}");
        return table;
    }

    private static void RequireDistinct(IReadOnlyList<string> paths, string what)
    {
        var twice = paths.GroupBy(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new InputValueException($"{what} {twice.Key} is given twice");
    }

    // Folder names, or full paths where two folders share a name.
    private static List<string> UniqueNames(IReadOnlyList<string> paths)
    {
        var full = paths.Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p))).ToList();
        var names = full.Select(Path.GetFileName).Select(n => n ?? "").ToList();
        return names.Select((n, i) => names.Count(m => m == n) > 1 ? full[i] : n).ToList();
    }
}
