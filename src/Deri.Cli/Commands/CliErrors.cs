using System.CommandLine;
using System.Text.Json;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary>
/// The one error handler of the <c>deri</c> command. Every command action lets its exceptions escape;
/// <see cref="Program.Run"/> catches them here and turns them into one line on stderr and an exit code
/// (the contract is in the README's "Errors and exit codes").
/// </summary>
public static class CliErrors
{
    /// <summary>Bad input: a file (or a value the library checks against the data) is wrong; the message names it.</summary>
    public const int BadInput = 1;

    /// <summary>Bad usage: the command line itself is wrong (parse errors, bad option values, option combinations).</summary>
    public const int BadUsage = 2;

    /// <summary>An unexpected exception, i.e. a bug in Deri; its type is printed so that it can be reported.</summary>
    public const int Unexpected = 3;

    /// <summary>The global <c>--verbose</c> option: print the full exception, stack trace included.</summary>
    public static Option<bool> Verbose() => new("--verbose")
    {
        Description = "On an error, print the full exception with its stack trace",
        Recursive = true,
    };

    /// <summary>
    /// Writes the error line (and with <paramref name="verbose"/> the full exception) and returns the exit code. A usage
    /// error is followed by <c>see `COMMAND --help`</c> when <paramref name="command"/> (e.g. <c>deri serve</c>) is given.
    /// Only the message's first line is printed without <paramref name="verbose"/>: native exceptions (TorchSharp's
    /// <see cref="System.Runtime.InteropServices.ExternalException"/>) carry LibTorch's stack frames on the lines after it.
    /// </summary>
    public static int Report(Exception e, bool verbose, TextWriter error, string? command = null)
    {
        int code = e switch
        {
            CliUsageException => BadUsage,
            _ when IsBadInput(e) => BadInput,
            _ => Unexpected,
        };
        string message = verbose ? Describe(e) : FirstLine(Describe(e));
        error.WriteLine(code == Unexpected
            ? $"error: unexpected {e.GetType().Name}: {message}{(verbose ? "" : " (run with --verbose for details)")}"
            : $"error: {message}");
        if (code == BadUsage && command is not null) error.WriteLine($"see `{command} --help`");
        if (verbose) error.WriteLine(e);
        return code;
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOf('\n');
        return nl < 0 ? message : message[..nl].TrimEnd('\r');
    }

    // Only the project's own types are the user's mistakes: the library's InputException and its subclasses (a file that is
    // missing or malformed, a value that does not fit the data, an output path that is taken; their messages name it) and
    // the CLI's CommandFailedException (a check the command makes failed). A .NET exception (ArgumentException,
    // InvalidOperationException, KeyNotFoundException, InvalidDataException, IOException, ...) escaping a command is
    // Deri's bug, or a place where the library does not yet say what the user got wrong: either way it is exit 3, to be
    // reported. An environment failure the library does not anticipate (a full disk) is exit 3 for the same reason.
    private static bool IsBadInput(Exception e) => e is InputException or CommandFailedException;

    // The message, with the file and position that the exception carries but its message leaves out.
    private static string Describe(Exception e)
    {
        string message = e.Message;
        if (e is InputFileNotFoundException { FilePath: { } file } && !message.Contains(file, StringComparison.Ordinal))
            message = $"{file}: {message}";
        if (e is JsonException { LineNumber: { } line } json && !message.Contains("LineNumber", StringComparison.Ordinal))
            message += $" (line {line + 1}, column {(json.BytePositionInLine ?? 0) + 1})";
        return message;
    }
}

/// <summary>A command line that is wrong in a way the parser cannot see (exit code 2, like a parse error).</summary>
/// <param name="message">The complete, user-facing message naming the option.</param>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// The command ran, and what it checks failed (a benchmark's failed requests, a PyTorch reference that was named and could
/// not run): exit code 1, like bad input, with the message as the error line.
/// </summary>
/// <param name="message">The complete, user-facing message saying what failed.</param>
public sealed class CommandFailedException(string message) : Exception(message);
