using System.Diagnostics;

namespace Deri.Tests.Cli;

/// <summary>Runs the built <c>deri</c> program (copied into the test output) as a separate process.</summary>
public static class CliRunner
{
    /// <summary>The result of one run.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs <c>dotnet deri.dll ARGS</c> and waits for it (at most <paramref name="timeoutSeconds"/>).</summary>
    /// <param name="args">Arguments after <c>deri</c>.</param>
    /// <param name="workingDirectory">Working folder (default: the test binaries' folder).</param>
    /// <param name="timeoutSeconds">Most seconds to wait.</param>
    /// <param name="environment">Extra environment variables for the child process (e.g. a startup hook).</param>
    public static Result Run(IEnumerable<string> args, string? workingDirectory = null, int timeoutSeconds = 300,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "deri.dll"));
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(true);
            throw new TimeoutException($"deri {string.Join(' ', args)} ran longer than {timeoutSeconds} s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs and asserts exit code 0, returning standard output.</summary>
    public static string Ok(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, $"deri {string.Join(' ', args)} exited {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        return r.Stdout;
    }
}
