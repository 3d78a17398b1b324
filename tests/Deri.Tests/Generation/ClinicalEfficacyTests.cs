using System.Text.Json;
using Deri.Generation;

namespace Deri.Tests.Generation;

/// <summary>CE metrics against scikit-learn 1.2 (tools/ce/make_ce_fixture.py).</summary>
public sealed class ClinicalEfficacyTests
{
    private static JsonElement Fixture()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestFixtures.Dir("ce"), "ce_fixture.json")));
        return doc.RootElement.Clone();
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    private static T[,] Matrix<T>(JsonElement e, Func<JsonElement, T> read)
    {
        var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(read).ToArray()).ToArray();
        var m = new T[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rows[0].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    [Fact]
    public void SingleLabelMacroScoresEqualSklearn()
    {
        foreach (var c in Fixture().GetProperty("single").EnumerateArray())
        {
            var s = ClinicalEfficacy.SingleLabel(Ints(c.GetProperty("truth")), Ints(c.GetProperty("predicted")));
            Assert.Equal(c.GetProperty("precision").GetDouble(), s.Precision, 1e-12);
            Assert.Equal(c.GetProperty("recall").GetDouble(), s.Recall, 1e-12);
            Assert.Equal(c.GetProperty("f1").GetDouble(), s.F1, 1e-12);
        }
    }

    [Fact]
    public void MultiLabelAucAndThresholdSearchEqualSklearnBruteForce()
    {
        foreach (var c in Fixture().GetProperty("multi").EnumerateArray())
        {
            var scores = Matrix(c.GetProperty("scores"), x => x.GetDouble());
            var labels = Matrix(c.GetProperty("labels"), x => x.GetInt32());
            var names = Enumerable.Range(0, scores.GetLength(1)).Select(j => $"c{j}").ToArray();
            var m = ClinicalEfficacy.MultiLabel(scores, labels, names);
            Assert.Empty(m.Excluded);
            Assert.Equal(c.GetProperty("auc").GetDouble(), m.Auc, 1e-12);
            Assert.Equal(c.GetProperty("threshold").GetDouble(), m.Threshold, 1e-12);
            Assert.Equal(c.GetProperty("f1").GetDouble(), m.F1, 1e-12);
            Assert.Equal(c.GetProperty("accuracy").GetDouble(), m.Accuracy, 1e-12);
        }
    }

    [Fact]
    public void ClassesWithoutBothOutcomesAreExcludedAndNamed()
    {
        var scores = new double[,] { { 0.9, 0.1 }, { 0.2, 0.8 }, { 0.4, 0.3 } };
        var labels = new int[,] { { 1, 0 }, { 0, 0 }, { 0, 0 } };
        var m = ClinicalEfficacy.MultiLabel(scores, labels, ["AF", "STEMI"]);
        Assert.Equal(["AF"], m.Classes);
        Assert.Equal(["STEMI (no positive record)"], m.Excluded);
        Assert.Equal(1.0, m.Auc);
        Assert.Equal(0.9, m.Threshold);
        Assert.Equal(1.0, m.F1);
    }

    [Fact]
    public void ArgmaxTakesTheFirstMaximum()
    {
        Assert.Equal([1, 0, 2], ClinicalEfficacy.Argmax(new double[,] { { 0, 2, 1 }, { 3, 3, 1 }, { 0, 0, 5 } }));
    }
}
