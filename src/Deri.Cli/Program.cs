using System.CommandLine;
using System.CommandLine.Invocation;
using Deri.Cli.Commands;
using Spectre.Console;

namespace Deri.Cli;

/// <summary>Entry point of the <c>deri</c> command.</summary>
public static class Program
{
    /// <summary>Builds the command tree; tests walk it to check every command's help against the README.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Deri: ECG representation learning from ECG signals and their clinical reports (DERI, IJCAI 2025).")
        {
            CliErrors.Verbose(),
        };
        Command[] commands =
        [
            InfoCommand.Create(),
            SynthCommand.Create(),
            DataCommand.Create(),
            ConfigCommand.Create(),
            PretrainCommand.Create(),
            DemoCommand.Create(),
            ExportCommand.Create(),
            ImportCommand.Create(),
            ZeroshotCommand.Create(),
            ProbeCommand.Create(),
            EmbedCommand.Create(),
            TsneCommand.Create(),
            IndexCommand.Create(),
            SearchCommand.Create(),
            ServeCommand.Create(),
            AnalyzeCommand.Create(),
            ModelCommand.Create(),
            ReportCommand.Create(),
            MetricsCommand.Create(),
            MeasureCommand.Create(),
            MeasureCommand.CreateValidate(),
            TextCommand.Create(),
            BenchCommand.Create(),
        ];
        foreach (var c in commands) root.Subcommands.Add(c);
        return root;
    }

    /// <summary>Runs the command line and returns the exit code.</summary>
    public static int Main(string[] args)
    {
        // Progress bars and other Spectre.Console output are status: they go to stderr, so stdout holds only results.
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return Run(args, Console.Out, Console.Error);
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>: the one place where errors become exit codes. Parse errors
    /// are bad usage (2); exceptions from a command go to <see cref="CliErrors.Report"/> (1 bad input,
    /// 2 bad usage, 3 unexpected), with the stack trace only under <c>--verbose</c>.
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = BuildRoot().Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine($"see `{string.Join(' ', CommandPath(parsed))} --help`");
            return CliErrors.BadUsage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error });
        }
        catch (Exception e)
        {
            return CliErrors.Report(e, parsed.GetValue<bool>("--verbose"), error, string.Join(' ', CommandPath(parsed)));
        }
    }

    // "deri report generate" for a parse of `report generate …`.
    private static IEnumerable<string> CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var r = parsed.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(r.Command is RootCommand ? "deri" : r.Command.Name);
        names.Reverse();
        return names;
    }
}
