using Deri.Cli.Commands;
using Deri.Config;
using Deri.Signals;
using Deri.Tests.Data;

namespace Deri.Tests.Cli;

/// <summary>
/// Exit code 1 is the user's mistake, and only the project's own input exceptions say so (issue 23): a .NET exception
/// escaping a command is a bug in Deri (exit 3), whatever its type. Real bad inputs still reach exit 1 with a line that
/// names the file or value.
/// </summary>
public class ExitCodeTests
{
    public static TheoryData<Exception> Bugs() =>
    [
        new InvalidOperationException("no batches left in this epoch"),
        new ArgumentException("destination holds 3 floats"),
        new ArgumentOutOfRangeException("record"),
        new KeyNotFoundException("no loss term 'x'"),
        new InvalidDataException("bad"),
        new FileNotFoundException("gone", "/x"),
        new IOException("disk full"),
        new System.Text.Json.JsonException("bad json"),
    ];

    [Theory]
    [MemberData(nameof(Bugs))]
    public void DotNetExceptionsAreUnexpected(Exception e)
    {
        using var error = new StringWriter();
        Assert.Equal(CliErrors.Unexpected, CliErrors.Report(e, verbose: false, error));
        Assert.StartsWith($"error: unexpected {e.GetType().Name}: ", error.ToString());
    }

    public static TheoryData<Exception> Inputs() =>
    [
        new InputException("x: wrong"),
        new InputFormatException("/s/index.json: not valid JSON"),
        new InputValueException("class 'XYZ' is not a column"),
        new OutputPathException("/o: exists and is not a run folder"),
        new ConfigException("c.yaml: unknown key a.b"),
        new EcgFormatException("/r.hea", "truncated"),
        new CommandFailedException("3 of 10 requests failed"),
    ];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void TheProjectsInputExceptionsAreBadInput(Exception e)
    {
        using var error = new StringWriter();
        Assert.Equal(CliErrors.BadInput, CliErrors.Report(e, verbose: false, error));
        Assert.Equal($"error: {e.Message}", error.ToString().Trim());
    }

    [Fact]
    public void AMissingFileNamedApartFromTheMessageIsPrefixed()
    {
        using var error = new StringWriter();
        Assert.Equal(1, CliErrors.Report(new InputFileNotFoundException("file not found", "/x/y.csv"), verbose: false, error));
        Assert.Equal("error: /x/y.csv: file not found", error.ToString().Trim());
    }

    [Fact]
    public void AMissingRecordFileIsBadInputNamingIt()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(["data", "inspect", "/nonexistent/rec1.hea"]);
        Assert.True(code == 1, stderr);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains("/nonexistent/rec1", stderr);
    }

    [Fact]
    public void ACorruptStoreIsBadInputNamingItsIndex()
    {
        using var dir = new TempDir();
        dir.File("index.json", "{\"version\": 1, \"entries\": [");
        var (code, _, stderr) = CommandTreeTests.RunInProcess(["bench", "data", "--store", dir.Path, "--seconds", "0.1", "--workers", "1"]);
        Assert.True(code == 1, stderr);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(dir.Path, stderr);
        Assert.DoesNotContain("unexpected", stderr);
    }

    [Fact]
    public void AnUnknownConfigKeyIsBadInputNamingTheKey()
    {
        var (code, _, stderr) = CommandTreeTests.RunInProcess(["config", "--set", "trainer.no_such_key=1"]);
        Assert.True(code == 1, stderr);
        Assert.Contains("no_such_key", stderr);
    }

    [Fact]
    public void TestFoldsForTextModelSelectionAreBadInputNamingTheFolds()
    {
        using var dir = new TempDir();
        string prompts = dir.File("prompts.json", "{\"NORM\": \"normal ecg\"}");
        var (code, _, stderr) = CommandTreeTests.RunInProcess(
            ["text", "probe", "--model", "minilm", "--ptbxl", dir.Path, "--prompts", prompts, "--folds", "8,9", "--threads", "1"]);
        Assert.True(code == 1, stderr);
        Assert.Contains("--folds 8,9", stderr);
        Assert.Contains("test folds", stderr);
    }

    [Fact]
    public void MalformedFoldsForPreparationAreAUsageError()
    {
        var (code, _, stderr) = CommandTreeTests.RunInProcess(["data", "prepare", "--dataset", "ptbxl", "--root", "/nonexistent", "--out", "/tmp/x", "--folds", "1-7/8"]);
        Assert.Equal(CliErrors.BadUsage, code);
        Assert.Contains("--folds must be TRAIN/VAL/TEST", stderr);
    }
}
