using System.Text.Json;
using Deri.Evaluation;

namespace Deri.Tests.Evaluation;

public class ResultTableTests
{
    private static readonly RunProvenance Run = new("deri zeroshot --checkpoint runs/a/best.pt --dataset ptbxl", "runs/a/best.pt")
    {
        CreatedUtc = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public void WritesMarkdownCsvAndJsonWithProvenance()
    {
        var zs = ZeroShotClassifier.Evaluate(
            new double[,] { { 0.1, 0.3 }, { 0.2, 0.1 }, { 0.45, 0.2 }, { 0.5, 0.4 } }, new[,] { { 0, 0 }, { 0, 0 }, { 1, 0 }, { 1, 0 } }, ["MI", "HYP"],
            new double[,] { { 0.2, 0.1 }, { 0.3, 0.1 }, { 0.6, 0.2 }, { 0.7, 0.1 } }, new[,] { { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 0 } });
        var table = ResultTable.ForZeroShot([("ptbxl_super", zs)]);
        using var dir = new MetricFixtures.TempDir();
        var paths = table.WriteAll(dir.Path, "zeroshot", Run);
        Assert.Equal(3, paths.Count);
        Assert.Equal(3, Directory.GetFiles(dir.Path).Length);   // no temporary files left behind

        string md = File.ReadAllText(paths[0]);
        Assert.Contains("Command: `deri zeroshot --checkpoint runs/a/best.pt --dataset ptbxl`", md);
        Assert.Contains("Checkpoint: `runs/a/best.pt`", md);
        Assert.Contains("| ptbxl_super / paper (threshold on the evaluated split) | 100.00 | 100.00 | 75.00 |", md);
        Assert.Contains("| ptbxl_super / held-out (threshold on validation) | 100.00 | 0.00 | 50.00 |", md);
        Assert.Contains("ptbxl_super: excluded HYP (no positive samples in the test split)", md);

        var csv = File.ReadAllLines(paths[1]);
        Assert.Contains("# command: deri zeroshot --checkpoint runs/a/best.pt --dataset ptbxl", csv);
        Assert.Contains("# checkpoint: runs/a/best.pt", csv);
        Assert.Contains("task,AUC,F1,ACC", csv);
        Assert.Contains("ptbxl_super / paper (threshold on the evaluated split),100,100,75", csv);

        using var json = JsonDocument.Parse(File.ReadAllText(paths[2]));
        var root = json.RootElement;
        Assert.Equal("runs/a/best.pt", root.GetProperty("checkpoint").GetString());
        Assert.Equal(Run.CommandLine, root.GetProperty("command").GetString());
        var rows = root.GetProperty("rows");
        Assert.Equal(2, rows.GetArrayLength());
        Assert.Equal(0, rows[1].GetProperty("F1").GetDouble());
        Assert.Equal(50, rows[1].GetProperty("ACC").GetDouble());
    }

    [Fact]
    public void MissingValuesAndLinearProbeLayout()
    {
        var rep = new MetricsReport(ThresholdProtocol.SameSplitMaxF1, 10, [new ClassMetrics("A", 90, 80, 70, 0.5, 3)], []);
        var r1 = new LinearProbeResult(1, 10, 3, 88, 87.5, rep, [88], 0.1);
        var r100 = new LinearProbeResult(100, 1000, 9, 93, 92.25, rep, [93], 1.0);
        var t = ResultTable.ForLinearProbe([("icbeb", new[] { r1, r100 }), ("chapman", new[] { r100 })]);
        Assert.Equal(["1%", "100%"], t.Columns);
        var p = new RunProvenance("deri probe", null);
        string md = t.ToMarkdown(p);
        Assert.Contains("| icbeb | 87.50 | 92.25 |", md);
        Assert.Contains("| chapman | – | 92.25 |", md);
        Assert.Contains("Checkpoint: none", md);
        Assert.Contains("chapman,,92.25", t.ToCsv(p));
        using var json = JsonDocument.Parse(t.ToJson(p));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("rows")[1].GetProperty("1%").ValueKind);
        Assert.Throws<ArgumentException>(() => t.AddRow("x", 1.0));
    }
}
