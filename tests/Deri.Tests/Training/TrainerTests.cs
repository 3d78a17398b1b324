using System.Text.Json.Nodes;
using Deri.Config;
using Deri.Training;
using TorchSharp;

namespace Deri.Tests.Training;

/// <summary>The training loop on a toy model: determinism, exact resumption, logs, plots, selection, leaks.</summary>
[Collection("torch-global-generator")]
public sealed class TrainerTests
{
    private static List<JsonObject> TrainRecords(string metricsPath) =>
        MetricsLog.Read(metricsPath).Where(r => (string?)r["kind"] == "train").ToList();

    private static string LossFields(JsonObject r) =>
        string.Join(" ", new[] { "epoch", "step", "lr", "loss", "mse", "l1", "pred_abs" }.Select(k => $"{k}={r[k]!.ToJsonString()}"));

    [Fact]
    public void TwoRunsWithTheSameSeedGiveTheSameLosses()
    {
        string a = Toy.TempDir(), b = Toy.TempDir();
        try
        {
            var ta = Toy.Task(1);
            new Trainer<ToyBatch>(ta, new ToyData(40, 3), null, TrainerSettings.For(Toy.Config()), a, progress: Toy.Quiet()).Run();
            var tb = Toy.Task(1);
            new Trainer<ToyBatch>(tb, new ToyData(40, 3), null, TrainerSettings.For(Toy.Config()), b, progress: Toy.Quiet()).Run();
            var la = TrainRecords(Path.Combine(a, "metrics.jsonl")).Select(LossFields).ToList();
            var lb = TrainRecords(Path.Combine(b, "metrics.jsonl")).Select(LossFields).ToList();
            Assert.Equal(15, la.Count);
            for (int i = 0; i < la.Count; i++) Assert.True(la[i] == lb[i], $"step {i + 1}:\n{la[i]}\n{lb[i]}");
            Assert.Equal(Toy.Parameters(ta.Module), Toy.Parameters(tb.Module));
            // Training changed the model and the losses vary (dropout and data order are in play).
            Assert.True(la.Distinct().Count() == la.Count);
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Fact]
    public void ResumingAfterACrashReproducesTheUninterruptedLossCurveExactly()
    {
        string a = Toy.TempDir(), b = Toy.TempDir();
        try
        {
            // Loads run on the training thread (workers 0) so that "the 9th load" is always the same batch;
            // prefetching may load ahead and concurrently. Run A: 3 epochs of 5 batches, uninterrupted.
            var taskA = Toy.Task(11);
            new Trainer<ToyBatch>(taskA, new ToyData(40, 5), new ToyData(20, 6), TrainerSettings.For(Toy.Config(workers: 0)), a, progress: Toy.Quiet()).Run();

            // Run B: same setup, but the loader dies on its 9th load: a periodic checkpoint was written
            // after step 6 (epoch 2, batch 1), then steps 7 and 8 ran, then the "crash".
            var taskB = Toy.Task(11);
            var failing = new ToyData(40, 5) { BeforeLoad = n => { if (n == 8) throw new IOException("simulated crash"); } };
            var crash = Assert.Throws<IOException>(() =>
                new Trainer<ToyBatch>(taskB, failing, new ToyData(20, 6), TrainerSettings.For(Toy.Config(workers: 0)), b, progress: Toy.Quiet()).Run());
            Assert.Equal("simulated crash", crash.Message);
            var beforeResume = TrainRecords(Path.Combine(b, "metrics.jsonl"));
            Assert.Equal(8, beforeResume.Count);
            var info = Checkpoint.ReadInfo(Path.Combine(b, "last.ckpt"));
            Assert.Equal((1, 1, 6L), (info.Epoch, info.StepInEpoch, info.GlobalStep));

            // Resume in a fresh model initialised differently: everything must come from the checkpoint.
            var taskB2 = Toy.Task(999);
            var summary = new Trainer<ToyBatch>(taskB2, new ToyData(40, 5), new ToyData(20, 6), TrainerSettings.For(Toy.Config(workers: 0)), b, progress: Toy.Quiet())
                .Run(resumeFrom: Path.Combine(b, "last.ckpt"));
            Assert.Equal(15, summary.GlobalSteps);

            var la = TrainRecords(Path.Combine(a, "metrics.jsonl")).Select(LossFields).ToList();
            var lb = TrainRecords(Path.Combine(b, "metrics.jsonl")).Select(LossFields).ToList();
            Assert.Equal(la, lb);
            var va = MetricsLog.Read(Path.Combine(a, "metrics.jsonl")).Where(r => (string?)r["kind"] == "val").Select(r => r.ToJsonString());
            var vb = MetricsLog.Read(Path.Combine(b, "metrics.jsonl")).Where(r => (string?)r["kind"] == "val").Select(r => r.ToJsonString());
            Assert.Equal(va, vb);
            Assert.Equal(Toy.Parameters(taskA.Module), Toy.Parameters(taskB2.Module));
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Fact]
    public void ResumingWithAnotherBatchSizeIsRefused()
    {
        string dir = Toy.TempDir();
        try
        {
            new Trainer<ToyBatch>(Toy.Task(1), new ToyData(40, 3), null, TrainerSettings.For(Toy.Config(epochs: 1)), dir, progress: Toy.Quiet()).Run();
            var ex = Assert.Throws<InputFormatException>(() =>
                new Trainer<ToyBatch>(Toy.Task(1), new ToyData(40, 3), null, TrainerSettings.For(Toy.Config(batchSize: 4)), dir, progress: Toy.Quiet())
                    .Run(resumeFrom: Path.Combine(dir, "last.ckpt")));
            Assert.Contains("batch_size 8", ex.Message);
            Assert.Contains("last.ckpt", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void MetricsLogHasEveryStepWithLrTermsAndThroughputAndEpochRecords()
    {
        string dir = Toy.TempDir();
        try
        {
            var config = Toy.Config(epochs: 2);
            new Trainer<ToyBatch>(Toy.Task(2), new ToyData(40, 3), new ToyData(20, 4), TrainerSettings.For(config), dir, progress: Toy.Quiet()).Run();
            var records = MetricsLog.Read(Path.Combine(dir, "metrics.jsonl"));
            var train = records.Where(r => (string?)r["kind"] == "train").ToList();
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), train.Select(r => r["step"]!.GetValue<long>()));
            Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], train.Select(r => r["epoch"]!.GetValue<int>()));
            // lr of step s is the PyTorch schedule at s-1: T_0 = 4, T_mult = 2 restarts after 4 steps.
            var sched = new CosineWarmRestarts(0.01, 4, 2, 1e-8);
            foreach (var r in train)
            {
                Assert.Equal(sched.LearningRate, r["lr"]!.GetValue<double>());
                sched.Step();
                double expected = r["mse"]!.GetValue<double>() + 0.5 * r["l1"]!.GetValue<double>();
                Assert.Equal(expected, r["loss"]!.GetValue<double>(), 5);
                Assert.True(r["samples_per_s"]!.GetValue<double>() > 0);
                Assert.True(r.ContainsKey("pred_abs"));
                Assert.True(r["grad_norm"]!.GetValue<double>() > 0);
            }
            Assert.Equal(0.01, train[4]["lr"]!.GetValue<double>());
            var val = records.Where(r => (string?)r["kind"] == "val").ToList();
            Assert.Equal([5L, 10L], val.Select(r => r["step"]!.GetValue<long>()));
            Assert.All(val, r => Assert.Equal(20, r["records"]!.GetValue<int>()));
            Assert.True(File.Exists(Path.Combine(dir, "config.yaml")));
            Assert.Equal(config.ToYaml(), File.ReadAllText(Path.Combine(dir, "config.yaml")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ByDefaultOnlyLastAndBestCheckpointsAreKept()
    {
        string dir = Toy.TempDir();
        try
        {
            var config = Toy.Config(epochs: 3);
            config = config with { Trainer = config.Trainer with { CheckpointInterval = new TrainerConfig().CheckpointInterval } };
            new Trainer<ToyBatch>(Toy.Task(2), new ToyData(40, 3), new ToyData(20, 4), TrainerSettings.For(config), dir, progress: Toy.Quiet()).Run();
            Assert.Equal(["best.ckpt", "last.ckpt"], Directory.GetFiles(dir, "*.ckpt").Select(Path.GetFileName).Order());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void LossPlotIsAPng()
    {
        string dir = Toy.TempDir();
        try
        {
            new Trainer<ToyBatch>(Toy.Task(2), new ToyData(80, 3), new ToyData(20, 4), TrainerSettings.For(Toy.Config(epochs: 3)), dir, progress: Toy.Quiet()).Run();
            string png = Path.Combine(dir, "losses.png");
            byte[] bytes = File.ReadAllBytes(png);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.True(bytes.Length > 10_000, $"the plot has only {bytes.Length} bytes");
            // Width and height from the IHDR chunk.
            Assert.Equal(1000, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
            Assert.Equal(600, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
            string? keep = Environment.GetEnvironmentVariable("DERI_KEEP_PLOT");
            if (!string.IsNullOrEmpty(keep)) File.Copy(png, keep, true);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private sealed class ScriptedEvaluator(double[] selection) : IEpochEvaluator
    {
        public EpochEvaluation Evaluate(int epoch) => new(
            new Dictionary<string, double> { ["toy_auc"] = selection[epoch] }, "mean_zeroshot_auc", selection[epoch],
            "toy validation split");
    }

    [Fact]
    public void BestCheckpointIsTheEpochWithTheHighestSelectionAndTheLogSaysWhy()
    {
        string dir = Toy.TempDir();
        try
        {
            var config = Toy.Config(epochs: 3) with { Trainer = Toy.Config().Trainer with { MaxEpochs = 3, CheckpointInterval = 2 } };
            var summary = new Trainer<ToyBatch>(Toy.Task(2), new ToyData(40, 3), new ToyData(20, 4), TrainerSettings.For(config), dir,
                new ScriptedEvaluator([0.6, 0.8, 0.7]), Toy.Quiet()).Run();
            Assert.Equal(1, summary.BestEpoch);
            Assert.Equal(0.8, summary.BestSelection);
            var best = Checkpoint.ReadInfo(Path.Combine(dir, "best.ckpt"));
            Assert.Equal((2, 10L, 1), (best.Epoch, best.GlobalStep, best.BestEpoch));
            Assert.Equal("mean_zeroshot_auc", best.BestMetric);
            var last = Checkpoint.ReadInfo(Path.Combine(dir, "last.ckpt"));
            Assert.Equal((3, 15L, 1), (last.Epoch, last.GlobalStep, last.BestEpoch));
            Assert.True(File.Exists(Path.Combine(dir, "epoch_002.ckpt")));
            Assert.False(File.Exists(Path.Combine(dir, "epoch_001.ckpt")));
            string log = File.ReadAllText(Path.Combine(dir, "train.log"));
            Assert.Contains("best checkpoint: epoch 2, mean_zeroshot_auc 0.8000, selected on toy validation split", log);
            var bestRecords = MetricsLog.Read(Path.Combine(dir, "metrics.jsonl")).Where(r => (string?)r["kind"] == "best").ToList();
            Assert.Equal([0, 1], bestRecords.Select(r => r["epoch"]!.GetValue<int>()));
            Assert.All(bestRecords, r => Assert.Equal("toy validation split", (string?)r["selected_on"]));
            var eval = MetricsLog.Read(Path.Combine(dir, "metrics.jsonl")).Where(r => (string?)r["kind"] == "eval").ToList();
            Assert.Equal(0.7, eval[2]["scores"]!["toy_auc"]!.GetValue<double>());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void WithoutAnEvaluatorTheLowestValidationLossSelectsTheBestCheckpoint()
    {
        string dir = Toy.TempDir();
        try
        {
            var summary = new Trainer<ToyBatch>(Toy.Task(2), new ToyData(80, 3), new ToyData(20, 4), TrainerSettings.For(Toy.Config(epochs: 2)), dir,
                progress: Toy.Quiet()).Run();
            var val = MetricsLog.Read(Path.Combine(dir, "metrics.jsonl")).Where(r => (string?)r["kind"] == "val")
                .Select(r => r["loss"]!.GetValue<double>()).ToList();
            Assert.Equal(val.IndexOf(val.Min()), summary.BestEpoch);
            Assert.Equal("negative_validation_loss", summary.BestMetric);
            Assert.Contains("held-out pretraining records", File.ReadAllText(Path.Combine(dir, "train.log")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void PlainProgressPrintsLossThroughputAndEta()
    {
        string dir = Toy.TempDir();
        try
        {
            var output = new StringWriter();
            new Trainer<ToyBatch>(Toy.Task(2), new ToyData(40, 3), new ToyData(20, 4), TrainerSettings.For(Toy.Config(epochs: 1)), dir,
                progress: new PlainProgress(output, 2)).Run();
            var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var progress = lines.Where(l => l.StartsWith("epoch 1/1 step", StringComparison.Ordinal)).ToList();
            // Steps 2 and 4, and the last step 5.
            Assert.Equal(3, progress.Count);
            Assert.Matches(@"^epoch 1/1 step 2/5 \(40\.0%\) loss \d+\.\d{4} \d+\.\d samples/s ETA \d\d:\d\d:\d\d$", progress[0].TrimEnd('\r'));
            Assert.Contains(lines, l => l.StartsWith("epoch 1: validation loss", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void PersistentNonFiniteLossStopsTrainingWithoutCorruptingTheModel()
    {
        string dir = Toy.TempDir();
        try
        {
            var task = Toy.Task(2);
            task.ForcedMse = float.NaN;
            float[] before = Toy.Parameters(task.Module);
            var ex = Assert.Throws<InputValueException>(() =>
                new Trainer<ToyBatch>(task, new ToyData(400, 3), null, TrainerSettings.For(Toy.Config(epochs: 1, checkpointEvery: 0)), dir, progress: Toy.Quiet()).Run());
            Assert.Contains("diverged", ex.Message);
            Assert.Equal(before, Toy.Parameters(task.Module));
            var train = TrainRecords(Path.Combine(dir, "metrics.jsonl"));
            Assert.Equal(Trainer<ToyBatch>.MaxNonFiniteStreak, train.Count);
            Assert.All(train, r => Assert.Equal("NaN", (string?)r["loss"]));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ABatchWithBadDataIsSkippedCountedAndListed()
    {
        string dir = Toy.TempDir();
        try
        {
            var data = new ToyData(40, 3) { BeforeLoad = n => { if (n == 2) throw new InputFormatException("record 17: NaN in lead V3"); } };
            var summary = new Trainer<ToyBatch>(Toy.Task(2), data, null, TrainerSettings.For(Toy.Config(epochs: 2)), dir, progress: Toy.Quiet()).Run();
            Assert.Equal(10, summary.GlobalSteps);
            Assert.Equal(1, summary.SkippedBatches);
            Assert.True(double.IsFinite(summary.LastLoss));
            var train = MetricsLog.Read(Path.Combine(dir, "metrics.jsonl")).Where(r => (string?)r["kind"] == "train").ToList();
            var bad = Assert.Single(train, r => r.ContainsKey("error"));
            Assert.Equal(3, bad["step"]!.GetValue<long>());
            Assert.Equal("record 17: NaN in lead V3", (string?)bad["error"]);
            Assert.Contains("skipped batch 3 of epoch 1 (step 3): record 17: NaN in lead V3", File.ReadAllText(Path.Combine(dir, "train.log")));
            Assert.Equal(1, Checkpoint.ReadInfo(Path.Combine(dir, "last.ckpt")).SkippedBatches);
            Assert.True(File.Exists(Path.Combine(dir, "losses.png")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ALossTermWithoutAWeightIsAnError()
    {
        string dir = Toy.TempDir();
        try
        {
            var config = Toy.Config(epochs: 1) with
            {
                Trainer = Toy.Config().Trainer with { MaxEpochs = 1, LossWeights = new() { ["mse"] = 1.0, ["l1"] = 1.0 } },
            };
            var ex = Assert.Throws<ConfigException>(() =>
                new Trainer<ToyBatch>(Toy.Task(2), new ToyData(40, 3), null, TrainerSettings.For(config), dir, progress: Toy.Quiet()).Run());
            Assert.Contains("'pred_abs' has no weight in trainer.loss_weights", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TooFewRecordsForOneBatchIsAClearError()
    {
        string dir = Toy.TempDir();
        try
        {
            var ex = Assert.Throws<InputValueException>(() =>
                new Trainer<ToyBatch>(Toy.Task(2), new ToyData(5, 3), null, TrainerSettings.For(Toy.Config()), dir, progress: Toy.Quiet()).Run());
            Assert.Contains("5 records", ex.Message);
            Assert.Contains("trainer.batch_size = 8", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private sealed class Probe(Action<ProgressUpdate> onStep) : ITrainingProgress, IProgressSink
    {
        public void Run(string title, long totalSteps, long doneSteps, Action<IProgressSink> body) => body(this);
        public void Report(ProgressUpdate update) => onStep(update);
        public void Message(string line) { }
    }

    [Fact]
    public void ThreeHundredStepsLeakNeitherTensorsNorManagedMemory()
    {
        string dir = Toy.TempDir();
        try
        {
            long tensorsAt20 = 0, threadAt20 = 0, heapAt20 = 0, tensorsAt300 = 0, threadAt300 = 0, heapAt300 = 0;
            var probe = new Probe(u =>
            {
                if (u.Step != 20 && u.Step != 300) return;
                long heap = GC.GetTotalMemory(forceFullCollection: true);
                long live = torch.Tensor.TotalCount;
                long thread = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                if (u.Step == 20) (tensorsAt20, threadAt20, heapAt20) = (live, thread, heap);
                else (tensorsAt300, threadAt300, heapAt300) = (live, thread, heap);
            });
            // One epoch of 300 batches, loaded on the training thread so the counts are not racing a loader.
            var config = Toy.Config(epochs: 1, checkpointEvery: 0, workers: 0);
            new Trainer<ToyBatch>(Toy.Task(2), new ToyData(2400, 3), null, TrainerSettings.For(config), dir, progress: probe).Run();
            Assert.True(tensorsAt20 > 0);
            Assert.Equal(tensorsAt20, tensorsAt300);
            Assert.Equal(threadAt20, threadAt300);
            Assert.True(heapAt300 - heapAt20 < 512 * 1024, $"managed heap grew by {heapAt300 - heapAt20} bytes over 280 steps");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

/// <summary>Stopping a run on request, and the terminal progress bar.</summary>
[Collection("torch-global-generator")]
public sealed class TrainerStopAndProgressTests
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

    [Fact]
    public void ACancelledRunSavesItsPositionAndResumesExactly()
    {
        string a = Toy.TempDir(), b = Toy.TempDir();
        try
        {
            var taskA = Toy.Task(5);
            new Trainer<ToyBatch>(taskA, new ToyData(40, 5), null, TrainerSettings.For(Toy.Config(checkpointEvery: 0)), a, progress: Toy.Quiet()).Run();

            using var cts = new CancellationTokenSource();
            var taskB = Toy.Task(5);
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer<ToyBatch>(taskB, new ToyData(40, 5), null, TrainerSettings.For(Toy.Config(checkpointEvery: 0)), b, progress: new CancelAt(7, cts))
                    .Run(cancellation: cts.Token));
            var info = Checkpoint.ReadInfo(Path.Combine(b, "last.ckpt"));
            Assert.Equal((1, 2, 7L), (info.Epoch, info.StepInEpoch, info.GlobalStep));
            Assert.Contains("stopped at epoch 2, step 2 of 5", File.ReadAllText(Path.Combine(b, "train.log")));

            var taskB2 = Toy.Task(6);
            new Trainer<ToyBatch>(taskB2, new ToyData(40, 5), null, TrainerSettings.For(Toy.Config(checkpointEvery: 0)), b, progress: Toy.Quiet())
                .Run(resumeFrom: Path.Combine(b, "last.ckpt"));
            static string Losses(string dir) => string.Join("\n", MetricsLog.Read(Path.Combine(dir, "metrics.jsonl"))
                .Where(r => (string?)r["kind"] == "train").Select(r => $"{r["step"]} {r["loss"]!.ToJsonString()} {r["lr"]!.ToJsonString()}"));
            Assert.Equal(Losses(a), Losses(b));
            Assert.Equal(Toy.Parameters(taskA.Module), Toy.Parameters(taskB2.Module));
        }
        finally
        {
            Directory.Delete(a, true);
            Directory.Delete(b, true);
        }
    }

    [Fact]
    public void TheTerminalProgressBarShowsLossThroughputAndRemainingTime()
    {
        string dir = Toy.TempDir();
        try
        {
            var output = new StringWriter();
            var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
            {
                Ansi = Spectre.Console.AnsiSupport.Yes,
                Interactive = Spectre.Console.InteractionSupport.Yes,
                ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
                Out = new Spectre.Console.AnsiConsoleOutput(output),
            });
            new Trainer<ToyBatch>(Toy.Task(2), new ToyData(40, 3), new ToyData(16, 4), TrainerSettings.For(Toy.Config(epochs: 1)), dir,
                progress: new Deri.Cli.Progress.SpectreProgress(console)).Run();
            string text = output.ToString();
            Assert.Matches(@"epoch 1/1 loss \d+\.\d{4} \d+ samples/s ETA \d\d:\d\d:\d\d", text);
            Assert.Contains("100%", text);
            Assert.Contains("epoch 1: validation loss", text);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
