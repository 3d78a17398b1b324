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
        return root;
    }

    /// <summary>Runs the command line and returns the exit code.</summary>
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();
}
