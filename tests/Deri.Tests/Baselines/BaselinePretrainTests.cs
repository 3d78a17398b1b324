using System.Text.Json.Nodes;
using Deri.Config;
using Deri.Pretraining;
using Deri.Tests.Cli;
using Deri.Tests.Pretraining;
using Deri.Training;

namespace Deri.Tests.Baselines;

/// <summary>
/// The baselines through the shared pipeline on a tiny prepared synthetic store: <c>deri pretrain --method</c>, checkpoints,
/// <c>--resume auto</c>, then <c>deri probe</c>, <c>deri embed</c> and <c>deri export</c> on the run, and zero-shot's refusal.
/// </summary>
public sealed class BaselinePretrainTests(TinyPretrainingData data) : IClassFixture<TinyPretrainingData>
{
    /// <summary>Narrow heads so that a step takes milliseconds; batches of 8 give 10 steps per epoch on the 84 training records.</summary>
    internal const string SmallSsl = """
        ssl:
          simclr: {hidden_dim: 32, output_dim: 16}
          byol: {hidden_dim: 32, output_dim: 16, predictor_hidden_dim: 32}
          barlowtwins: {hidden_dim: 32, output_dim: 32}
          mocov3: {hidden_dim: 32, output_dim: 16, predictor_hidden_dim: 32}
          simsiam: {hidden_dim: 32, output_dim: 32, predictor_hidden_dim: 8}
        """;

    private static readonly string[] Quick = ["--set", "trainer.batch_size=8", "--set", "trainer.max_epochs=1", "--threads", "1"];

    private static List<JsonObject> Train(string run) =>
        MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Where(r => (string?)r["kind"] == "train").ToList();

    [Fact]
    public void SimClrPretrainsResumesAndIsProbedEmbeddedAndExportedButNotZeroShot()
    {
        string config = data.WriteConfig("simclr", SmallSsl);
        string run = Path.Combine(data.Root, "run-simclr");
        string output = CliRunner.Ok(["pretrain", "--config", config, "--method", "simclr", "--out", run, .. Quick]);
        Assert.Contains("training: 10 steps, 1 epochs", output);
        foreach (var f in new[] { "last.ckpt", "best.ckpt", "config.yaml", "losses.png" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.Empty(Directory.GetFiles(run, "epoch_*.ckpt")); // trainer.checkpoint_interval is 0 by default: no copy per epoch
        Assert.All(Train(run), r => Assert.True(r["nt_xent"] is not null && (double)r["loss"]! == (double)r["nt_xent"]!));
        var saved = DeriConfig.Load(Path.Combine(run, "config.yaml"));
        Assert.Equal("simclr", saved.Network.Method);
        Assert.Equal(new Dictionary<string, double> { ["nt_xent"] = 1 }, saved.Trainer.LossWeights);
        Assert.Contains("best checkpoint: epoch 1, negative_validation_loss", File.ReadAllText(Path.Combine(run, "train.log")));

        // A second run into the same folder without --resume refuses with one line and leaves the first run byte-identical.
        var kept = new[] { "metrics.jsonl", "train.log", "last.ckpt" }.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(run, f)));
        var again = CliRunner.Run(["pretrain", "--config", config, "--method", "simclr", "--out", run, .. Quick]);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"error: {Path.GetFullPath(run)} already holds a run; continue it with --resume auto, or pass --overwrite to move it aside (nothing is deleted)",
            again.Stderr.Trim());
        foreach (var (f, bytes) in kept) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(run, f)));

        // --resume auto continues the run from last.ckpt into a second epoch.
        CliRunner.Ok(["pretrain", "--config", config, "--method", "simclr", "--out", run, "--resume", "auto", .. Quick, "--set", "trainer.max_epochs=2"]);
        Assert.Contains("resumed from", File.ReadAllText(Path.Combine(run, "train.log")));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), Train(run).Select(r => (long)r["step"]!));

        string probeDir = Path.Combine(data.Root, "probe-simclr");
        string table = CliRunner.Ok("probe", "--run", run, "--store", data.StoreDir, "--ratios", "100", "--epochs", "3", "--out", probeDir, "--threads", "1");
        Assert.Contains("store / run-simclr", table);
        var probe = JsonNode.Parse(File.ReadAllText(Path.Combine(probeDir, "probe.json")))!;
        var row = probe["rows"]!.AsArray().Single()!;
        Assert.Equal("store / run-simclr", (string?)row["task"]);
        Assert.InRange((double)row["100%"]!, 0, 100);
        Assert.Contains("encoder features", File.ReadAllText(Path.Combine(probeDir, "probe.md")));

        string csv = Path.Combine(data.Root, "simclr.csv");
        string embedded = CliRunner.Ok("embed", "--run", run, "--store", data.StoreDir, "--split", "test", "--output", csv, "--threads", "1");
        Assert.Contains("× 32 encoder features", embedded);
        Assert.Equal(3 + 32, File.ReadLines(csv).First().Split(',').Length);

        string export = Path.Combine(data.Root, "export-simclr");
        CliRunner.Ok("export", "--run", run, "--out", export);
        var tensors = Deri.Weights.SafeTensors.Load(Path.Combine(export, "model.safetensors"));
        Assert.Contains("encoder.conv1.weight", tensors.Keys);
        Assert.Contains("projector.0.weight", tensors.Keys);
        foreach (var t in tensors.Values) t.Dispose();

        var zs = CliRunner.Run(["zeroshot", "--run", run, "--store", data.StoreDir, "--prompts", data.Prompts, "--threads", "1"]);
        Assert.Equal(1, zs.ExitCode);
        Assert.Contains("pretrained with simclr, an ECG-only method without text encoder", zs.Stderr);
        var wrong = CliRunner.Run(["embed", "--run", run, "--store", data.StoreDir, "--feature", "mixed", "--output", csv, "--threads", "1"]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("has only the encoder feature", wrong.Stderr);
    }

    public static TheoryData<string> Methods => new(Deri.Config.MethodNames.Ssl);

    [Theory]
    [MemberData(nameof(Methods))]
    public void EveryMethodTrainsAnEpochAndItsRunReopensForFeatures(string method)
    {
        var config = DeriConfig.Load(data.WriteConfig("all-" + method, SmallSsl),
            [$"network.method={method}", "trainer.batch_size=16", "trainer.max_epochs=1"]);
        string run = Path.Combine(data.Root, "run-all-" + method);
        var result = Pretrainer.Run(config, run, TorchSharp.torch.CPU, progress: new PlainProgress(TextWriter.Null, 100), log: _ => { });
        Assert.Equal(5, result.Training.GlobalSteps);
        Assert.True(double.IsFinite(result.Training.LastLoss), $"{method}: last loss {result.Training.LastLoss}");
        Assert.Empty(result.TestResults);

        using var loaded = PretrainedRun.Load(run, "best", TorchSharp.torch.CPU);
        Assert.False(loaded.IsEcgText);
        Assert.Equal(method, loaded.Method);
        Assert.Equal(Deri.Downstream.DownstreamFeature.Encoder, Deri.Downstream.FeatureExtractor.DefaultFor(loaded));
        using var store = Deri.Data.Store.EcgStore.Open(data.StoreDir);
        using var features = Deri.Downstream.FeatureExtractor.Compute(loaded, store, store.IndicesOf("test")[..6],
            Deri.Downstream.DownstreamFeature.Encoder, batchSize: 4);
        Assert.Equal(new long[] { 6, loaded.SslMethod!.RepresentationDim }, features.Features.shape);
        Assert.Throws<Deri.IO.InputException>(() => loaded.Module);
    }

    [Fact]
    public void OverwriteMovesAnEarlierRunAsideAndStartsAfresh()
    {
        string config = data.WriteConfig("overwrite", SmallSsl);
        string run = Path.Combine(data.Root, "run-overwrite");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "earlier run\n");
        var r = CliRunner.Run(["pretrain", "--config", config, "--method", "simclr", "--out", run, "--overwrite", .. Quick]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("moved the existing run", r.Stderr);
        string aside = Assert.Single(Directory.GetDirectories(data.Root, "run-overwrite.old-*"));
        Assert.Equal("earlier run\n", File.ReadAllText(Path.Combine(aside, "metrics.jsonl")));
        Assert.Equal(10, Train(run).Count);
    }

    [Fact]
    public void AMisspeltLossTermOfABaselineIsAClearError()
    {
        string config = data.WriteConfig("typo", SmallSsl);
        var r = CliRunner.Run(["pretrain", "--config", config, "--method", "byol", "--set", "trainer.loss_weights.byoll=1",
            "--out", Path.Combine(data.Root, "run-typo"), .. Quick]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("byol has no loss term byoll (its terms: byol)", r.Stderr);
    }
}

/// <summary>Exact resumption of a baseline with a momentum encoder and random augmentations, in process.</summary>
[Collection("torch-global-generator")]
public sealed class BaselineResumeTests(TinyPretrainingData data) : IClassFixture<TinyPretrainingData>
{
    private sealed class CancelAt(long step, CancellationTokenSource cts) : ITrainingProgress, IProgressSink
    {
        public void Run(string title, long totalSteps, long doneSteps, Action<IProgressSink> body) => body(this);

        public void Report(ProgressUpdate update)
        {
            if (update.Step == step) cts.Cancel();
        }

        public void Message(string line) { }
    }

    private static List<string> Steps(string run) =>
        MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Where(r => (string?)r["kind"] == "train")
            .Select(r => string.Join(" ", r.Where(kv => kv.Key is not ("samples_per_s" or "seconds" or "time")).Select(kv => $"{kv.Key}={kv.Value?.ToJsonString()}")))
            .ToList();

    [Fact]
    public void AByolRunStoppedMidEpochResumesOntoTheUninterruptedLossCurve()
    {
        var config = DeriConfig.Load(data.WriteConfig("byol-resume", BaselinePretrainTests.SmallSsl),
            ["network.method=byol", "trainer.batch_size=16", "trainer.max_epochs=2", "trainer.checkpoint_every_steps=0"]);
        string a = Path.Combine(data.Root, "byol-a"), b = Path.Combine(data.Root, "byol-b");
        Pretrainer.Run(config, a, TorchSharp.torch.CPU, progress: new CancelAt(-1, new CancellationTokenSource()), log: _ => { });
        var uninterrupted = Steps(a);
        Assert.Equal(10, uninterrupted.Count); // 84 training records / batch 16, two epochs

        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() =>
                Pretrainer.Run(config, b, TorchSharp.torch.CPU, progress: new CancelAt(7, cts), log: _ => { }, cancel: cts.Token));
        Assert.Equal(7L, Checkpoint.ReadInfo(Path.Combine(b, "last.ckpt")).GlobalStep);
        Pretrainer.Run(config, b, TorchSharp.torch.CPU, resume: Path.Combine(b, "last.ckpt"), progress: new CancelAt(-1, new CancellationTokenSource()), log: _ => { });
        var curve = Steps(b);
        Assert.Equal(uninterrupted.Count, curve.Count);
        for (int i = 0; i < curve.Count; i++) Assert.True(uninterrupted[i] == curve[i], $"step {i + 1}:\n{uninterrupted[i]}\n{curve[i]}");
    }
}
