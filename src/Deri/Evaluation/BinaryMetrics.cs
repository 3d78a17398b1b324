using Deri.IO;

namespace Deri.Evaluation;

/// <summary>
/// One class's operating point chosen the way the DERI/MERL release chooses it (utils/zeroshot_val.py):
/// the threshold of scikit-learn's <c>precision_recall_curve</c> with the largest F1.
/// </summary>
/// <param name="MaxF1">Largest F1 over the curve's points (0 where precision + recall = 0), in [0, 1].</param>
/// <param name="Threshold">The score at which it is reached; the curve counts <c>score &gt;= Threshold</c> as positive.</param>
/// <param name="Accuracy">
/// Accuracy of <c>score &gt; Threshold</c> (strictly greater), as the release computes it
/// (<c>accuracy_score(gt, pred &gt; max_f1_thresh)</c>). This is not the operating point of <see cref="MaxF1"/>:
/// the samples scoring exactly <see cref="Threshold"/> (at least one, usually a positive) count as negative here.
/// </param>
public readonly record struct MaxF1Point(double MaxF1, double Threshold, double Accuracy);

/// <summary>F1 and accuracy of the fixed decision rule <c>score &gt;= Threshold</c>.</summary>
/// <param name="Threshold">The threshold applied.</param>
/// <param name="F1">F1 of the positive class (0 when there are no true positives), in [0, 1].</param>
/// <param name="Accuracy">Fraction of samples whose decision equals the label, in [0, 1].</param>
public readonly record struct ThresholdPoint(double Threshold, double F1, double Accuracy);

/// <summary>
/// Binary metrics of one class, numerically equal to scikit-learn 1.2 (<c>roc_auc_score</c>,
/// <c>precision_recall_curve</c>, <c>accuracy_score</c>, <c>f1_score</c>) in double precision.
/// Labels are 0/1; scores any finite doubles (higher = more positive).
/// </summary>
public static class BinaryMetrics
{
    /// <summary>
    /// The distinct-threshold cumulative counts of scikit-learn's <c>_binary_clf_curve</c>: scores sorted in
    /// decreasing order, one entry per distinct score <c>t</c> with the true and false positives of <c>score &gt;= t</c>.
    /// </summary>
    /// <returns>Thresholds (decreasing), true positives and false positives, all of the same length.</returns>
    public static (double[] Thresholds, double[] TruePositives, double[] FalsePositives) CumulativeCounts(
        ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        Validate(scores, labels);
        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var s = scores.ToArray();
        // Decreasing score; a stable order is not needed because tied scores are merged into one point.
        Array.Sort(order, (a, b) => s[b].CompareTo(s[a]));
        var thr = new List<double>();
        var tps = new List<double>();
        var fps = new List<double>();
        double tp = 0, fp = 0;
        for (int k = 0; k < n; k++)
        {
            int i = order[k];
            if (labels[i] == 1) tp++; else fp++;
            if (k == n - 1 || s[order[k + 1]] != s[i])
            {
                thr.Add(s[i]);
                tps.Add(tp);
                fps.Add(fp);
            }
        }
        return (thr.ToArray(), tps.ToArray(), fps.ToArray());
    }

    /// <summary>
    /// Area under the ROC curve as <c>sklearn.metrics.roc_auc_score</c>: the trapezoid rule over the curve's
    /// points at distinct thresholds (so tied scores contribute a diagonal segment, i.e. count one half).
    /// </summary>
    /// <exception cref="ArgumentException">Only one label value is present (the AUC is undefined), or bad input.</exception>
    public static double RocAuc(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        var (_, tps, fps) = CumulativeCounts(scores, labels);
        double p = tps[^1], q = fps[^1];
        if (p == 0 || q == 0)
            throw new InputValueException("ROC AUC is undefined when only one label value is present");
        // np.trapz over (fpr, tpr) with the curve starting at (0, 0).
        double area = 0, x0 = 0, y0 = 0;
        for (int k = 0; k < tps.Length; k++)
        {
            double x1 = fps[k] / q, y1 = tps[k] / p;
            area += (x1 - x0) * (y1 + y0) / 2.0;
            x0 = x1;
            y0 = y1;
        }
        return area;
    }

    /// <summary>
    /// <c>sklearn.metrics.precision_recall_curve</c> (1.2): thresholds increasing, precision and recall with
    /// one extra final point (1, 0). Precision is 0 where nothing is predicted positive.
    /// </summary>
    public static (double[] Precision, double[] Recall, double[] Thresholds) PrecisionRecallCurve(
        ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        var (thr, tps, fps) = CumulativeCounts(scores, labels);
        int t = thr.Length;
        double total = tps[^1];
        var precision = new double[t + 1];
        var recall = new double[t + 1];
        var thresholds = new double[t];
        for (int k = 0; k < t; k++)
        {
            // Reverse: scikit-learn returns recall decreasing, thresholds increasing.
            int d = t - 1 - k;
            double ps = tps[d] + fps[d];
            precision[k] = ps != 0 ? tps[d] / ps : 0;
            recall[k] = total == 0 ? 1 : tps[d] / total;
            thresholds[k] = thr[d];
        }
        precision[t] = 1;
        recall[t] = 0;
        return (precision, recall, thresholds);
    }

    /// <summary>
    /// The release's maximum-F1 operating point: F1 = 2·R·P/(R+P) at every point of
    /// <see cref="PrecisionRecallCurve"/> (0 where R+P = 0), its first maximum (the lowest such threshold),
    /// and the accuracy of <c>score &gt; threshold</c> (see <see cref="MaxF1Point.Accuracy"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The labels have no positive (the release would divide by zero), or bad input.</exception>
    public static MaxF1Point MaxF1(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        var (precision, recall, thresholds) = PrecisionRecallCurve(scores, labels);
        if (CountPositives(labels) == 0)
            throw new InputValueException("max F1 is undefined when there are no positive labels");
        int best = 0;
        double bestF1 = double.NegativeInfinity;
        for (int k = 0; k < precision.Length; k++)
        {
            // Same operation order as numpy's `2 * recall * precision / (recall + precision)`, so ties between
            // points are broken exactly as np.argmax breaks them (first index).
            double denom = recall[k] + precision[k];
            double f1 = denom != 0 ? 2 * recall[k] * precision[k] / denom : 0;
            if (f1 > bestF1)
            {
                bestF1 = f1;
                best = k;
            }
        }
        // With at least one positive the lowest threshold has recall 1, so the maximum is never the final
        // (1, 0) point that has no threshold.
        double threshold = thresholds[Math.Min(best, thresholds.Length - 1)];
        int correct = 0;
        for (int i = 0; i < scores.Length; i++)
            if ((scores[i] > threshold ? 1 : 0) == labels[i]) correct++;
        return new MaxF1Point(bestF1, threshold, (double)correct / scores.Length);
    }

    /// <summary>
    /// F1 and accuracy of the fixed rule <c>score &gt;= threshold</c>, as <c>f1_score(y, s &gt;= t, zero_division=0)</c>
    /// and <c>accuracy_score(y, s &gt;= t)</c>. This is the rule under which <see cref="MaxF1"/> chose its threshold,
    /// so a threshold chosen on one split means the same decision on another.
    /// </summary>
    public static ThresholdPoint AtThreshold(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels, double threshold)
    {
        Validate(scores, labels);
        if (!double.IsFinite(threshold)) throw new ArgumentException($"threshold must be finite, got {threshold}");
        int tp = 0, fp = 0, fn = 0, correct = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            bool pred = scores[i] >= threshold;
            bool pos = labels[i] == 1;
            if (pred && pos) tp++;
            else if (pred) fp++;
            else if (pos) fn++;
            if (pred == pos) correct++;
        }
        double f1 = tp == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
        return new ThresholdPoint(threshold, f1, (double)correct / scores.Length);
    }

    /// <summary>Number of labels equal to 1.</summary>
    public static int CountPositives(ReadOnlySpan<int> labels)
    {
        int p = 0;
        foreach (int y in labels) if (y == 1) p++;
        return p;
    }

    private static void Validate(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels)
    {
        if (scores.Length != labels.Length)
            throw new ArgumentException($"{scores.Length} scores but {labels.Length} labels");
        if (scores.Length == 0) throw new ArgumentException("no samples");
        for (int i = 0; i < scores.Length; i++)
        {
            if (!double.IsFinite(scores[i])) throw new ArgumentException($"score {i} is {scores[i]}: scores must be finite");
            if (labels[i] is not (0 or 1)) throw new ArgumentException($"label {i} is {labels[i]}: labels must be 0 or 1");
        }
    }
}
