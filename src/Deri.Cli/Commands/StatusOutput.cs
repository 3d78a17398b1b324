namespace Deri.Cli.Commands;

/// <summary>
/// Where commands show what they are doing: log lines and progress go to stderr, so that stdout carries
/// only a command's result (its table or JSON, or one summary line naming the files it wrote).
/// </summary>
internal static class StatusOutput
{
    /// <summary>One log line on stderr.</summary>
    public static void Log(string line) => Console.Error.WriteLine(line);
}
