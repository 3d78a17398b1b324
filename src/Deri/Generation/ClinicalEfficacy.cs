using Deri.Evaluation;
using Deri.Pretraining;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Generation;

/// <summary>Single-label CE: macro precision, recall and F1 of the generated reports' categories against the references'.</summary>
/// <param name="Precision">Macro precision.</param>
/// <param name="Recall">Macro recall.</param>
/// <param name="F1">Macro F1.</param>
/// <param name="Samples">Reports compared.</param>
/// <param name="Classes">Categories averaged over (those that occur as truth or prediction, as sklearn does).</param>
public sealed record SingleLabelCe(double Precision, double Recall, double F1, int Samples, int Classes);

/// <summary>Multi-label CE: the generated reports' similarities to the class prompts scored against the store's labels.</summary>
/// <param name="Auc">Macro ROC-AUC over the classes.</param>
/// <param name="F1">Macro F1 at <paramref name="Threshold"/>.</param>
/// <param name="Accuracy">Macro accuracy at <paramref name="Threshold"/>.</param>
/// <param name="Threshold">The one similarity threshold, searched to maximise macro F1.</param>
/// <param name="Samples">Reports scored.</param>
/// <param name="Classes">Classes scored.</param>
/// <param name="Excluded">Classes left out, with the reason (no positive or no negative record, no prompt).</param>
public sealed record MultiLabelCe(double Auc, double F1, double Accuracy, double Threshold, int Samples, IReadOnlyList<string> Classes,
    IReadOnlyList<string> Excluded);

/// <summary>
/// The clinical-efficacy metrics of METHOD §4 (supplementary §3, Table 4). Texts are embedded with the pretrained run's
/// text encoder and <c>proj_t</c> (normalised), so similarity is the cosine of report and class-prompt embeddings.
/// </summary>
public static class ClinicalEfficacy
{
    /// <summary>Cosine similarities <c>[N, C]</c> of <paramref name="texts"/> to <paramref name="prompts"/>, embedded by <paramref name="run"/>.</summary>
    public static double[,] Similarities(PretrainedRun run, IReadOnlyList<string> texts, IReadOnlyList<string> prompts, int batchSize = 256)
    {
        var e = Embed(run, texts, batchSize);
        var p = Embed(run, prompts, batchSize);
        return Dot(e, p);
    }

    /// <summary>Normalised text embeddings <c>[N, d]</c> (the run's text encoder and <c>proj_t</c>), computed in batches.</summary>
    public static double[][] Embed(PretrainedRun run, IReadOnlyList<string> texts, int batchSize = 256)
    {
        run.Module.eval();
        var rows = new List<double[]>(texts.Count);
        using var _ = no_grad();
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = texts.Skip(start).Take(batchSize).ToList();
            var emb = run.Module.ClassEmbeddings(batch, run.Device).to(ScalarType.Float64).cpu();
            long d = emb.shape[1];
            var flat = emb.data<double>().ToArray();
            for (int i = 0; i < batch.Count; i++) rows.Add(flat.AsSpan(i * (int)d, (int)d).ToArray());
        }
        return rows.ToArray();
    }

    /// <summary>Dot products <c>[N, C]</c> of row vectors <paramref name="a"/> <c>[N, d]</c> and <paramref name="b"/> <c>[C, d]</c>.</summary>
    public static double[,] Dot(double[][] a, double[][] b)
    {
        var s = new double[a.Length, b.Length];
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < b.Length; j++)
            {
                double sum = 0;
                for (int k = 0; k < a[i].Length; k++) sum += a[i][k] * b[j][k];
                s[i, j] = sum;
            }
        return s;
    }

    /// <summary>The column of the largest value per row (the first on ties).</summary>
    public static int[] Argmax(double[,] scores)
    {
        int n = scores.GetLength(0), c = scores.GetLength(1);
        var result = new int[n];
        for (int i = 0; i < n; i++)
            for (int j = 1; j < c; j++)
                if (scores[i, j] > scores[i, result[i]]) result[i] = j;
        return result;
    }

    /// <summary>
    /// Macro precision, recall and F1, equal to sklearn's <c>precision_recall_fscore_support(truth, predicted,
    /// average='macro', zero_division=0)</c>: averaged over the labels that occur in either array; a zero denominator gives 0.
    /// </summary>
    public static SingleLabelCe SingleLabel(IReadOnlyList<int> truth, IReadOnlyList<int> predicted)
    {
        if (truth.Count != predicted.Count) throw new InputValueException($"{truth.Count} true labels but {predicted.Count} predictions");
        if (truth.Count == 0) throw new InputValueException("no reports to score");
        var labels = truth.Concat(predicted).Distinct().Order().ToArray();
        double p = 0, r = 0, f = 0;
        foreach (int label in labels)
        {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < truth.Count; i++)
            {
                bool t = truth[i] == label, y = predicted[i] == label;
                if (t && y) tp++;
                else if (y) fp++;
                else if (t) fn++;
            }
            double precision = tp + fp > 0 ? (double)tp / (tp + fp) : 0;
            double recall = tp + fn > 0 ? (double)tp / (tp + fn) : 0;
            p += precision;
            r += recall;
            f += precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
        }
        return new SingleLabelCe(p / labels.Length, r / labels.Length, f / labels.Length, truth.Count, labels.Length);
    }

    /// <summary>
    /// Multi-label CE of <paramref name="scores"/> <c>[N, C]</c> against 0/1 <paramref name="labels"/> <c>[N, C]</c>. Classes without
    /// both a positive and a negative record are excluded (AUC is undefined for them). AUC is sklearn's <c>roc_auc_score</c> per class,
    /// averaged. One threshold for all classes is searched (<see cref="SearchThreshold"/>); F1 and accuracy are per-class values at
    /// it, averaged (sklearn's <c>f1_score(average='macro', zero_division=0)</c> and the mean of per-class <c>accuracy_score</c>).
    /// </summary>
    public static MultiLabelCe MultiLabel(double[,] scores, int[,] labels, IReadOnlyList<string> names)
    {
        int n = scores.GetLength(0), c = scores.GetLength(1);
        if (labels.GetLength(0) != n || labels.GetLength(1) != c || names.Count != c)
            throw new ArgumentException($"scores [{n}, {c}], labels [{labels.GetLength(0)}, {labels.GetLength(1)}] and {names.Count} names do not match");
        var keep = new List<int>();
        var excluded = new List<string>();
        for (int j = 0; j < c; j++)
        {
            int pos = 0;
            for (int i = 0; i < n; i++) pos += labels[i, j];
            if (pos == 0) excluded.Add($"{names[j]} (no positive record)");
            else if (pos == n) excluded.Add($"{names[j]} (no negative record)");
            else keep.Add(j);
        }
        if (keep.Count == 0) return new MultiLabelCe(double.NaN, double.NaN, double.NaN, double.NaN, n, [], excluded);
        var s = new double[n, keep.Count];
        var y = new int[n, keep.Count];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < keep.Count; k++)
            {
                s[i, k] = scores[i, keep[k]];
                y[i, k] = labels[i, keep[k]];
            }
        double auc = keep.Select((_, k) => BinaryMetrics.RocAuc(MultiLabelMetrics.Column(s, k), MultiLabelMetrics.Column(y, k))).Average();
        var (threshold, f1, accuracy) = SearchThreshold(s, y);
        return new MultiLabelCe(auc, f1, accuracy, threshold, n, keep.Select(j => names[j]).ToArray(), excluded);
    }

    /// <summary>
    /// The threshold search of the multi-label CE: every distinct score is a candidate; at threshold t every class with score ≥ t is
    /// predicted; the candidate with the highest macro F1 (per-class F1 = 2tp / (2tp + fp + fn), 0 when undefined) wins, the highest
    /// such threshold on ties. Returns it with macro F1 and macro accuracy there. One descending sweep, O(NC log NC + distinct scores × C).
    /// </summary>
    public static (double Threshold, double MacroF1, double MacroAccuracy) SearchThreshold(double[,] scores, int[,] labels)
    {
        int n = scores.GetLength(0), c = scores.GetLength(1);
        var cells = new (double Score, int Class, int Label)[n * c];
        var positives = new int[c];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
            {
                if (!double.IsFinite(scores[i, j])) throw new ArgumentException($"score [{i}, {j}] is not finite");
                cells[i * c + j] = (scores[i, j], j, labels[i, j]);
                positives[j] += labels[i, j];
            }
        Array.Sort(cells, (a, b) => b.Score.CompareTo(a.Score));
        var tp = new int[c];
        var fp = new int[c];
        double F1(int j) => 2 * tp[j] + fp[j] + (positives[j] - tp[j]) is var d and > 0 ? 2.0 * tp[j] / d : 0;
        long correct = cells.LongLength - positives.Sum(); // nothing predicted: every negative is right
        double bestF1 = double.NegativeInfinity, bestT = double.NaN, bestAcc = double.NaN;
        for (int k = 0; k < cells.Length;)
        {
            double t = cells[k].Score;
            for (; k < cells.Length && cells[k].Score == t; k++)
            {
                int j = cells[k].Class;
                if (cells[k].Label == 1)
                {
                    tp[j]++;
                    correct++;
                }
                else
                {
                    fp[j]++;
                    correct--;
                }
            }
            // Summed afresh (O(C)) rather than updated incrementally, so no rounding drift decides between near-equal candidates.
            double macro = 0;
            for (int j = 0; j < c; j++) macro += F1(j);
            macro /= c;
            if (macro > bestF1)
            {
                bestF1 = macro;
                bestT = t;
                bestAcc = (double)correct / cells.LongLength;
            }
        }
        return (bestT, bestF1, bestAcc);
    }
}
