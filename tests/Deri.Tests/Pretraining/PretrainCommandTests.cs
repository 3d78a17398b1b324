using System.Diagnostics;
using System.Text.Json.Nodes;
using Deri.Tests.Cli;
using Deri.Training;

namespace Deri.Tests.Pretraining;

/// <summary><c>deri pretrain</c> end to end on a tiny synthetic store: exact resumption after SIGKILL, zero-shot selection, errors.</summary>
public sealed class PretrainCommandTests(TinyPretrainingData data) : IClassFixture<TinyPretrainingData>
{
    private static List<string> TrainSteps(string run) =>
        MetricsLog.Read(Path.Combine(run, "metrics.jsonl"))
            .Where(r => (string?)r["kind"] == "train")
            .Select(r => string.Join(" ", r.Where(kv => kv.Key is not ("samples_per_s" or "seconds" or "time"))
                .Select(kv => $"{kv.Key}={kv.Value?.ToJsonString()}")))
            .ToList();

    [Fact]
    public void ARunKilledMidEpochResumesOntoTheUninterruptedLossCurve()
    {
        string config = data.WriteConfig("resume");
        string a = Path.Combine(data.Root, "run-a"), b = Path.Combine(data.Root, "run-b");
        CliRunner.Ok("pretrain", "--config", config, "--out", a, "--threads", "1");
        var uninterrupted = TrainSteps(a);
        Assert.Equal(2 * 21, uninterrupted.Count); // 84 train pairs / batch 4, two epochs

        // Start the same run and SIGKILL it once it is past its step-6 checkpoint, mid-epoch 1.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "deri.dll"), "pretrain", "--config", config, "--out", b, "--threads", "1" })
            psi.ArgumentList.Add(arg);
        using (var p = Process.Start(psi)!)
        {
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!p.HasExited && DateTime.UtcNow < deadline)
            {
                if (File.Exists(Path.Combine(b, "last.ckpt")) && File.Exists(Path.Combine(b, "metrics.jsonl"))
                    && SafeCount(b) >= 8) break;
                Thread.Sleep(10);
            }
            Assert.False(p.HasExited, "the run finished before it could be killed");
            p.Kill(); // SIGKILL: no handler runs, nothing is flushed
            p.WaitForExit();
        }
        int seenBeforeKill = SafeCount(b);
        Assert.InRange(seenBeforeKill, 8, uninterrupted.Count - 1);

        string resumed = CliRunner.Ok("pretrain", "--config", config, "--out", b, "--resume", "auto", "--threads", "1");
        Assert.Contains("training:", resumed);
        var curve = TrainSteps(b);
        Assert.Equal(uninterrupted.Count, curve.Count);
        for (int i = 0; i < curve.Count; i++) Assert.True(uninterrupted[i] == curve[i], $"step {i + 1}:\n{uninterrupted[i]}\n{curve[i]}");
    }

    private static int SafeCount(string run)
    {
        try
        {
            return File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Count(l => l.Contains("\"kind\":\"train\"", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return 0;
        }
    }

    [Fact]
    public void ZeroShotSetsSelectTheBestCheckpointAndTheTestSetIsReported()
    {
        string config = data.WriteConfig("zeroshot", $"""
              meta_data_path: {data.Root}
              val_sets:
                synthetic:
                  data_path: store
                  split: val
              test_sets:
                synthetic:
                  data_path: store
                  split: test
            """);
        string run = Path.Combine(data.Root, "run-zs");
        string output = CliRunner.Ok("pretrain", "--config", config, "--out", run, "--set", "trainer.max_epochs=1", "--threads", "1");
        Assert.Contains("synthetic / paper (threshold on the evaluated split)", output);
        Assert.Contains("synthetic / held-out (threshold on validation)", output);
        Assert.True(File.Exists(Path.Combine(run, "best.ckpt")));
        Assert.True(File.Exists(Path.Combine(run, "zeroshot_test.md")));
        Assert.Contains("selected on synthetic", File.ReadAllText(Path.Combine(run, "train.log")));
        var eval = MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Where(r => r.ToJsonString().Contains("zeroshot_auc", StringComparison.Ordinal));
        Assert.NotEmpty(eval);
    }

    [Fact]
    public void ARunExportsAsSafetensorsWithAJsonConfig()
    {
        string config = data.WriteConfig("export");
        string run = Path.Combine(data.Root, "run-export"), export = Path.Combine(data.Root, "export");
        CliRunner.Ok("pretrain", "--config", config, "--out", run, "--set", "trainer.max_epochs=1", "--threads", "1");
        string listed = CliRunner.Ok("export", "--run", run, "--checkpoint", "last", "--out", export);
        Assert.Contains("model.safetensors", listed);
        var tensors = Deri.Weights.SafeTensors.Load(Path.Combine(export, "model.safetensors"));
        Assert.Contains("proj_t.0.weight", tensors.Keys);
        Assert.Contains(tensors.Keys, k => k.StartsWith("ecg_encoder.", StringComparison.Ordinal));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(export, "config.json")))!;
        Assert.Equal("resnet18", (string?)json["network"]!["ecg_model"]);
        Assert.Equal(32.0, (double)json["network"]!["feature_dim"]!);
        Assert.True(File.Exists(Path.Combine(export, "text", "vocab.txt")));
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void MissingStoreAndBadKeysAreClearErrors()
    {
        var r = CliRunner.Run(["pretrain", "--set", "dataset.data_path=/nonexistent/store", "--out", Path.Combine(data.Root, "x")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no prepared store at '/nonexistent/store'", r.Stderr);
        var k = CliRunner.Run(["pretrain", "--set", "trainer.batch_sise=3"]);
        Assert.NotEqual(0, k.ExitCode);
        Assert.Contains("batch_sise", k.Stderr);
    }
}
