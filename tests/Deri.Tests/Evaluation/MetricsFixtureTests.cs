using Deri.Evaluation;

namespace Deri.Tests.Evaluation;

/// <summary>Per-class metrics against scikit-learn 1.2 reference vectors (tools/metrics/make_metric_fixtures.py).</summary>
public class MetricsFixtureTests
{
    private const double Tol = 1e-9;

    public static TheoryData<string> Cases()
    {
        using var doc = MetricFixtures.Json("metric_cases.json");
        var d = new TheoryData<string>();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) d.Add(c.GetProperty("name").GetString()!);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BinaryMetricsEqualScikitLearn(string name)
    {
        using var doc = MetricFixtures.Json("metric_cases.json");
        var c = doc.RootElement.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == name);
        var scores = MetricFixtures.Matrix(c.GetProperty("scores"));
        var labels = MetricFixtures.IntMatrix(c.GetProperty("labels"));
        int k = 0;
        foreach (var expected in c.GetProperty("classes").EnumerateArray())
        {
            var s = MultiLabelMetrics.Column(scores, k);
            var y = MultiLabelMetrics.Column(labels, k);
            k++;
            if (expected.GetProperty("excluded").GetBoolean())
            {
                Assert.Throws<InputValueException>(() => { BinaryMetrics.RocAuc(s, y); });
                continue;
            }
            Assert.Equal(expected.GetProperty("auc").GetDouble(), BinaryMetrics.RocAuc(s, y), Tol);
            var m = BinaryMetrics.MaxF1(s, y);
            Assert.Equal(expected.GetProperty("max_f1").GetDouble(), m.MaxF1, Tol);
            Assert.Equal(expected.GetProperty("threshold").GetDouble(), m.Threshold);
            Assert.Equal(expected.GetProperty("accuracy").GetDouble(), m.Accuracy, Tol);
            var f = expected.GetProperty("fixed");
            var at = BinaryMetrics.AtThreshold(s, y, f.GetProperty("threshold").GetDouble());
            Assert.Equal(f.GetProperty("f1").GetDouble(), at.F1, Tol);
            Assert.Equal(f.GetProperty("accuracy").GetDouble(), at.Accuracy, Tol);
        }
    }

    [Fact]
    public void MacroReportExcludesDegenerateClassesByName()
    {
        using var doc = MetricFixtures.Json("metric_cases.json");
        var c = doc.RootElement.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "degenerate");
        var report = MultiLabelMetrics.Evaluate(MetricFixtures.Matrix(c.GetProperty("scores")), MetricFixtures.IntMatrix(c.GetProperty("labels")),
            ["NONE", "MIXED", "ALL"], "test");
        Assert.Equal(["NONE", "ALL"], report.Excluded.Select(e => e.Name));
        Assert.Equal("no positive samples in the test split", report.Excluded[0].Reason);
        Assert.Equal("no negative samples in the test split", report.Excluded[1].Reason);
        var only = Assert.Single(report.Classes);
        Assert.Equal("MIXED", only.Name);
        var mixed = c.GetProperty("classes")[1];
        // The macro mean is over the one included class, not diluted by NaN or 0.5 for the others.
        Assert.Equal(100 * mixed.GetProperty("auc").GetDouble(), report.MacroAuc, Tol);
        Assert.Equal(100 * mixed.GetProperty("max_f1").GetDouble(), report.MacroF1, Tol);
        Assert.Equal(100 * mixed.GetProperty("accuracy").GetDouble(), report.MacroAccuracy, Tol);
    }

    [Fact]
    public void AccuracyUsesStrictlyGreaterThanTheMaxF1Threshold()
    {
        // Max F1 is reached at threshold 0.8 (score >= 0.8: both positives, F1 = 1), but the release's accuracy
        // counts score > 0.8 as positive, so the positive scoring exactly 0.8 is a false negative.
        double[] s = [0.1, 0.2, 0.8, 0.9];
        int[] y = [0, 0, 1, 1];
        var m = BinaryMetrics.MaxF1(s, y);
        Assert.Equal(1.0, m.MaxF1);
        Assert.Equal(0.8, m.Threshold);
        Assert.Equal(0.75, m.Accuracy);
        Assert.Equal(1.0, BinaryMetrics.AtThreshold(s, y, 0.8).Accuracy);
    }

    [Fact]
    public void AllClassesExcludedGivesNullMacrosInJsonNotNaN()
    {
        var report = MultiLabelMetrics.Evaluate(new double[,] { { 0.1 }, { 0.2 } }, new int[,] { { 1 }, { 1 } }, ["AFIB"], "test");
        Assert.Empty(report.Classes);
        Assert.True(double.IsNaN(report.MacroAuc));
        var json = MetricsJson.ToJson(report);
        Assert.Null(json["macro"]!["auc"]);
        Assert.Equal("AFIB", json["excluded"]![0]!["name"]!.GetValue<string>());
        Assert.Contains("\"auc\": null", MetricsJson.Format(json));
    }

    [Fact]
    public void BadInputIsRejected()
    {
        Assert.Throws<ArgumentException>(() => { BinaryMetrics.RocAuc([0.1, double.NaN], [0, 1]); });
        Assert.Throws<ArgumentException>(() => { BinaryMetrics.RocAuc([0.1, 0.2], [0, 2]); });
        Assert.Throws<ArgumentException>(() => { BinaryMetrics.RocAuc([0.1, 0.2, 0.3], [0, 1]); });
        Assert.Throws<InputValueException>(() => { BinaryMetrics.MaxF1([0.1, 0.2], [0, 0]); });
    }
}
