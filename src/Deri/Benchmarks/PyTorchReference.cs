using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Deri.Benchmarks;

/// <summary>The PyTorch reference step's result (<c>shared/bench/deri_reference.py</c>), or why there is none.</summary>
/// <param name="Script">The script that was run (or looked for).</param>
/// <param name="SamplesPerSecond">Its samples/s; null when it could not run.</param>
/// <param name="Implementation">Its <c>impl</c> field, e.g. <c>pytorch-1.13.0</c>.</param>
/// <param name="Problem">Why there is no number (no script, no python3, no torch, a failure), or null.</param>
public sealed record ReferenceResult(string Script, double? SamplesPerSecond, string? Implementation, string? Problem);

/// <summary>
/// Runs the shared PyTorch reference training step with the same shapes and thread count, after (never beside) the
/// project's own measurement, so that <c>deri bench train</c> can print the ratio measured in one run.
/// </summary>
public static class PyTorchReference
{
    /// <summary>The reference's path relative to a folder that holds <c>shared/</c>.</summary>
    public const string RelativePath = "shared/bench/deri_reference.py";

    /// <summary>
    /// The reference script: <paramref name="explicitPath"/> when given, else the first <c>shared/bench/deri_reference.py</c>
    /// found in <paramref name="start"/> or one of its parents (the repository sits beside <c>shared/</c>); null if none.
    /// </summary>
    public static string? Find(string? explicitPath, string start)
    {
        if (explicitPath is not null) return explicitPath;
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Interpreters tried in order when none is named: the one on PATH, then the system's (Debian's python3-torch).</summary>
    public static readonly IReadOnlyList<string> DefaultInterpreters = ["python3", "/usr/bin/python3"];

    /// <summary>
    /// Runs <paramref name="script"/> with the first of <paramref name="interpreters"/> that has PyTorch, with the benchmark's
    /// shapes and thread count; never throws for a missing interpreter. The problems of all tries are joined when none ran.
    /// </summary>
    public static ReferenceResult Run(string script, TrainBenchOptions options, int threads, TimeSpan timeout, IReadOnlyList<string> interpreters)
    {
        if (!File.Exists(script)) return new ReferenceResult(script, null, null, $"{script}: no such file");
        var problems = new List<string>();
        foreach (string python in interpreters.Distinct())
        {
            var r = RunWith(python, script, options, threads, timeout);
            if (r.SamplesPerSecond is not null) return r;
            problems.Add($"{python}: {r.Problem}");
        }
        return new ReferenceResult(script, null, null, string.Join("; ", problems));
    }

    private static ReferenceResult RunWith(string python, string script, TrainBenchOptions options, int threads, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { script, "--batch", I(options.Batch), "--steps", I(options.Steps), "--warmup", I(options.Warmup),
                     "--length", I(options.Length), "--text-len", I(options.TextLength), "--threads", I(threads) })
            info.ArgumentList.Add(a);
        info.Environment["OMP_NUM_THREADS"] = I(threads);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("python3 did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new ReferenceResult(script, null, null, $"could not be started ({e.Message})");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return new ReferenceResult(script, null, null, $"{script} ran past {timeout.TotalSeconds:0} s and was stopped");
            }
            string output = stdout.Result, errors = stderr.Result;
            if (process.ExitCode != 0)
            {
                string last = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
                return new ReferenceResult(script, null, null, $"{script} exited with {process.ExitCode}: {last}");
            }
            string? line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.TrimStart().StartsWith('{'));
            if (line is null) return new ReferenceResult(script, null, null, $"{script} printed no JSON line");
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (!root.TryGetProperty("samples_per_s", out var sps) || sps.ValueKind != JsonValueKind.Number)
                return new ReferenceResult(script, null, null, $"{script}: no samples_per_s in its output");
            string? impl = root.TryGetProperty("impl", out var i) ? i.GetString() : null;
            return new ReferenceResult(script, sps.GetDouble(), impl, null);
        }
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
