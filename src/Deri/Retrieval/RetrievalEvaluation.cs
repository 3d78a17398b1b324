using System.Text.Json.Serialization;
using Deri.IO;

namespace Deri.Retrieval;

/// <summary>Retrieval quality in one direction.</summary>
/// <param name="Recall">Recall@k ×100 per k: the share of queries whose own pair is among the k most similar items.</param>
/// <param name="LabelMatch">Label-match rate ×100 per k: among the k retrieved items, the share whose set of positive classes equals the query's, averaged over queries.</param>
/// <param name="MedianRank">Median rank (1 = first) of the query's own pair.</param>
public sealed record DirectionMetrics(
    [property: JsonPropertyName("recall")] IReadOnlyDictionary<string, double> Recall,
    [property: JsonPropertyName("label_match")] IReadOnlyDictionary<string, double> LabelMatch,
    [property: JsonPropertyName("median_rank")] double MedianRank);

/// <summary>Retrieval quality of an index in both directions.</summary>
/// <param name="Index">The index folder.</param>
/// <param name="Run">The run that embedded it.</param>
/// <param name="Split">The store split indexed.</param>
/// <param name="Pairs">Number of ECG–report pairs (queries per direction; the candidates are all of them).</param>
/// <param name="EcgToReport">Each ECG as query, the reports as candidates.</param>
/// <param name="ReportToEcg">Each report as query, the ECGs as candidates.</param>
public sealed record RetrievalMetrics(
    [property: JsonPropertyName("index")] string Index,
    [property: JsonPropertyName("run")] string Run,
    [property: JsonPropertyName("split")] string Split,
    [property: JsonPropertyName("pairs")] int Pairs,
    [property: JsonPropertyName("ecg_to_report")] DirectionMetrics EcgToReport,
    [property: JsonPropertyName("report_to_ecg")] DirectionMetrics ReportToEcg);

/// <summary>
/// Recall@k of cross-modal retrieval inside an index: a retrieval is correct when the retrieved item belongs to the
/// query's own pair (the same record), so identical report texts of different records count as wrong.
/// </summary>
public static class RetrievalEvaluation
{
    /// <summary>Recall@k and label-match rate for each k of <paramref name="ks"/> (default 1, 5, 10) in both directions.</summary>
    /// <exception cref="ArgumentException">No k, or a k that is not positive.</exception>
    public static RetrievalMetrics Evaluate(RetrievalIndex index, IReadOnlyList<int>? ks = null)
    {
        ks ??= [1, 5, 10];
        if (ks.Count == 0 || ks.Any(k => k <= 0)) throw new InputValueException("k values must be positive");
        return new RetrievalMetrics(index.Directory, index.Manifest.Run, index.Manifest.Split, index.Count,
            Direction(index, IndexSide.Ecg, IndexSide.Report, ks), Direction(index, IndexSide.Report, IndexSide.Ecg, ks));
    }

    private static DirectionMetrics Direction(RetrievalIndex index, IndexSide querySide, IndexSide candidateSide, IReadOnlyList<int> ks)
    {
        int n = index.Count, kMax = Math.Min(ks.Max(), n);
        var labelSets = index.Manifest.Entries.Select(e => string.Join('\u0001', e.Labels)).ToArray();
        var hits = new long[ks.Count];
        var matches = new double[ks.Count];
        var ranks = new int[n];
        var scores = new float[n];
        for (int q = 0; q < n; q++)
        {
            index.Scores(index.Vector(querySide, q), candidateSide, scores);
            // Rank of the own pair: items scoring higher, or equal with a lower row (the order TopK breaks ties in).
            float own = scores[q];
            int rank = 0;
            for (int j = 0; j < n; j++)
                if (scores[j] > own || (scores[j] == own && j < q)) rank++;
            ranks[q] = rank + 1;
            var top = RetrievalIndex.TopK(scores, kMax);
            for (int i = 0; i < ks.Count; i++)
            {
                int k = Math.Min(ks[i], n);
                if (rank < k) hits[i]++;
                int same = 0;
                for (int j = 0; j < k; j++) if (labelSets[top[j].Row] == labelSets[q]) same++;
                matches[i] += (double)same / k;
            }
        }
        Array.Sort(ranks);
        double median = n % 2 == 1 ? ranks[n / 2] : (ranks[n / 2 - 1] + ranks[n / 2]) / 2.0;
        return new DirectionMetrics(
            ks.Select((k, i) => (k, i)).ToDictionary(x => x.k.ToString(System.Globalization.CultureInfo.InvariantCulture), x => 100.0 * hits[x.i] / n),
            ks.Select((k, i) => (k, i)).ToDictionary(x => x.k.ToString(System.Globalization.CultureInfo.InvariantCulture), x => 100.0 * matches[x.i] / n),
            median);
    }
}
