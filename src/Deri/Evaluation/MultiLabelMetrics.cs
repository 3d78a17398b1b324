namespace Deri.Evaluation;

/// <summary>Metrics of one class, all ×100 except the threshold.</summary>
/// <param name="Name">Class name.</param>
/// <param name="Auc">ROC-AUC ×100.</param>
/// <param name="F1">F1 ×100 (the maximum over thresholds, or at a fixed threshold; see the report's protocol).</param>
/// <param name="Accuracy">Accuracy ×100 at the reported threshold.</param>
/// <param name="Threshold">The score threshold used.</param>
/// <param name="Positives">Positive samples of the class in the evaluated split.</param>
public sealed record ClassMetrics(string Name, double Auc, double F1, double Accuracy, double Threshold, int Positives);

/// <summary>A class left out of the macro averages, with the reason.</summary>
/// <param name="Name">Class name.</param>
/// <param name="Reason">Why, e.g. "no positive samples in the test split".</param>
public sealed record ExcludedClass(string Name, string Reason);

/// <summary>How the per-class decision threshold was chosen.</summary>
public enum ThresholdProtocol
{
    /// <summary>
    /// The paper's: the threshold of maximum F1 on the evaluated split itself; F1 is that maximum and accuracy
    /// is that of <c>score &gt; threshold</c>, exactly as the DERI/MERL release computes them. Optimistic,
    /// since the test labels choose the threshold.
    /// </summary>
    SameSplitMaxF1,
    /// <summary>
    /// Held out: the threshold of maximum F1 on the validation split, applied unchanged to the evaluated split
    /// with the rule <c>score &gt;= threshold</c> for both F1 and accuracy. AUC does not depend on it.
    /// </summary>
    ValidationMaxF1,
}

/// <summary>Per-class and macro metrics of one split under one threshold protocol.</summary>
/// <param name="Protocol">How thresholds were chosen.</param>
/// <param name="Samples">Samples evaluated.</param>
/// <param name="Classes">Included classes, in input order.</param>
/// <param name="Excluded">Classes left out of every average, with the reason.</param>
public sealed record MetricsReport(ThresholdProtocol Protocol, int Samples, IReadOnlyList<ClassMetrics> Classes, IReadOnlyList<ExcludedClass> Excluded)
{
    /// <summary>Macro ROC-AUC ×100 over the included classes (NaN when none is included).</summary>
    public double MacroAuc => Mean(c => c.Auc);
    /// <summary>Macro F1 ×100 over the included classes (NaN when none is included).</summary>
    public double MacroF1 => Mean(c => c.F1);
    /// <summary>Macro accuracy ×100 over the included classes (NaN when none is included).</summary>
    public double MacroAccuracy => Mean(c => c.Accuracy);

    /// <summary>The protocol's stable name used in JSON and tables: <c>same_split_max_f1</c> or <c>validation_max_f1</c>.</summary>
    public string ProtocolName => ProtocolKey(Protocol);

    /// <summary>Stable name of a protocol.</summary>
    public static string ProtocolKey(ThresholdProtocol p) => p == ThresholdProtocol.SameSplitMaxF1 ? "same_split_max_f1" : "validation_max_f1";

    private double Mean(Func<ClassMetrics, double> f) => Classes.Count == 0 ? double.NaN : Classes.Average(f);
}

/// <summary>
/// Multi-label classification metrics over a score matrix <c>(N, C)</c> and a 0/1 label matrix <c>(N, C)</c>:
/// per class ROC-AUC, F1 and accuracy (see <see cref="BinaryMetrics"/>), macro means ×100 over classes.
/// A class whose labels in the split are all 0 or all 1 has no AUC; it is listed in
/// <see cref="MetricsReport.Excluded"/> by name and left out of every mean (never counted as NaN or 0.5).
/// </summary>
public static class MultiLabelMetrics
{
    /// <summary>The paper's protocol: per class the maximum-F1 threshold of this split.</summary>
    /// <param name="scores">Scores <c>(N, C)</c>, finite.</param>
    /// <param name="labels">Labels <c>(N, C)</c>, 0 or 1.</param>
    /// <param name="names">C class names.</param>
    /// <param name="splitName">Split name used in exclusion reasons (e.g. "test").</param>
    public static MetricsReport Evaluate(double[,] scores, int[,] labels, IReadOnlyList<string> names, string splitName = "evaluated")
    {
        CheckShapes(scores, labels, names);
        var classes = new List<ClassMetrics>();
        var excluded = new List<ExcludedClass>();
        for (int c = 0; c < names.Count; c++)
        {
            var (s, y) = (Column(scores, c), Column(labels, c));
            if (Degenerate(y, splitName) is { } reason)
            {
                excluded.Add(new ExcludedClass(names[c], reason));
                continue;
            }
            var m = BinaryMetrics.MaxF1(s, y);
            classes.Add(new ClassMetrics(names[c], 100 * BinaryMetrics.RocAuc(s, y), 100 * m.MaxF1, 100 * m.Accuracy, m.Threshold, BinaryMetrics.CountPositives(y)));
        }
        return new MetricsReport(ThresholdProtocol.SameSplitMaxF1, scores.GetLength(0), classes, excluded);
    }

    /// <summary>
    /// The held-out protocol: per class the maximum-F1 threshold of the validation split, applied to the
    /// evaluated split (F1 and accuracy of <c>score &gt;= threshold</c>); AUC of the evaluated split.
    /// A class degenerate in either split is excluded.
    /// </summary>
    public static MetricsReport EvaluateWithValidationThresholds(
        double[,] scores, int[,] labels, double[,] validationScores, int[,] validationLabels, IReadOnlyList<string> names,
        string splitName = "evaluated")
    {
        CheckShapes(scores, labels, names);
        CheckShapes(validationScores, validationLabels, names);
        var classes = new List<ClassMetrics>();
        var excluded = new List<ExcludedClass>();
        for (int c = 0; c < names.Count; c++)
        {
            var (s, y) = (Column(scores, c), Column(labels, c));
            var (vs, vy) = (Column(validationScores, c), Column(validationLabels, c));
            string? reason = Degenerate(y, splitName) ?? Degenerate(vy, "validation");
            if (reason is not null)
            {
                excluded.Add(new ExcludedClass(names[c], reason));
                continue;
            }
            double threshold = BinaryMetrics.MaxF1(vs, vy).Threshold;
            var at = BinaryMetrics.AtThreshold(s, y, threshold);
            classes.Add(new ClassMetrics(names[c], 100 * BinaryMetrics.RocAuc(s, y), 100 * at.F1, 100 * at.Accuracy, threshold, BinaryMetrics.CountPositives(y)));
        }
        return new MetricsReport(ThresholdProtocol.ValidationMaxF1, scores.GetLength(0), classes, excluded);
    }

    /// <summary>Macro ROC-AUC ×100 over the non-degenerate classes; NaN when every class is degenerate.</summary>
    public static double MacroAuc(double[,] scores, int[,] labels)
    {
        if (scores.GetLength(0) != labels.GetLength(0) || scores.GetLength(1) != labels.GetLength(1))
            throw new ArgumentException($"scores are {scores.GetLength(0)}x{scores.GetLength(1)} but labels {labels.GetLength(0)}x{labels.GetLength(1)}");
        double sum = 0;
        int count = 0;
        for (int c = 0; c < scores.GetLength(1); c++)
        {
            var y = Column(labels, c);
            if (Degenerate(y, "") is not null) continue;
            sum += BinaryMetrics.RocAuc(Column(scores, c), y);
            count++;
        }
        return count == 0 ? double.NaN : 100 * sum / count;
    }

    private static string? Degenerate(int[] y, string split)
    {
        int p = BinaryMetrics.CountPositives(y);
        if (p == 0) return $"no positive samples in the {split} split";
        if (p == y.Length) return $"no negative samples in the {split} split";
        return null;
    }

    private static void CheckShapes(double[,] scores, int[,] labels, IReadOnlyList<string> names)
    {
        if (scores.GetLength(0) != labels.GetLength(0) || scores.GetLength(1) != labels.GetLength(1))
            throw new ArgumentException($"scores are {scores.GetLength(0)}x{scores.GetLength(1)} but labels {labels.GetLength(0)}x{labels.GetLength(1)}");
        if (names.Count != scores.GetLength(1))
            throw new ArgumentException($"{names.Count} class names for {scores.GetLength(1)} score columns");
        if (scores.GetLength(0) == 0) throw new ArgumentException("no samples");
    }

    /// <summary>Column <paramref name="c"/> of a matrix.</summary>
    public static double[] Column(double[,] m, int c)
    {
        var r = new double[m.GetLength(0)];
        for (int i = 0; i < r.Length; i++) r[i] = m[i, c];
        return r;
    }

    /// <summary>Column <paramref name="c"/> of a matrix.</summary>
    public static int[] Column(int[,] m, int c)
    {
        var r = new int[m.GetLength(0)];
        for (int i = 0; i < r.Length; i++) r[i] = m[i, c];
        return r;
    }
}
