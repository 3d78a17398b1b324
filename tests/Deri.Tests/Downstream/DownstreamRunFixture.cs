using Deri.Tests.Cli;

namespace Deri.Tests.Downstream;

/// <summary>
/// A tiny pretrained run made once per test session for all downstream, retrieval and serving tests: <c>deri demo</c>
/// on 200 synthetic records, one epoch of batch 32 (a few seconds), giving a run folder, a labelled store with
/// train/val/test splits and a prompt file. It uses the jointly trained scratch text encoder (not the demo's default
/// MiniLM), whose run folder carries a vocabulary (RUN/text) that several tests copy. The demo is shared by every
/// instance (<see cref="Serving.ServeRunFixture"/> extends this fixture), so tests only add folders under
/// <see cref="Root"/> and never change the run, store or prompts; the root is removed when the test process exits.
/// </summary>
public class DownstreamRunFixture : IDisposable
{
    private static readonly Lazy<DemoOutput> Demo = new(RunDemo, LazyThreadSafetyMode.ExecutionAndPublication);

    private sealed record DemoOutput(string Root, string Stdout, string Stderr);

    public DownstreamRunFixture()
    {
        var demo = Demo.Value;
        Root = demo.Root;
        DemoStdout = demo.Stdout;
        DemoStderr = demo.Stderr;
    }

    private static DemoOutput RunDemo()
    {
        RemoveLeftovers();
        string root = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        // Both collections that use the demo hold it until the session ends, so it goes with the process. The test host
        // may be killed before ProcessExit runs; the next session then removes the folder (RemoveLeftovers).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(root);
        var r = CliRunner.Run(["demo", "--out", root, "--records", "200", "--set", "trainer.max_epochs=1", "--set", "trainer.batch_size=32",
            "--set", "network.text_model=scratch", "--set", "network.feature_dim=256", "--threads", "1", "--device", "cpu"], timeoutSeconds: 600);
        if (r.ExitCode != 0) throw new InvalidOperationException($"deri demo failed ({r.ExitCode}):\n{r.Stdout}\n{r.Stderr}");
        return new DemoOutput(root, r.Stdout, r.Stderr);
    }

    /// <summary>What <c>deri demo</c> printed on stdout (its result) and stderr (its status).</summary>
    public string DemoStdout { get; }

    /// <inheritdoc cref="DemoStdout"/>
    public string DemoStderr { get; }

    public string Root { get; }
    public string Run => Path.Combine(Root, "run");
    public string Store => Path.Combine(Root, "store");
    public string Prompts => Path.Combine(Root, "data", "synthetic_prompts.json");

    /// <summary>A synthetic record header written by the demo (MIMIC-IV-ECG layout, 500 Hz WFDB).</summary>
    public string RecordHeader => Directory.EnumerateFiles(Path.Combine(Root, "data"), "*.hea", SearchOption.AllDirectories).Order().First();

    /// <summary>A fresh folder inside the fixture's root.</summary>
    public string NewDir(string name)
    {
        string d = Path.Combine(Root, "t-" + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a derived fixture started; the shared demo folder stays until the process exits.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    private const string Prefix = "deri-demo-run-";

    // Demo folders of test processes that are no longer running (named PREFIX{pid}-{guid}).
    private static void RemoveLeftovers()
    {
        foreach (string dir in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            string rest = Path.GetFileName(dir)[Prefix.Length..];
            int dash = rest.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(rest[..dash], out int pid) && !IsRunning(pid)) DeleteQuietly(dir);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void DeleteQuietly(string root)
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition("downstream-run")]
public sealed class DownstreamRunCollection : ICollectionFixture<DownstreamRunFixture>;
