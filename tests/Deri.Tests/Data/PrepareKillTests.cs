using System.Diagnostics;
using Deri.Data.Store;
using Deri.Tests.Cli;

namespace Deri.Tests.Data;

public class PrepareKillTests
{
    [Fact]
    public void APrepareKilledMidwayResumesToTheSameStore()
    {
        using var dir = new TempDir();
        string root = DataFiles.Shared("ptbxl"), store = Path.Combine(dir.Path, "s"), fresh = Path.Combine(dir.Path, "fresh");
        string[] args = ["data", "prepare", "--dataset", "ptbxl", "--root", root, "--task", "none", "--workers", "1", "--chunk", "2"];
        string journal = Path.Combine(store + EcgStoreBuilder.PartialSuffix, "journal.jsonl");

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "deri.dll") }.Concat(args).Concat(["--out", store]))
            psi.ArgumentList.Add(a);
        using (var p = Process.Start(psi)!)
        {
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!p.HasExited && DateTime.UtcNow < deadline && CommittedChunks(journal) < 10) Thread.Sleep(5);
            Assert.False(p.HasExited, "prepare finished before it could be killed");
            p.Kill(); // SIGKILL: no handler runs, nothing is flushed
            p.WaitForExit();
        }
        Assert.False(EcgStore.Exists(store));
        int committed = CommittedChunks(journal);
        Assert.InRange(committed, 10, 216);

        string resumed = CliRunner.Ok([.. args, "--out", store]);
        // 434 records in chunks of 2; the committed chunks are not preprocessed again.
        Assert.Contains("store " + store + ": 434 records", resumed);
        Assert.Contains($"{434 - 2 * committed} preprocessed by this run", resumed);
        CliRunner.Ok([.. args, "--out", fresh]);
        var names = Directory.GetFiles(fresh).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(names, Directory.GetFiles(store).Select(Path.GetFileName).Order().ToArray());
        foreach (string? name in names)
            Assert.True(File.ReadAllBytes(Path.Combine(fresh, name!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(store, name!))), $"{name} differs");
    }

    /// <summary>Complete lines of the journal (a torn last line is not a commit).</summary>
    private static int CommittedChunks(string journal)
    {
        try
        {
            using var s = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var r = new StreamReader(s);
            return r.ReadToEnd().Count(c => c == '\n');
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
