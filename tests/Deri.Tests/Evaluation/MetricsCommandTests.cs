using System.Text.Json;
using Deri.Tests.Cli;

namespace Deri.Tests.Evaluation;

public class MetricsCommandTests
{
    private const double Tol = 1e-9;

    [Fact]
    public void MetricsOfCsvFilesEqualScikitLearn()
    {
        string stdout = CliRunner.Ok("metrics", "--scores", MetricFixtures.File("cli_scores.csv"), "--labels", MetricFixtures.File("cli_labels.csv"));
        using var doc = JsonDocument.Parse(stdout);
        using var expected = MetricFixtures.Json("cli_expected.json");
        var paper = doc.RootElement.GetProperty("paper");
        Assert.Equal("same_split_max_f1", paper.GetProperty("protocol").GetString());
        Assert.Equal(60, paper.GetProperty("samples").GetInt32());
        var macro = expected.RootElement.GetProperty("macro");
        Assert.Equal(macro.GetProperty("auc").GetDouble(), paper.GetProperty("macro").GetProperty("auc").GetDouble(), Tol);
        Assert.Equal(macro.GetProperty("max_f1").GetDouble(), paper.GetProperty("macro").GetProperty("f1").GetDouble(), Tol);
        Assert.Equal(macro.GetProperty("accuracy").GetDouble(), paper.GetProperty("macro").GetProperty("accuracy").GetDouble(), Tol);
        foreach (var c in paper.GetProperty("classes").EnumerateArray())
        {
            var e = expected.RootElement.GetProperty("classes").GetProperty(c.GetProperty("name").GetString()!);
            Assert.Equal(100 * e.GetProperty("auc").GetDouble(), c.GetProperty("auc").GetDouble(), Tol);
            Assert.Equal(100 * e.GetProperty("max_f1").GetDouble(), c.GetProperty("f1").GetDouble(), Tol);
            Assert.Equal(100 * e.GetProperty("accuracy").GetDouble(), c.GetProperty("accuracy").GetDouble(), Tol);
            Assert.Equal(e.GetProperty("threshold").GetDouble(), c.GetProperty("threshold").GetDouble());
        }
        var excluded = Assert.Single(paper.GetProperty("excluded").EnumerateArray());
        Assert.Equal("HYP", excluded.GetProperty("name").GetString());
        Assert.Contains("no positive samples", excluded.GetProperty("reason").GetString());
        Assert.False(doc.RootElement.TryGetProperty("held_out", out _));
    }

    [Fact]
    public void NamesSelectClassesAndValidationAddsTheHeldOutProtocol()
    {
        using var dir = new MetricFixtures.TempDir();
        string outFile = dir.File("m.json");
        string stdout = CliRunner.Ok("metrics", "--scores", MetricFixtures.File("cli_scores.csv"), "--labels", MetricFixtures.File("cli_labels.csv"),
            "--names", "STTC,NORM", "--val-scores", MetricFixtures.File("cli_scores.csv"), "--val-labels", MetricFixtures.File("cli_labels.csv"),
            "--output", outFile);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(["STTC", "NORM"], doc.RootElement.GetProperty("paper").GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        var held = doc.RootElement.GetProperty("held_out");
        Assert.Equal("validation_max_f1", held.GetProperty("protocol").GetString());
        // Same split as validation: same thresholds and AUC; F1 at score >= threshold is the maximum F1 itself.
        var p = doc.RootElement.GetProperty("paper").GetProperty("classes");
        var h = held.GetProperty("classes");
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(p[i].GetProperty("threshold").GetDouble(), h[i].GetProperty("threshold").GetDouble());
            Assert.Equal(p[i].GetProperty("auc").GetDouble(), h[i].GetProperty("auc").GetDouble());
            Assert.Equal(p[i].GetProperty("f1").GetDouble(), h[i].GetProperty("f1").GetDouble(), Tol);
        }
        Assert.Equal(stdout.Trim(), File.ReadAllText(outFile).Trim());
    }

    [Fact]
    public void TableOptionWritesAllThreeFormatsWithTheCommandAndCheckpoint()
    {
        using var dir = new MetricFixtures.TempDir();
        string prefix = dir.File("tables/cli");
        CliRunner.Ok("metrics", "--scores", MetricFixtures.File("cli_scores.csv"), "--labels", MetricFixtures.File("cli_labels.csv"),
            "--table", prefix, "--checkpoint", "runs/demo/best.pt");
        string md = File.ReadAllText(prefix + ".md");
        Assert.Contains("Checkpoint: `runs/demo/best.pt`", md);
        Assert.Contains("Command: `deri metrics --scores ", md);
        Assert.Contains("| NORM | 86.46 | 80.00 | 80.00 | 0.1553 |", md);
        Assert.Contains("| macro | 89.17 | 78.11 | 83.33 | – |", md);
        Assert.Contains("- excluded HYP: no positive samples in the evaluated split", md);
        Assert.Contains("# checkpoint: runs/demo/best.pt", File.ReadAllLines(prefix + ".csv"));
        using var json = JsonDocument.Parse(File.ReadAllText(prefix + ".json"));
        Assert.Equal("runs/demo/best.pt", json.RootElement.GetProperty("checkpoint").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("rows").GetArrayLength());
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        // scores csv, labels csv, expected message fragment ({S} / {L} = the file names)
        { "A,B\n0.1,0.2\n0.3\n", "A,B\n0,1\n1,0\n", "{S}: line 3: ragged row: 1 fields, the header has 2" },
        { "A,B\n0.1,abc\n0.3,0.4\n", "A,B\n0,1\n1,0\n", "{S}, line 2, column 'B': 'abc' is not a number" },
        { "A,B\n0.1,NaN\n0.3,0.4\n", "A,B\n0,1\n1,0\n", "{S}, line 2, column 'B': value is NaN" },
        { "A,B\n0.1,0.2\n0.3,0.4\n", "A,B\n0,1\n2,0\n", "{L}, line 3, column 'A': label '2' is not 0 or 1" },
        { "A,B\n0.1,0.2\n0.3,0.4\n", "A,C\n0,1\n1,0\n", "column 2 is 'B' in {S} but 'C' in {L}" },
        { "A,B\n0.1,0.2\n0.3,0.4\n", "A,B,C\n0,1,0\n1,0,1\n", "{S} has 2 columns (A,B) but {L} has 3 (A,B,C)" },
        { "A,B\n0.1,0.2\n0.3,0.4\n", "A,B\n0,1\n1,0\n0,0\n", "{S} has 2 data rows but {L} has 3" },
        { "0.1,0.2\n0.3,0.4\n", "A,B\n0,1\n", "{S}, line 1: the first row must be a header of class names" },
        { "", "A,B\n0,1\n", "{S}: empty file" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadInputGivesAClearErrorNamingFileRowAndColumn(string scores, string labels, string message)
    {
        using var dir = new MetricFixtures.TempDir();
        string s = dir.File("scores.csv"), l = dir.File("labels.csv");
        File.WriteAllText(s, scores);
        File.WriteAllText(l, labels);
        var r = CliRunner.Run(["metrics", "--scores", s, "--labels", l]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message.Replace("{S}", s).Replace("{L}", l), r.Stderr);
    }

    [Fact]
    public void UnknownClassNameIsAClearError()
    {
        var r = CliRunner.Run(["metrics", "--scores", MetricFixtures.File("cli_scores.csv"), "--labels", MetricFixtures.File("cli_labels.csv"), "--names", "XYZ"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("class 'XYZ' is not a column of", r.Stderr);
    }
}
