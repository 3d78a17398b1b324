using System.CommandLine;
using Deri.Cli.Commands;

namespace Deri.Cli;

/// <summary>Entry point of the <c>deri</c> command.</summary>
public static class Program
{
    /// <summary>Builds the command tree; tests call it to run commands in-process.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("Deri: ECG representation learning from ECG signals and their clinical reports (DERI, IJCAI 2025).");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(MetricsCommand.Create());
        root.Subcommands.Add(DataCommand.Create(DataPrepareCommand.Create()));
        root.Subcommands.Add(BenchCommand.Create(BenchTrainCommand.Create()));
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(TextCommand.Create());
        root.Subcommands.Add(SynthCommand.Create());
        root.Subcommands.Add(PretrainCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(ZeroshotCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(ProbeCommand.Create());
        root.Subcommands.Add(TsneCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        return root;
    }

    /// <summary>Runs the command line and returns the exit code.</summary>
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();
}
