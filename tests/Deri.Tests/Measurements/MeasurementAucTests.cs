using System.Text.Json;
using Deri.Evaluation;
using Deri.Tests.Cli;
using Deri.Workflows;

namespace Deri.Tests.Measurements;

/// <summary>
/// The AUCs of <c>deri validate measurements</c> and their bootstrap intervals against scikit-learn and numpy
/// (<c>tools/measure/make_auc_fixture.py</c>), and the command's intervals on a few shared PTB-XL records.
/// </summary>
public sealed class MeasurementAucTests
{
    private static JsonDocument Fixture() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestFixtures.Dir("measure"), "auc_bootstrap.json")));

    private static (double[] Scores, int[] Labels) Case(JsonElement c) =>
        (c.GetProperty("scores").EnumerateArray().Select(v => v.GetDouble()).ToArray(),
         c.GetProperty("labels").EnumerateArray().Select(v => v.GetInt32()).ToArray());

    [Fact]
    public void AucWithTheNullRuleMatchesScikitLearn()
    {
        using var doc = Fixture();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var (s, y) = Case(c);
            Assert.Equal(c.GetProperty("auc").GetDouble(), BinaryMetrics.RocAuc(s, y), 12);
        }
    }

    [Fact]
    public void IntervalOverNumpysDrawsMatchesScikitLearnPerDraw()
    {
        using var doc = Fixture();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var (s, y) = Case(c);
            var draws = c.GetProperty("draws").EnumerateArray().Select(d => d.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToList();
            var ci = MeasurementValidation.BootstrapAuc(s, y, draws);
            var want = c.GetProperty("ci");
            Assert.NotNull(ci);
            Assert.Equal(want.GetProperty("low").GetDouble(), ci.Low, 9);
            Assert.Equal(want.GetProperty("high").GetDouble(), ci.High, 9);
            Assert.Equal(want.GetProperty("valid").GetInt32(), ci.Valid);
            Assert.Equal(draws.Count, ci.Resamples);
        }
    }

    // The C# draws come from System.Random, numpy's from PCG64, so the two intervals agree only up to Monte-Carlo error
    // (a percentile of 2000 draws moves by a few hundredths in these small cases).
    [Fact]
    public void SeededIntervalIsReproducibleAndCloseToNumpys()
    {
        using var doc = Fixture();
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            var (s, y) = Case(c);
            var a = MeasurementValidation.BootstrapAuc(s, y);
            var b = MeasurementValidation.BootstrapAuc(s, y);
            Assert.NotNull(a);
            Assert.Equal(a, b);
            var want = c.GetProperty("ci_2000");
            string name = c.GetProperty("name").GetString()!;
            Assert.True(Math.Abs(want.GetProperty("low").GetDouble() - a.Low) < 0.05, $"{name}: low {a.Low} vs numpy {want.GetProperty("low")}");
            Assert.True(Math.Abs(want.GetProperty("high").GetDouble() - a.High) < 0.05, $"{name}: high {a.High} vs numpy {want.GetProperty("high")}");
            Assert.InRange(a.Valid, want.GetProperty("valid").GetInt32() - 80, Math.Min(2000, want.GetProperty("valid").GetInt32() + 80));
            Assert.Equal(MeasurementValidation.BootstrapResamples, a.Resamples);
            Assert.InRange(BinaryMetrics.RocAuc(s, y), a.Low, a.High);
        }
    }

    [Fact]
    public void NoDrawWithBothClassesGivesNoInterval()
    {
        Assert.Null(MeasurementValidation.BootstrapAuc([1.0, 2.0, 3.0], [1, 1, 1], 50, 0));
        Assert.Throws<ArgumentException>(() => MeasurementValidation.BootstrapAuc([1.0, 2.0], [1], 10, 0));
    }

    /// <summary>
    /// The command on the first 60 shared PTB-XL records (a temporary folder with their database rows, the records
    /// linked): every AUC has its interval around it, folds 1–8 have their own row, and a second run prints the same.
    /// </summary>
    [Fact]
    public void ValidateMeasurementsGivesEveryAucItsInterval()
    {
        string shared = Path.Combine(SharedData.Data, "ptbxl");
        string dir = Path.Combine(Path.GetTempPath(), $"deri-validate-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var lines = File.ReadLines(Path.Combine(shared, "ptbxl_database.csv")).Take(61);
            File.WriteAllLines(Path.Combine(dir, "ptbxl_database.csv"), lines);
            Directory.CreateSymbolicLink(Path.Combine(dir, "records500"), Path.GetFullPath(Path.Combine(shared, "records500")));
            Directory.CreateSymbolicLink(Path.Combine(dir, "records100"), Path.GetFullPath(Path.Combine(shared, "records100")));
            string[] args = ["validate", "measurements", "--synthetic", "0", "--ptbxl", dir, "--workers", "2"];
            string first = CliRunner.Ok(args), second = CliRunner.Ok(args);
            Assert.Equal(first, second);
            var rows = first.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("row")).ToList();
            Assert.Contains(rows, r => r.GetProperty("Fold").GetInt32() == -1);
            var sbrad = rows.Single(r => r.GetProperty("Label").GetString() == "SBRAD" && r.GetProperty("Fold").GetInt32() == -1);
            Assert.Equal(2, sbrad.GetProperty("Positives").GetInt32());
            int withAuc = 0;
            foreach (var r in rows)
            {
                var ci = r.GetProperty("AucCi");
                if (r.GetProperty("Auc").ValueKind == JsonValueKind.Null)
                {
                    Assert.Equal(JsonValueKind.Null, ci.ValueKind);
                    continue;
                }
                withAuc++;
                double auc = r.GetProperty("Auc").GetDouble();
                Assert.InRange(auc, ci.GetProperty("Low").GetDouble(), ci.GetProperty("High").GetDouble());
                Assert.Equal(2000, ci.GetProperty("Resamples").GetInt32());
                Assert.InRange(ci.GetProperty("Valid").GetInt32(), 1, 2000);
            }
            Assert.True(withAuc >= 5, $"only {withAuc} rows have an AUC");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
