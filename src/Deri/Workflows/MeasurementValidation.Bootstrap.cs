using Deri.Evaluation;

namespace Deri.Workflows;

/// <summary>A percentile record-bootstrap confidence interval of a ROC AUC.</summary>
/// <param name="Low">2.5th percentile of the resampled AUCs (linear interpolation, as numpy's default).</param>
/// <param name="High">97.5th percentile.</param>
/// <param name="Valid">Resamples that held both classes (the others have no AUC and are left out).</param>
/// <param name="Resamples">Resamples drawn.</param>
public sealed record AucInterval(double Low, double High, int Valid, int Resamples);

public static partial class MeasurementValidation
{
    /// <summary>Resamples of every bootstrap interval <c>deri validate measurements</c> reports.</summary>
    public const int BootstrapResamples = 2000;

    /// <summary>Seed of those resamples (every row draws from its own generator with this seed).</summary>
    public const int BootstrapSeed = 20261208;

    /// <summary>
    /// 95 % percentile record bootstrap of <see cref="BinaryMetrics.RocAuc"/>: <paramref name="resamples"/> draws of
    /// n records with replacement (<see cref="Random"/> with <paramref name="seed"/>, so reruns agree), the AUC of each
    /// draw that holds both classes, and its 2.5th and 97.5th percentiles. Null when no draw holds both classes.
    /// </summary>
    public static AucInterval? BootstrapAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels, int resamples = BootstrapResamples, int seed = BootstrapSeed)
    {
        int n = scores.Count;
        var rng = new Random(seed);
        var draws = new int[resamples][];
        for (int b = 0; b < resamples; b++)
        {
            var idx = new int[n];
            for (int i = 0; i < n; i++) idx[i] = rng.Next(n);
            draws[b] = idx;
        }
        return BootstrapAuc(scores, labels, draws);
    }

    /// <summary>The same interval over given draws (each an array of record indices), e.g. numpy's, to compare with scikit-learn.</summary>
    public static AucInterval? BootstrapAuc(IReadOnlyList<double> scores, IReadOnlyList<int> labels, IReadOnlyList<int[]> draws)
    {
        int n = scores.Count;
        if (labels.Count != n) throw new ArgumentException($"{n} scores but {labels.Count} labels");
        // Records sorted by score once; tie groups [start, end) share one threshold, so each draw's AUC is one pass over
        // the groups with the draw's multiplicities (Mann–Whitney with ties counted half, which equals RocAuc's trapezoid).
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        var groupEnd = new List<int>();
        for (int k = 1; k <= n; k++)
            if (k == n || scores[order[k]] != scores[order[k - 1]]) groupEnd.Add(k);
        var aucs = new List<double>(draws.Count);
        var count = new int[n];
        foreach (var draw in draws)
        {
            Array.Clear(count);
            foreach (int i in draw) count[i]++;
            double pos = 0, neg = 0, below = 0, pairs = 0;
            int start = 0;
            foreach (int end in groupEnd)
            {
                double gp = 0, gn = 0;
                for (int k = start; k < end; k++)
                {
                    int i = order[k];
                    if (labels[i] == 1) gp += count[i]; else gn += count[i];
                }
                pairs += gp * (below + 0.5 * gn);
                below += gn;
                pos += gp;
                neg += gn;
                start = end;
            }
            if (pos > 0 && neg > 0) aucs.Add(pairs / (pos * neg));
        }
        if (aucs.Count == 0) return null;
        var sorted = aucs.Order().ToArray();
        return new AucInterval(Pct(sorted, 2.5), Pct(sorted, 97.5), sorted.Length, draws.Count);
    }
}
