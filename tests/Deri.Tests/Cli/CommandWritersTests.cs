using System.Text.RegularExpressions;
using Deri.Tests.Evaluation;
using Deri.Tests.Signals;

namespace Deri.Tests.Cli;

/// <summary>
/// Commands write through the writers that <see cref="Deri.Cli.Program.Run"/> gives them: results to the output writer,
/// status and skipped files to the error writer. Run in-process with <see cref="StringWriter"/>s, so a command that
/// wrote to the console instead would leave them empty.
/// </summary>
public sealed partial class CommandWritersTests
{
    [Fact]
    public void InfoWritesItsTableToTheOutputWriter()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(["info", "--device", "cpu"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("TorchSharp", stdout);
        Assert.Contains("Selected    cpu", stdout);
    }

    [Fact]
    public void ConfigWritesTheResolvedYamlToTheOutputWriter()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(["config", "--set", "trainer.batch_size=64"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("batch_size: 64", stdout);
    }

    [Fact]
    public void MetricsWritesItsTableToTheOutputWriter()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(
            ["metrics", "--scores", MetricFixtures.File("cli_scores.csv"), "--labels", MetricFixtures.File("cli_labels.csv")]);
        Assert.True(code == 0, stderr);
        Assert.Contains("auc", stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", stderr);
    }

    [Fact]
    public void DataInspectWritesTheHeaderToTheOutputWriter()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(["data", "inspect", SignalData.File("cinc2021", "E07500.hea")]);
        Assert.True(code == 0, stderr);
        Assert.Contains("E07500", stdout);
    }

    [Fact]
    public void MeasureWritesRowsToTheOutputAndSkippedFilesToTheErrorWriter()
    {
        string missing = Path.Combine(Path.GetTempPath(), "deri-writers-no-such-record.hea");
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(
            ["measure", SignalData.File("ptbxl", "records500", "00000", "00001_hr.hea"), missing]);
        Assert.True(code == 0, stderr);
        Assert.Equal(2, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("record,heart_rate_bpm", stdout);
        Assert.Contains("deri-writers-no-such-record.hea", stderr);
        Assert.DoesNotContain("deri-writers-no-such-record.hea", stdout);
    }

    [Fact]
    public void AnErrorGoesToTheErrorWriterOnly()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(
            ["metrics", "--scores", "/nonexistent/scores.csv", "--labels", MetricFixtures.File("cli_labels.csv")]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: /nonexistent/scores.csv", stderr);
    }

    [Fact]
    public void NeitherTheCommandsNorTheLibraryWriteToTheConsole()
    {
        string root = RepositoryRoot();
        // The commands and the library; src/Deri.Cli/Progress keeps the console for its progress bar (a terminal
        // feature: it asks whether stderr is redirected), and Program.Main hands Console.Out/Error to Program.Run.
        var files = Directory.EnumerateFiles(Path.Combine(root, "src", "Deri.Cli", "Commands"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "src", "Deri"), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count > 100, $"only {files.Count} source files found under {root}");
        var hits = files.SelectMany(f => ConsoleUses(File.ReadAllText(f)).Select(line => $"{Path.GetRelativePath(root, f)}:{line}")).ToList();
        Assert.True(hits.Count == 0, "console writes outside Program.Main and src/Deri.Cli/Progress:\n" + string.Join("\n", hits));
    }

    [Fact]
    public void TheConsoleCheckFindsEachKindOfConsoleWrite()
    {
        // The check itself must be able to fail.
        Assert.Equal([2, 3, 4, 5, 6], ConsoleUses("class A {\n Console.WriteLine(1);\n System.Console.Error.WriteLine(2);\n var w = Console.Out;\n"
            + " Console.Write(\"x\");\n using var s = Console.OpenStandardOutput();\n // a Console-free line\n}\n"));
    }

    // 1-based line numbers of the console writes in a C# source text.
    private static List<int> ConsoleUses(string source) =>
        [.. source.Split('\n').Select((line, i) => (line, i)).Where(x => ConsoleWrite().IsMatch(x.line)).Select(x => x.i + 1)];

    [GeneratedRegex(@"\bConsole\s*\.\s*(Write|WriteLine|Out|Error|OpenStandardOutput|OpenStandardError)\b")]
    private static partial Regex ConsoleWrite();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Deri.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Deri.slnx above {AppContext.BaseDirectory}");
    }
}
