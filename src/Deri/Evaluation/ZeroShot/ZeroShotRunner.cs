using Deri.Data.Store;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Evaluation;

/// <summary>
/// A model that classifies zero-shot: its ECG and text embeddings (<see cref="IZeroShotEncoder"/>), the module
/// that is put in eval mode while scoring, and the device its inputs go to. The pretraining code implements it,
/// so evaluation depends on this interface rather than on any model type.
/// </summary>
public interface IZeroShotModel : IZeroShotEncoder
{
    /// <summary>The module whose training mode is switched off while scoring and restored afterwards.</summary>
    nn.Module Module { get; }

    /// <summary>Where ECG batches are moved before <see cref="IZeroShotEncoder.EncodeEcg"/>.</summary>
    Device Device { get; }
}

/// <summary>A labelled split of a prepared store to classify zero-shot.</summary>
/// <param name="Name">Name used in logs and tables.</param>
/// <param name="Store">The store.</param>
/// <param name="Rows">Store rows of the split.</param>
public sealed record ZeroShotSet(string Name, EcgStore Store, int[] Rows)
{
    /// <summary>The <paramref name="split"/> rows of <paramref name="store"/>.</summary>
    /// <exception cref="InputFormatException">The store has no labels or the split is empty.</exception>
    public static ZeroShotSet FromSplit(string name, EcgStore store, string split)
    {
        if (store.LabelNames.Count == 0)
            throw new InputFormatException($"{store.Directory}: the store has no labels, so it cannot be classified zero-shot");
        int[] rows = store.IndicesOf(split);
        if (rows.Length == 0) throw new InputFormatException($"{store.Directory}: split '{split}' is empty");
        return new ZeroShotSet(name, store, rows);
    }
}

/// <summary>
/// Zero-shot classification (METHOD §4) of a store's records with a model: class prompts through its text side,
/// ECGs through its zero-shot embedding, cosine scores, then the metrics.
/// </summary>
public static class ZeroShotRunner
{
    /// <summary>Classes of <paramref name="set"/> that have a prompt, in the store's label order.</summary>
    public static IReadOnlyList<string> ClassesWithPrompts(ZeroShotSet set, ClassPrompts prompts) =>
        set.Store.LabelNames.Where(prompts.Descriptions.ContainsKey).ToList();

    /// <summary>Cosine scores <c>(N, C)</c> of the set's records against the classes' prompts.</summary>
    /// <exception cref="InputFormatException">A score is NaN or infinite; the message names the records.</exception>
    public static double[,] Scores(IZeroShotModel model, ZeroShotSet set, IReadOnlyList<string> classNames,
        ClassPrompts prompts, int batchSize)
    {
        var module = model.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var classEmbeddings = ZeroShotClassifier.ClassEmbeddings(model, prompts.TextsFor(classNames));
            var scores = ZeroShotClassifier.Scores(model, Batches(set, batchSize, model.Device), classEmbeddings);
            ThrowOnNonFinite(scores, set, classNames);
            return scores;
        }
        finally
        {
            module.train(wasTraining);
        }
    }

    // A non-finite score poisons every metric of its class; name the records (by store id) so the user can look at
    // their signals, instead of an AUC error that names no record.
    private static void ThrowOnNonFinite(double[,] scores, ZeroShotSet set, IReadOnlyList<string> classNames)
    {
        var bad = new List<string>();
        int badCount = 0;
        for (int i = 0; i < scores.GetLength(0); i++)
        {
            int c = Enumerable.Range(0, scores.GetLength(1)).FirstOrDefault(j => !double.IsFinite(scores[i, j]), -1);
            if (c < 0) continue;
            badCount++;
            if (bad.Count < 10) bad.Add($"{set.Store.Entries[set.Rows[i]].Id} ({classNames[c]}: {scores[i, c]})");
        }
        if (badCount == 0) return;
        throw new InputFormatException(
            $"{set.Store.Directory}: zero-shot scores of {badCount} of {scores.GetLength(0)} {set.Name} records are not finite " +
            $"(NaN or infinite model output; check these records' signals and the run's weights): {string.Join(", ", bad)}" +
            (badCount > bad.Count ? $", and {badCount - bad.Count} more" : ""));
    }

    /// <summary>
    /// Classifies <paramref name="test"/> and reports both threshold protocols when <paramref name="validation"/>
    /// is given (thresholds from validation applied to test), otherwise the paper's protocol only.
    /// Classes without a prompt are left out (named in the returned list). <paramref name="testScores"/>, when given,
    /// receives the test split's scores <c>(N, C)</c> and 0/1 labels in the order of <see cref="ZeroShotSet.Rows"/>.
    /// </summary>
    public static (ZeroShotResult Result, IReadOnlyList<string> MissingPrompts) Evaluate(IZeroShotModel model, ZeroShotSet test,
        ZeroShotSet? validation, ClassPrompts prompts, int batchSize = 256, Action<double[,], int[,]>? testScores = null)
    {
        var classes = ClassesWithPrompts(test, prompts);
        var missing = test.Store.LabelNames.Except(classes).ToList();
        if (classes.Count == 0)
            throw new InputFormatException($"{prompts.Source}: no prompt for any class of {test.Name} ({string.Join(", ", test.Store.LabelNames)})");
        var scores = Scores(model, test, classes, prompts, batchSize);
        var labels = Labels(test, classes);
        testScores?.Invoke(scores, labels);
        if (validation is null) return (ZeroShotClassifier.Evaluate(scores, labels, classes, splitName: test.Name), missing);
        var valScores = Scores(model, validation, classes, prompts, batchSize);
        return (ZeroShotClassifier.Evaluate(scores, labels, classes, valScores, Labels(validation, classes), test.Name), missing);
    }

    /// <summary>0/1 labels <c>(N, C)</c> of the set for <paramref name="classNames"/>.</summary>
    public static int[,] Labels(ZeroShotSet set, IReadOnlyList<string> classNames)
    {
        var columns = classNames.Select(c => set.Store.LabelNames.ToList().IndexOf(c)).ToArray();
        var labels = new int[set.Rows.Length, columns.Length];
        for (int i = 0; i < set.Rows.Length; i++)
        {
            var v = set.Store.Entries[set.Rows[i]].Labels;
            for (int j = 0; j < columns.Length; j++) labels[i, j] = v[columns[j]] >= 0.5f ? 1 : 0;
        }
        return labels;
    }

    private static IEnumerable<Tensor> Batches(ZeroShotSet set, int batchSize, Device device)
    {
        for (int start = 0; start < set.Rows.Length; start += batchSize)
        {
            int n = Math.Min(batchSize, set.Rows.Length - start);
            var batch = set.Store.ReadTensor(set.Rows.AsSpan(start, n));
            // Device has no value equality: compare type and index.
            bool onDevice = batch.device_type == device.type && (device.index < 0 || batch.device_index == device.index);
            if (onDevice) yield return batch;
            else
            {
                var moved = batch.to(device);
                batch.Dispose();
                yield return moved;
            }
        }
    }
}

/// <summary>Zero-shot AUC on validation sets at each epoch end; their mean selects the best checkpoint.</summary>
public sealed class ZeroShotEpochEvaluator(IZeroShotModel model, IReadOnlyList<ZeroShotSet> sets, ClassPrompts prompts,
    int batchSize) : IEpochEvaluator
{
    /// <inheritdoc />
    public EpochEvaluation Evaluate(int epoch)
    {
        var scores = new Dictionary<string, double>();
        foreach (var set in sets)
        {
            var (result, _) = ZeroShotRunner.Evaluate(model, set, null, prompts, batchSize);
            scores[$"zeroshot_auc/{set.Name}"] = result.Paper.MacroAuc;
        }
        double mean = scores.Values.Average();
        string on = string.Join(", ", sets.Select(s => $"{s.Name} ({s.Rows.Length} records)"));
        return new EpochEvaluation(scores, "mean_zeroshot_auc", mean, on);
    }
}
