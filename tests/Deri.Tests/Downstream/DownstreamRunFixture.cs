using Deri.Tests.Cli;

namespace Deri.Tests.Downstream;

/// <summary>
/// A tiny pretrained run made once for all downstream tests: <c>deri demo</c> on 200 synthetic records, one epoch of
/// batch 32 (a few seconds), giving a run folder, a labelled store with train/val/test splits and a prompt file. It uses
/// the jointly trained scratch text encoder (not the demo's default MiniLM), whose run folder carries a vocabulary
/// (RUN/text) that several tests copy or remove.
/// </summary>
public sealed class DownstreamRunFixture : IDisposable
{
    public DownstreamRunFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "deri-downstream-" + Guid.NewGuid().ToString("N"));
        var r = CliRunner.Run(["demo", "--out", Root, "--records", "200", "--set", "trainer.max_epochs=1", "--set", "trainer.batch_size=32",
            "--set", "network.text_model=scratch", "--set", "network.feature_dim=256", "--threads", "1", "--device", "cpu"], timeoutSeconds: 600);
        if (r.ExitCode != 0) throw new InvalidOperationException($"deri demo failed ({r.ExitCode}):\n{r.Stdout}\n{r.Stderr}");
        DemoStdout = r.Stdout;
        DemoStderr = r.Stderr;
    }

    /// <summary>What <c>deri demo</c> printed on stdout (its result) and stderr (its status).</summary>
    public string DemoStdout { get; }

    /// <inheritdoc cref="DemoStdout"/>
    public string DemoStderr { get; }

    public string Root { get; }
    public string Run => Path.Combine(Root, "run");
    public string Store => Path.Combine(Root, "store");
    public string Prompts => Path.Combine(Root, "data", "synthetic_prompts.json");

    /// <summary>A fresh folder inside the fixture's root.</summary>
    public string NewDir(string name)
    {
        string d = Path.Combine(Root, "t-" + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition("downstream-run")]
public sealed class DownstreamRunCollection : ICollectionFixture<DownstreamRunFixture>;
