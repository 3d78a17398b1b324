using System.Diagnostics;
using System.Globalization;
using Deri.Config;
using Deri.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Training;

/// <summary>What a finished (or resumed-and-finished) training run reports.</summary>
/// <param name="GlobalSteps">Optimizer steps done in total.</param>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="LastLoss">Weighted total loss of the last training step (NaN if no step ran in this call).</param>
/// <param name="BestEpoch">Epoch (0-based) of <c>best.ckpt</c>, if any epoch was selected.</param>
/// <param name="BestSelection">Selection value of that epoch.</param>
/// <param name="BestMetric">Name of the selection value.</param>
/// <param name="SkippedBatches">Training batches skipped because loading them raised <see cref="InvalidDataException"/>.</param>
/// <param name="OutputDirectory">Where checkpoints, metrics and the plot are.</param>
public sealed record TrainingSummary(
    long GlobalSteps, int Epochs, double LastLoss, int? BestEpoch, double? BestSelection, string? BestMetric, int SkippedBatches,
    string OutputDirectory);

/// <summary>
/// The pretraining loop, written out step by step (like nanoGPT's): for every batch, in one dispose
/// scope, load → model step → named loss terms → weighted total → backward → optional gradient
/// clipping → AdamW step → learning-rate schedule step. Each epoch visits the records in a seeded
/// permutation of (seed, epoch) and ends with validation losses, an optional evaluation whose
/// selection value picks <c>best.ckpt</c>, <c>last.ckpt</c>, and a fresh loss plot.
/// </summary>
/// <remarks>
/// Files in the output folder: <c>config.yaml</c> (the resolved config), <c>metrics.jsonl</c>
/// (<see cref="MetricsLog"/>), <c>losses.png</c>, <c>train.log</c> (messages), <c>last.ckpt</c>
/// (every <c>trainer.checkpoint_every_steps</c> steps and at each epoch end), <c>best.ckpt</c>, and
/// <c>epoch_NNN.ckpt</c> every <c>trainer.checkpoint_interval</c> epochs. Every file is written
/// atomically. <see cref="Run"/> with a checkpoint continues exactly where it was saved: on CPU the
/// losses after the checkpoint are bitwise those of an uninterrupted run, because the model, AdamW
/// moments, scheduler, torch generator (dropout, random masks) and data position are all restored.
/// A training batch whose loading throws <see cref="InvalidDataException"/> (bad records) is skipped,
/// counted and listed in the log and metrics; any other loading error stops the run.
/// </remarks>
public sealed class Trainer<TBatch> where TBatch : IDisposable
{
    /// <summary>Consecutive non-finite losses after which training stops as diverged.</summary>
    public const int MaxNonFiniteStreak = 20;

    private readonly IPretrainingTask<TBatch> _task;
    private readonly ITrainingData<TBatch> _train;
    private readonly ITrainingData<TBatch>? _validation;
    private readonly DeriConfig _config;
    private readonly IEpochEvaluator? _evaluator;
    private readonly ITrainingProgress _progress;

    /// <summary>Creates a trainer writing into <paramref name="outputDirectory"/>.</summary>
    /// <param name="task">Model and objective.</param>
    /// <param name="train">Training records.</param>
    /// <param name="validation">Validation records (losses only), or null.</param>
    /// <param name="config">The resolved config; <c>trainer</c> and <c>optimizer</c> drive the loop, the whole config is saved.</param>
    /// <param name="outputDirectory">Folder for checkpoints, metrics and plots.</param>
    /// <param name="evaluator">Per-epoch evaluation selecting the best checkpoint; without it the lowest validation loss selects.</param>
    /// <param name="progress">Progress display; default: <see cref="TrainingProgress.ForConsole"/>.</param>
    public Trainer(IPretrainingTask<TBatch> task, ITrainingData<TBatch> train, ITrainingData<TBatch>? validation,
        DeriConfig config, string outputDirectory, IEpochEvaluator? evaluator = null, ITrainingProgress? progress = null)
    {
        _task = task;
        _train = train;
        _validation = validation;
        _config = config;
        _evaluator = evaluator;
        OutputDirectory = Path.GetFullPath(outputDirectory);
        _progress = progress ?? TrainingProgress.ForConsole(config.Trainer.LogEverySteps);
    }

    /// <summary>The output folder.</summary>
    public string OutputDirectory { get; }

    /// <summary>The checkpoint written every N steps and at each epoch end.</summary>
    public string LastCheckpointPath => Path.Combine(OutputDirectory, "last.ckpt");

    /// <summary>The checkpoint of the best epoch.</summary>
    public string BestCheckpointPath => Path.Combine(OutputDirectory, "best.ckpt");

    /// <summary>The metrics log.</summary>
    public string MetricsPath => Path.Combine(OutputDirectory, "metrics.jsonl");

    /// <summary>The loss curves.</summary>
    public string LossPlotPath => Path.Combine(OutputDirectory, "losses.png");

    /// <summary>The resolved config.</summary>
    public string ConfigPath => Path.Combine(OutputDirectory, "config.yaml");

    /// <summary>Messages (epoch summaries, best checkpoint selection).</summary>
    public string LogPath => Path.Combine(OutputDirectory, "train.log");

    /// <summary>
    /// Trains to <c>trainer.max_epochs</c>, starting fresh or from <paramref name="resumeFrom"/> (a
    /// checkpoint written by this trainer with the same batch size, seed and training data size).
    /// </summary>
    /// <exception cref="InvalidDataException">The checkpoint is unreadable or belongs to a different run setup.</exception>
    /// <exception cref="InvalidOperationException">Too few training records for one batch, no trainable parameters, or divergence.</exception>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellation"/> was cancelled; the trainer stops after the current step and saves <c>last.ckpt</c> first.
    /// </exception>
    public TrainingSummary Run(string? resumeFrom = null, CancellationToken cancellation = default)
    {
        var tc = _config.Trainer;
        var oc = _config.Optimizer;
        var module = _task.Module;
        var parameters = module.parameters().Where(p => p.requires_grad).ToList();
        if (parameters.Count == 0) throw new InvalidOperationException("the model has no trainable parameters");
        int batchesPerEpoch = EpochOrder.BatchCount(_train.Count, tc.BatchSize, dropLast: true);
        if (batchesPerEpoch == 0)
            throw new InvalidOperationException(
                $"the training data has {_train.Count} records, fewer than one batch (trainer.batch_size = {tc.BatchSize})");
        Directory.CreateDirectory(OutputDirectory);

        var p = oc.Params;
        using var optimizer = optim.AdamW(parameters, p.Lr, p.Betas[0], p.Betas[1], p.Eps, p.WeightDecay);
        var schedule = new CosineWarmRestarts(p.Lr, oc.Scheduler.T0, oc.Scheduler.TMult, oc.Scheduler.EtaMin);
        var run = new RunState();

        if (resumeFrom is not null)
        {
            var info = Checkpoint.Load(resumeFrom, module, optimizer, restoreRng: true);
            if (info.BatchSize != tc.BatchSize || info.Seed != tc.Seed || info.TrainCount != _train.Count)
                throw new InvalidDataException(
                    $"{resumeFrom}: saved with batch_size {info.BatchSize}, seed {info.Seed} and {info.TrainCount} training records; " +
                    $"this run has batch_size {tc.BatchSize}, seed {tc.Seed} and {_train.Count}: exact resumption needs all three unchanged");
            schedule.Restore((info.SchedulerStep, info.SchedulerTCur, info.SchedulerTI));
            run = new RunState
            {
                Epoch = info.Epoch, StepInEpoch = info.StepInEpoch, GlobalStep = info.GlobalStep,
                BestSelection = info.BestSelection, BestEpoch = info.BestEpoch, BestMetric = info.BestMetric,
                BestSelectedOn = info.BestSelectedOn, NonFiniteStreak = info.NonFiniteStreak, SkippedBatches = info.SkippedBatches,
            };
            MetricsLog.TruncateAfter(MetricsPath, info.GlobalStep);
        }
        else
        {
            torch.manual_seed(tc.Seed);
        }
        _config.Save(ConfigPath);

        long totalSteps = (long)tc.MaxEpochs * batchesPerEpoch;
        using var metrics = new MetricsLog(MetricsPath, append: resumeFrom is not null);
        using var log = new StreamWriter(LogPath, append: resumeFrom is not null) { AutoFlush = true };
        string title = resumeFrom is null ? "pretraining" : $"pretraining (resumed at step {run.GlobalStep})";

        _progress.Run(title, totalSteps, run.GlobalStep, sink =>
        {
            void Say(string message)
            {
                log.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {message}");
                sink.Message(message);
            }

            if (resumeFrom is not null) Say($"resumed from {resumeFrom} at epoch {run.Epoch + 1}, step {run.StepInEpoch} of {batchesPerEpoch}");
            var throughput = new Throughput();
            long stepsAtStart = run.GlobalStep;
            var clock = Stopwatch.StartNew();

            for (; run.Epoch < tc.MaxEpochs; run.Epoch++, run.StepInEpoch = 0)
            {
                int[] order = EpochOrder.Permutation(_train.Count, tc.Seed, run.Epoch);
                using (var loader = new BatchLoader<TBatch>(_train, order, tc.BatchSize, run.StepInEpoch, batchesPerEpoch, tc.NumWorkers))
                {
                    while (run.StepInEpoch < batchesPerEpoch)
                    {
                        if (cancellation.IsCancellationRequested)
                        {
                            // Stopped between two steps: the state is consistent, so keep it for --resume.
                            SaveCheckpoint(LastCheckpointPath, module, optimizer, schedule, run);
                            Say($"stopped at epoch {run.Epoch + 1}, step {run.StepInEpoch} of {batchesPerEpoch}; saved {LastCheckpointPath}");
                            cancellation.ThrowIfCancellationRequested();
                        }
                        var stepClock = Stopwatch.StartNew();
                        double lr = schedule.LearningRate;
                        SetLearningRate(optimizer, lr);
                        var (total, terms, badData) = TrainStep(loader, optimizer, parameters, run);
                        schedule.Step();
                        run.GlobalStep++;
                        run.StepInEpoch++;
                        if (badData is null) run.LastLoss = total;
                        else Say($"skipped batch {run.StepInEpoch} of epoch {run.Epoch + 1} (step {run.GlobalStep}): {badData}");

                        double rate = throughput.Add(tc.BatchSize, stepClock.Elapsed.TotalSeconds);
                        var fields = new List<KeyValuePair<string, object?>>
                        {
                            new("step_in_epoch", run.StepInEpoch), new("lr", lr), new("loss", total),
                        };
                        fields.AddRange(terms.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)));
                        fields.Add(new("samples_per_s", rate));
                        if (!double.IsFinite(total)) fields.Add(new("skipped", true));
                        if (badData is not null) fields.Add(new("error", badData));
                        metrics.Write("train", run.Epoch, run.GlobalStep, fields);

                        long doneHere = run.GlobalStep - stepsAtStart;
                        TimeSpan? eta = doneHere > 0
                            ? TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds / doneHere * (totalSteps - run.GlobalStep))
                            : null;
                        sink.Report(new ProgressUpdate(run.Epoch, tc.MaxEpochs, run.GlobalStep, totalSteps, total, rate, eta));

                        if (run.NonFiniteStreak >= MaxNonFiniteStreak)
                            throw new InvalidOperationException(
                                $"the loss was not finite for {run.NonFiniteStreak} consecutive steps (epoch {run.Epoch + 1}, step {run.StepInEpoch}): training diverged; lower optimizer.params.lr or set trainer.grad_clip_norm");

                        // The epoch's last step is checkpointed by the epoch end, after validation.
                        if (tc.CheckpointEverySteps > 0 && run.GlobalStep % tc.CheckpointEverySteps == 0 && run.StepInEpoch < batchesPerEpoch)
                            SaveCheckpoint(LastCheckpointPath, module, optimizer, schedule, run);
                    }
                }
                EndEpoch(module, optimizer, schedule, run, metrics, Say);
            }
        });

        return new TrainingSummary(run.GlobalStep, run.Epoch, run.LastLoss, run.BestEpoch, run.BestSelection, run.BestMetric,
            run.SkippedBatches, OutputDirectory);
    }

    private sealed class RunState
    {
        public int Epoch;
        public int StepInEpoch;
        public long GlobalStep;
        public double? BestSelection;
        public int? BestEpoch;
        public string? BestMetric;
        public string? BestSelectedOn;
        public int NonFiniteStreak;
        public int SkippedBatches;
        public double LastLoss = double.NaN;
    }

    /// <summary>
    /// One optimizer step; returns the weighted total and each term as doubles, or, when the batch
    /// could not be loaded because of bad data, NaN and the reason.
    /// </summary>
    private (double Total, List<KeyValuePair<string, double>> Terms, string? BadData) TrainStep(
        BatchLoader<TBatch> loader, OptimizerHelper optimizer, List<Parameter> parameters, RunState run)
    {
        using var scope = NewDisposeScope();
        TBatch loaded;
        try
        {
            loaded = loader.Next();
        }
        catch (InvalidDataException e)
        {
            // Corrupt input (the project's convention for bad records) costs one batch, never the run.
            run.SkippedBatches++;
            return (double.NaN, [], e.Message);
        }
        using var batch = loaded;
        _task.Module.train();
        var terms = _task.Step(batch, train: true);
        var total = terms.Weighted(_config.Trainer.LossWeights);
        double totalValue = total.to(ScalarType.Float64).item<double>();
        var values = terms.Terms.Select(t => new KeyValuePair<string, double>(t.Name, t.Value.to(ScalarType.Float64).item<double>())).ToList();
        optimizer.zero_grad();
        if (!double.IsFinite(totalValue))
        {
            // A non-finite loss would poison the AdamW moments: skip the update, count it, stop if it persists.
            run.NonFiniteStreak++;
            return (totalValue, values, null);
        }
        run.NonFiniteStreak = 0;
        total.backward();
        if (_config.Trainer.GradClipNorm > 0)
        {
            // The norm before clipping: how often and how hard clipping acts is worth seeing in the log.
            double norm = nn.utils.clip_grad_norm_(parameters, _config.Trainer.GradClipNorm);
            values.Add(new("grad_norm", norm));
        }
        optimizer.step();
        return (totalValue, values, null);
    }

    private void EndEpoch(nn.Module module, OptimizerHelper optimizer, CosineWarmRestarts schedule, RunState run,
        MetricsLog metrics, Action<string> say)
    {
        var inv = CultureInfo.InvariantCulture;
        var tc = _config.Trainer;
        double? selection = null;
        string? metric = null, selectedOn = null;

        if (_validation is not null && _validation.Count > 0)
        {
            var (valTotal, valTerms) = Validate();
            var fields = new List<KeyValuePair<string, object?>> { new("loss", valTotal), new("records", _validation.Count) };
            fields.AddRange(valTerms.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)));
            metrics.Write("val", run.Epoch, run.GlobalStep, fields);
            say(string.Create(inv, $"epoch {run.Epoch + 1}: validation loss {valTotal:F4} on {_validation.Count} records ({string.Join(", ", valTerms.Select(t => $"{t.Key} {t.Value:F4}"))})"));
            if (_evaluator is null && double.IsFinite(valTotal))
            {
                selection = -valTotal;
                metric = "negative_validation_loss";
                selectedOn = $"the validation losses of {_validation.Count} held-out pretraining records";
            }
        }

        if (_evaluator is not null)
        {
            module.eval();
            EpochEvaluation result;
            using (no_grad()) result = _evaluator.Evaluate(run.Epoch);
            module.train();
            metrics.Write("eval", run.Epoch, run.GlobalStep,
            [
                new("scores", result.Scores), new("selection_metric", result.SelectionMetric),
                new("selection", result.Selection), new("selected_on", result.SelectedOn),
            ]);
            say(string.Create(inv, $"epoch {run.Epoch + 1}: {result.SelectionMetric} {result.Selection:F4} on {result.SelectedOn} ({string.Join(", ", result.Scores.Select(s => $"{s.Key} {s.Value:F4}"))})"));
            if (double.IsFinite(result.Selection))
            {
                selection = result.Selection;
                metric = result.SelectionMetric;
                selectedOn = result.SelectedOn;
            }
        }

        bool improved = selection is { } s && (run.BestSelection is not { } best || s > best);
        if (improved)
        {
            run.BestSelection = selection;
            run.BestEpoch = run.Epoch;
            run.BestMetric = metric;
            run.BestSelectedOn = selectedOn;
        }

        // Position after this epoch: the next epoch, step 0.
        run.Epoch++;
        run.StepInEpoch = 0;
        SaveCheckpoint(LastCheckpointPath, module, optimizer, schedule, run);
        run.Epoch--;

        if (improved)
        {
            AtomicFile.Copy(LastCheckpointPath, BestCheckpointPath);
            metrics.Write("best", run.Epoch, run.GlobalStep,
                [new("metric", metric), new("value", selection), new("selected_on", selectedOn)]);
            say(string.Create(inv, $"best checkpoint: epoch {run.Epoch + 1}, {metric} {selection:F4}, selected on {selectedOn} -> {BestCheckpointPath}"));
        }
        if (tc.CheckpointInterval > 0 && (run.Epoch + 1) % tc.CheckpointInterval == 0)
            AtomicFile.Copy(LastCheckpointPath, Path.Combine(OutputDirectory, $"epoch_{run.Epoch + 1:D3}.ckpt"));
        LossCurvePlot.Write(MetricsPath, LossPlotPath);
    }

    /// <summary>Mean loss terms over the validation records (batch means weighted by batch size).</summary>
    private (double Total, List<KeyValuePair<string, double>> Terms) Validate()
    {
        var data = _validation!;
        var module = _task.Module;
        int batchSize = _config.Trainer.ValBatchSize;
        int batches = EpochOrder.BatchCount(data.Count, batchSize, dropLast: false);
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        var names = new List<string>();
        double totalSum = 0;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            using var loader = new BatchLoader<TBatch>(data, order, batchSize, 0, batches, _config.Trainer.NumWorkers);
            for (int k = 0; k < batches; k++)
            {
                int n = Math.Min(batchSize, data.Count - k * batchSize);
                using var scope = NewDisposeScope();
                using var batch = loader.Next();
                var terms = _task.Step(batch, train: false);
                totalSum += n * terms.Weighted(_config.Trainer.LossWeights).to(ScalarType.Float64).item<double>();
                foreach (var (name, value) in terms.Terms)
                {
                    if (!sums.ContainsKey(name)) names.Add(name);
                    sums[name] = sums.GetValueOrDefault(name) + n * value.to(ScalarType.Float64).item<double>();
                }
            }
        }
        finally
        {
            module.train();
        }
        return (totalSum / data.Count, names.Select(nm => new KeyValuePair<string, double>(nm, sums[nm] / data.Count)).ToList());
    }

    private void SaveCheckpoint(string path, nn.Module module, OptimizerHelper optimizer, CosineWarmRestarts schedule, RunState run)
    {
        var (step, tCur, tI) = schedule.State;
        var info = new CheckpointInfo
        {
            Epoch = run.Epoch, StepInEpoch = run.StepInEpoch, GlobalStep = run.GlobalStep,
            Seed = _config.Trainer.Seed, BatchSize = _config.Trainer.BatchSize, TrainCount = _train.Count,
            SchedulerStep = step, SchedulerTCur = tCur, SchedulerTI = tI,
            BestSelection = run.BestSelection, BestEpoch = run.BestEpoch, BestMetric = run.BestMetric,
            BestSelectedOn = run.BestSelectedOn, NonFiniteStreak = run.NonFiniteStreak, SkippedBatches = run.SkippedBatches,
            ConfigYaml = _config.ToYaml(), SavedUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        Checkpoint.Save(path, info, module, optimizer);
    }

    private static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    /// <summary>Samples per second over the last few steps (an exponential moving average of step times).</summary>
    private sealed class Throughput
    {
        private double _secondsPerStep = double.NaN;

        public double Add(int samples, double seconds)
        {
            _secondsPerStep = double.IsNaN(_secondsPerStep) ? seconds : 0.9 * _secondsPerStep + 0.1 * seconds;
            return _secondsPerStep > 0 ? samples / _secondsPerStep : 0;
        }
    }
}
