namespace Deri.Tests.Downstream;

/// <summary><c>deri demo</c> keeps the project's output contract: status on stderr, the result table on stdout.</summary>
[Collection("downstream-run")]
public sealed class DemoOutputTests(DownstreamRunFixture run)
{
    [Fact]
    public void StatusGoesToStderrAndTheTableToStdout()
    {
        Assert.Contains("synthesised 200 records", run.DemoStderr);
        Assert.Contains("store ", run.DemoStderr);
        Assert.DoesNotContain("synthesised", run.DemoStdout);
        Assert.Contains("mean zero-shot AUC", run.DemoStdout);
        Assert.Contains("|---|", run.DemoStdout);
        Assert.DoesNotContain("mean zero-shot AUC", run.DemoStderr);
    }
}

/// <summary>A NaN in one record's signal gives NaN scores: <c>deri zeroshot</c> names that record instead of failing vaguely.</summary>
[Collection("downstream-run")]
public sealed class ZeroShotNonFiniteTests(DownstreamRunFixture run)
{
    [Fact]
    public void NaNScoresNameTheRecords()
    {
        string store = run.NewDir("nan-store");
        foreach (string file in Directory.GetFiles(run.Store))
            File.Copy(file, Path.Combine(store, Path.GetFileName(file)));
        int row;
        string id;
        using (var s = Deri.Data.Store.EcgStore.Open(store))
        {
            row = s.IndicesOf("test")[0];
            id = s.Entries[row].Id;
            string signals = Path.Combine(store, Deri.Data.Store.EcgStore.SignalFile(s.IsFloat16));
            using var fs = new FileStream(signals, FileMode.Open, FileAccess.Write);
            fs.Position = (long)row * s.RecordSize * sizeof(float) + 40;
            fs.Write(BitConverter.GetBytes(float.NaN));
        }
        var r = Deri.Tests.Cli.CliRunner.Run(["zeroshot", "--run", run.Run, "--store", store, "--prompts", run.Prompts, "--out", run.NewDir("nan-out"), "--threads", "1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("are not finite", r.Stderr);
        Assert.Contains(id, r.Stderr);
    }
}
