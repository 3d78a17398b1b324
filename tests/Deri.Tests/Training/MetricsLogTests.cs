using Deri.Training;

namespace Deri.Tests.Training;

/// <summary>The JSONL metrics log on its own.</summary>
public sealed class MetricsLogTests
{
    [Fact]
    public void RecordsRoundTripIncludingNonFiniteNumbersAndNestedScores()
    {
        string path = Path.Combine(Path.GetTempPath(), $"deri-metrics-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var log = new MetricsLog(path, append: false))
            {
                log.Write("train", 0, 1, [new("loss", 0.1 + 0.2), new("cma", double.NaN), new("uma", double.NegativeInfinity)]);
                log.Write("eval", 0, 1, [new("scores", new Dictionary<string, double> { ["auc"] = 0.75 }), new("selected_on", "val")]);
            }
            var records = MetricsLog.Read(path);
            Assert.Equal(2, records.Count);
            Assert.Equal(0.1 + 0.2, MetricsLog.Number(records[0]["loss"]));
            Assert.True(double.IsNaN(MetricsLog.Number(records[0]["cma"])));
            Assert.Equal(double.NegativeInfinity, MetricsLog.Number(records[0]["uma"]));
            Assert.Equal(0.75, records[1]["scores"]!["auc"]!.GetValue<double>());
            Assert.Equal("""{"kind":"train","epoch":0,"step":1,"loss":0.30000000000000004,"cma":"NaN","uma":"-Infinity"}""",
                File.ReadLines(path).First());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TruncatingForAResumeKeepsRecordsUpToTheCheckpointAndDropsATornLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"deri-metrics-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (var log = new MetricsLog(path, append: false))
                for (int step = 1; step <= 5; step++) log.Write("train", 0, step, [new("loss", 1.0 / step)]);
            File.AppendAllText(path, """{"kind":"train","epoch":0,"st""");
            MetricsLog.TruncateAfter(path, 3);
            var steps = MetricsLog.Read(path).Select(r => r["step"]!.GetValue<long>());
            Assert.Equal([1L, 2L, 3L], steps);

            File.AppendAllText(path, "not json\n");
            var ex = Assert.Throws<InputFormatException>(() => MetricsLog.Read(path));
            Assert.Contains($"{path}:4: not valid JSON", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
