using System.CommandLine;
using System.Text.RegularExpressions;
using Deri.Cli;

namespace Deri.Tests.Cli;

/// <summary>
/// Every command of the tree that <see cref="Program.BuildRoot"/> builds answers <c>--help</c>, and the README's
/// Commands section names exactly the commands and options that exist.
/// </summary>
public partial class CommandTreeTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));

    [Fact]
    public void EveryCommandAnswersHelp()
    {
        var all = Walk(Program.BuildRoot()).ToList();
        Assert.True(all.Count > 30, $"only {all.Count} commands found");
        foreach (var (path, command) in all)
        {
            var (code, stdout, stderr) = RunInProcess([.. path.Skip(1), "--help"]);
            Assert.True(code == 0, $"{string.Join(' ', path)} --help exited {code}: {stderr}");
            // The root's name is the host process's in this test, so the usage line is checked from the first subcommand on.
            string usage = stdout.Split("Usage:")[1].TrimStart().Split('\n')[0];
            Assert.Contains(string.Join(' ', path.Skip(1)), usage);
            foreach (var option in command.Options.Where(o => !o.Hidden)) Assert.Contains(option.Name, stdout);
            Assert.Equal("", stderr);
        }
    }

    [Fact]
    public void ReadmeNamesEveryCommandAndOnlyOptionsThatExist()
    {
        var tree = Walk(Program.BuildRoot()).ToDictionary(c => string.Join(' ', c.Path), c => c.Command);
        var named = new HashSet<string>();
        foreach (var (commands, options) in ReadmeCommandSpans())
            foreach (string c in commands)
            {
                Assert.True(tree.TryGetValue(c, out var command), $"the README names `{c}`, which is not a command");
                named.Add(c);
                var help = RunInProcess([.. c.Split(' ').Skip(1), "--help"]).Stdout;
                foreach (string o in options)
                    Assert.True(help.Contains(o, StringComparison.Ordinal), $"the README gives `{c}` the option {o}, which its --help does not list");
            }
        var missing = tree.Where(kv => kv.Value.Subcommands.Count == 0 && !named.Contains(kv.Key)).Select(kv => kv.Key).ToList();
        Assert.True(missing.Count == 0, $"commands missing from the README's Commands table: {string.Join(", ", missing)}");
    }

    [Fact]
    public void ReadmeListsExactlyTheCommandsThatTakeDeviceAndThreads()
    {
        var tree = Walk(Program.BuildRoot()).ToList();
        var withDevice = tree.Where(c => c.Command.Options.Any(o => o.Name == "--device")).Select(c => string.Join(' ', c.Path)).ToHashSet();
        foreach (var (path, command) in tree.Where(c => withDevice.Contains(string.Join(' ', c.Path))))
            Assert.Contains(command.Options, o => o.Name == "--threads");
        int start = Readme.IndexOf("take `--device cpu|cuda|auto` and `--threads N`", StringComparison.Ordinal);
        Assert.True(start >= 0, "the README no longer says which commands take --device");
        string paragraph = Readme[start..Readme.IndexOf("The others", start, StringComparison.Ordinal)];
        var listed = CodeSpan().Matches(paragraph).Select(m => m.Groups[1].Value).Where(s => s.StartsWith("deri ", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(withDevice.Order(), listed.Order());
    }

    [Fact]
    public void GroupsHoldOnlySubcommandsAndBenchHoldsTheTextBenchmark()
    {
        var tree = Walk(Program.BuildRoot()).ToDictionary(c => string.Join(' ', c.Path), c => c.Command);
        Assert.Contains("deri bench text", tree.Keys);
        Assert.DoesNotContain("deri text bench", tree.Keys);
        foreach (var (name, command) in tree.Where(kv => kv.Value.Subcommands.Count > 0 && kv.Value is not RootCommand))
            Assert.True(command.Action is null, $"{name} is a group and must not run anything itself");
    }

    /// <summary>Runs the CLI in this process with help and errors captured (no console involved).</summary>
    internal static (int Code, string Stdout, string Stderr) RunInProcess(string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static IEnumerable<(string[] Path, Command Command)> Walk(Command command, string[]? prefix = null)
    {
        string[] path = [.. prefix ?? [], command is RootCommand ? "deri" : command.Name];
        yield return (path, command);
        foreach (var child in command.Subcommands)
            foreach (var x in Walk(child, path)) yield return x;
    }

    // Each `deri …` code span of the Commands table: the command paths it names ("data inspect/export" is two)
    // and the options it uses.
    private static IEnumerable<(List<string> Commands, List<string> Options)> ReadmeCommandSpans()
    {
        int start = Readme.IndexOf("## Commands", StringComparison.Ordinal);
        int end = Readme.IndexOf("\n## ", start + 3, StringComparison.Ordinal);
        foreach (string line in Readme[start..end].Split('\n').Where(l => l.StartsWith("| `deri ", StringComparison.Ordinal)))
        {
            string cell = line.Split(" | ")[0];
            foreach (Match m in CodeSpan().Matches(cell))
            {
                var words = m.Groups[1].Value.Replace("\\|", "|").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var commandWords = words.TakeWhile(w => CommandWord().IsMatch(w)).ToList();
                var paths = new List<string> { "" };
                foreach (string w in commandWords)
                    paths = paths.SelectMany(p => w.Split('/').Select(alt => (p + " " + alt).Trim())).ToList();
                var options = words.SelectMany(w => OptionName().Matches(w).Select(o => o.Value)).Distinct().ToList();
                yield return (paths, options);
            }
        }
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Deri.slnx"))) return d.FullName;
        throw new DirectoryNotFoundException($"no Deri.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex("^[a-z][a-z0-9/]*$")]
    private static partial Regex CommandWord();

    [GeneratedRegex("--[a-z][a-z0-9-]*")]
    private static partial Regex OptionName();
}
