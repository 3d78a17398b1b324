using Deri.Retrieval;

namespace Deri.Tests.Retrieval;

/// <summary>Recall@k, label match and top-k on hand-made indexes whose answers are known.</summary>
public sealed class RetrievalEvaluationTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("deri-retrieval-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // Row i of an N × N identity: unit vectors that only match themselves.
    private static float[] Identity(int n, Func<int, int>? row = null)
    {
        var v = new float[n * n];
        for (int i = 0; i < n; i++) v[i * n + (row?.Invoke(i) ?? i)] = 1f;
        return v;
    }

    private RetrievalIndex Make(string name, int n, float[] ecg, float[] report, Func<int, string[]> labels)
    {
        var manifest = new IndexManifest
        {
            Dim = n,
            Entries = Enumerable.Range(0, n).Select(i => new IndexEntry("r" + i, "test", "report " + i, labels(i))).ToList(),
        };
        string path = Path.Combine(dir, name);
        RetrievalIndexBuilder.Write(path, manifest, ecg, report);
        return RetrievalIndex.Open(path);
    }

    [Fact]
    public void PerfectPairsGiveFullRecall()
    {
        using var index = Make("perfect", 6, Identity(6), Identity(6), i => [i % 2 == 0 ? "A" : "B"]);
        var m = RetrievalEvaluation.Evaluate(index, [1, 2]);
        Assert.Equal(100, m.EcgToReport.Recall["1"]);
        Assert.Equal(100, m.ReportToEcg.Recall["1"]);
        Assert.Equal(1, m.EcgToReport.MedianRank);
        Assert.Equal(100, m.EcgToReport.LabelMatch["1"]);
        // Top 2 of row i: itself and the lowest other row (all others score 0, ties by row): row 0, or row 1 for i = 0.
        // Same labels (parity) for i = 2 and 4 only: (0.5 + 0.5 + 1 + 0.5 + 1 + 0.5) / 6.
        Assert.Equal(400.0 / 6, m.EcgToReport.LabelMatch["2"], 9);
    }

    [Fact]
    public void ShiftedPairsGiveZeroRecallAtOneAndTheRightRanks()
    {
        // ECG i matches report (i + 1) mod 4 exactly and nothing else: its own report scores 0 and ranks behind one 1.
        using var index = Make("shifted", 4, Identity(4, i => (i + 1) % 4), Identity(4), _ => []);
        var m = RetrievalEvaluation.Evaluate(index, [1, 2, 4]);
        Assert.Equal(0, m.EcgToReport.Recall["1"]);
        Assert.Equal(100, m.EcgToReport.Recall["4"]);
        Assert.Equal(0, m.ReportToEcg.Recall["1"]);
        // Rows tie at 0 behind the match, in row order: rank of own pair = 2 + number of lower rows other than the match.
        Assert.True(m.EcgToReport.MedianRank >= 2);
        Assert.Equal(100, m.EcgToReport.LabelMatch["1"]);   // empty label sets all equal
    }

    [Fact]
    public void TopKSortsBestFirstBreaksTiesByRowAndExcludes()
    {
        float[] s = [0.1f, 0.9f, 0.5f, 0.9f, -1f];
        Assert.Equal([1, 3, 2], RetrievalIndex.TopK(s, 3).Select(h => h.Row));
        Assert.Equal([3, 2], RetrievalIndex.TopK(s, 2, exclude: 1).Select(h => h.Row));
        Assert.Equal(5, RetrievalIndex.TopK(s, 10).Count);
    }

    [Fact]
    public void OpenRejectsATruncatedVectorFile()
    {
        using (Make("cut", 3, Identity(3), Identity(3), _ => [])) { }
        string path = Path.Combine(dir, "cut");
        using (var f = File.OpenWrite(Path.Combine(path, RetrievalIndex.ReportFile))) f.SetLength(8);
        var e = Assert.Throws<InputFormatException>(() => RetrievalIndex.Open(path));
        Assert.Contains("report.f32", e.Message);
    }
}
