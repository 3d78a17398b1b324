using System.Text.Json;
using Deri.Cli.Commands;
using Deri.Tests.Evaluation;
using Deri.Tests.Signals;

namespace Deri.Tests.Cli;

/// <summary>
/// The error contract of every command (README, "Errors and exit codes"): one line on stderr, exit code 1 for
/// bad input, 2 for bad usage, 3 for a bug; no stack trace without <c>--verbose</c>; results on stdout, status on stderr.
/// </summary>
public class ErrorContractTests
{
    private static readonly string Scores = MetricFixtures.File("cli_scores.csv");
    private static readonly string Labels = MetricFixtures.File("cli_labels.csv");

    [Fact]
    public void BadInputIsExitOneWithOneLineNamingTheFileAndNoStackTrace()
    {
        var r = CliRunner.Run(["metrics", "--scores", "/nonexistent/scores.csv", "--labels", Labels]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(Lines(r.Stderr));
        Assert.StartsWith("error: /nonexistent/scores.csv", line);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void VerbosePrintsTheFullExceptionAfterTheErrorLine()
    {
        var r = CliRunner.Run(["metrics", "--scores", "/nonexistent/scores.csv", "--labels", Labels, "--verbose"]);
        Assert.Equal(1, r.ExitCode);
        var lines = Lines(r.Stderr);
        Assert.StartsWith("error: /nonexistent/scores.csv", lines[0]);
        Assert.Contains("Deri.IO.InputFileNotFoundException", r.Stderr);
        Assert.Contains(lines, l => l.TrimStart().StartsWith("at Deri.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "metrics", "--scores", "s.csv" }, "Option '--labels' is required")]
    [InlineData(new[] { "metrics", "--scores", "s.csv", "--labels", "l.csv", "--bogus" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "bench", "decode", "--layers", "abc" }, "abc")]
    [InlineData(new[] { "report", "score", "--refs", "r", "--hyps", "h", "--porter", "snowball" }, "snowball")]
    [InlineData(new[] { "nosuchcommand" }, "nosuchcommand")]
    public void ParseErrorsAreBadUsageWithAPointerToHelp(string[] args, string message)
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(args);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(message, stderr);
        Assert.Contains("--help`", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void AlternativeOptionsSayWhatIsMissingOrTooMuch()
    {
        var neither = CommandTreeTests.RunInProcess(["report", "generate", "--model", "run", "-o", "out.csv"]);
        Assert.Equal(2, neither.Code);
        Assert.Contains("give one of --store (with --split) or --records", neither.Stderr);
        Assert.DoesNotContain("not both", neither.Stderr);
        var both = CommandTreeTests.RunInProcess(["report", "generate", "--model", "run", "-o", "out.csv", "--store", "s", "--records", "a.hea"]);
        Assert.Equal(2, both.Code);
        Assert.Contains("not both", both.Stderr);
        var half = CommandTreeTests.RunInProcess(["metrics", "--scores", "s", "--labels", "l", "--val-scores", "v"]);
        Assert.Equal(2, half.Code);
        Assert.Contains("--val-scores and --val-labels go together", half.Stderr);
    }

    [Fact]
    public void ListOptionsTakeCommasAndRepeatsAlike()
    {
        string commas = CliRunner.Ok("metrics", "--scores", Scores, "--labels", Labels, "--names", "STTC,NORM");
        string repeats = CliRunner.Ok("metrics", "--scores", Scores, "--labels", Labels, "--names", "STTC", "--names", "NORM");
        Assert.Equal(commas, repeats);
        using var doc = JsonDocument.Parse(commas);
        Assert.Equal(["STTC", "NORM"], doc.RootElement.GetProperty("paper").GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        // One unknown name among several is named alone, not read as one name "STTC,XYZ".
        var bad = CliRunner.Run(["metrics", "--scores", Scores, "--labels", Labels, "--names", "STTC,XYZ"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("class 'XYZ' is not a column", bad.Stderr);

        var empty = CommandTreeTests.RunInProcess(["metrics", "--scores", Scores, "--labels", Labels, "--names", "STTC,,NORM"]);
        Assert.Equal(2, empty.Code);
        Assert.Contains("--names: empty value", empty.Stderr);
        var noValue = CommandTreeTests.RunInProcess(["probe", "--run", "r", "--store", "s", "--ratios"]);
        Assert.Equal(2, noValue.Code);
        Assert.Contains("--ratios", noValue.Stderr);
        var notInt = CommandTreeTests.RunInProcess(["data", "export", "rec.hea", "--channels", "0,x"]);
        Assert.Equal(2, notInt.Code);
        Assert.Contains("--channels: 'x' is not a non-negative integer", notInt.Stderr);
    }

    [Fact]
    public void ExportIntoAMissingFolderCreatesItAndAnUnwritableTargetIsNamed()
    {
        using var dir = new TempDir();
        string record = SignalData.File("ptbxl", "records100", "00000", "00001_lr.hea");
        string target = Path.Combine(dir.Path, "new", "folder", "x.tsv");
        var ok = CliRunner.Run(["data", "export", record, "--channels", "0", "--channels", "3", "--to", "2", "-o", target]);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Equal("", ok.Stdout);
        Assert.Contains("wrote 2 samples × 2 channels", ok.Stderr);
        Assert.Equal(3, File.ReadAllLines(target).Length);
        Assert.Equal(["x.tsv"], Directory.GetFiles(Path.GetDirectoryName(target)!).Select(Path.GetFileName));

        // A file where the folder should be: the message names the target, not a temporary file.
        string blocker = dir.Text("blocker", "");
        string blocked = Path.Combine(blocker, "x.tsv");
        var r = CliRunner.Run(["data", "export", record, "--to", "2", "-o", blocked]);
        Assert.Equal(1, r.ExitCode);
        string line = Assert.Single(Lines(r.Stderr));
        Assert.StartsWith($"error: {blocked}", line);
        Assert.DoesNotContain(".tmp", line);
    }

    [Fact]
    public void ResultsGoToStdoutAndStatusToStderr()
    {
        using var dir = new TempDir();
        string outDir = Path.Combine(dir.Path, "synth");
        var r = CliRunner.Run(["synth", "--n", "3", "--seed", "1", "--out", outDir, "--threads", "1"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(Assert.Single(Lines(r.Stdout)));
        Assert.Equal(3, doc.RootElement.GetProperty("records").GetInt32());
    }

    [Fact]
    public void AnUnexpectedExceptionIsExitThreeWithItsTypeAndAHint()
    {
        using var quiet = new StringWriter();
        Assert.Equal(3, CliErrors.Report(new NullReferenceException("Object reference not set"), verbose: false, quiet));
        Assert.Equal("error: unexpected NullReferenceException: Object reference not set (run with --verbose for details)", quiet.ToString().Trim());

        Exception thrown;
        try { throw new NotSupportedException("boom"); }
        catch (NotSupportedException e) { thrown = e; }
        using var loud = new StringWriter();
        Assert.Equal(3, CliErrors.Report(thrown, verbose: true, loud));
        Assert.Contains("System.NotSupportedException: boom", loud.ToString());
        Assert.Contains("   at ", loud.ToString());

        using var usage = new StringWriter();
        Assert.Equal(2, CliErrors.Report(new CliUsageException("--split must be one of train, val, test"), verbose: false, usage));
        using var input = new StringWriter();
        Assert.Equal(1, CliErrors.Report(new InputFileNotFoundException("file not found", "/x/y.csv"), verbose: false, input));
        Assert.Equal("error: /x/y.csv: file not found", input.ToString().Trim());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
