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
/// <param name="SkippedBatches">Training batches skipped because loading them raised <see cref="InputFormatException"/>.</param>
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
/// Files in the output folder: <c>config.yaml</c> (<see cref="TrainerSettings.ConfigYaml"/>), <c>metrics.jsonl</c>
/// (<see cref="MetricsLog"/>), <c>losses.png</c>, <c>train.log</c> (messages), <c>last.ckpt</c>
/// (every <c>trainer.checkpoint_every_steps</c> steps and at each epoch end), <c>best.ckpt</c>, and
/// <c>epoch_NNN.ckpt</c> every <c>trainer.checkpoint_interval</c> epochs when that is set (default 0: none, so a
/// run keeps two checkpoints however long it trains). Every file is written atomically and every checkpoint
/// carries a checksum (<see cref="Checkpoint"/>). <see cref="Run"/> with a checkpoint continues exactly where it
/// was saved: on CPU the losses after the checkpoint are bitwise those of an uninterrupted run, because the
/// model, AdamW moments, scheduler, torch generator (dropout, random masks) and data position are all restored.
/// A training batch whose loading throws <see cref="InputFormatException"/> (bad records) is skipped,
/// counted and listed in the log and metrics; any other loading error stops the run.
/// </remarks>
public sealed class Trainer<TBatch> where TBatch : IDisposable
{
    /// <summary>Consecutive non-finite losses after which training stops as diverged.</summary>
    public const int MaxNonFiniteStreak = 20;

    private readonly IPretrainingTask<TBatch> _task;
    private readonly ITrainingData<TBatch> _train;
    private readonly ITrainingData<TBatch>? _validation;
    private readonly TrainerSettings _settings;
    private readonly IEpochEvaluator? _evaluator;
    private readonly ITrainingProgress _progress;

    /// <summary>Creates a trainer writing into <paramref name="outputDirectory"/>.</summary>
    /// <param name="task">Model and objective.</param>
    /// <param name="train">Training records.</param>
    /// <param name="validation">Validation records (losses only), or null.</param>
    /// <param name="settings">The trainer and optimizer sections that drive the loop, and the run's config to record.</param>
    /// <param name="outputDirectory">Folder for checkpoints, metrics and plots.</param>
    /// <param name="evaluator">Per-epoch evaluation selecting the best checkpoint; without it the lowest validation loss selects.</param>
    /// <param name="progress">Progress display; default: none (<see cref="SilentProgress"/>; the library writes nothing by itself).</param>
    public Trainer(IPretrainingTask<TBatch> task, ITrainingData<TBatch> train, ITrainingData<TBatch>? validation,
        TrainerSettings settings, string outputDirectory, IEpochEvaluator? evaluator = null, ITrainingProgress? progress = null)
    {
        _task = task;
        _train = train;
        _validation = validation;
        _settings = settings;
        _evaluator = evaluator;
        OutputDirectory = Path.GetFullPath(outputDirectory);
        _progress = progress ?? SilentProgress.Instance;
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

    private TrainerConfig Tc => _settings.Trainer;

    /// <summary>
    /// Trains to <c>trainer.max_epochs</c>, starting fresh or from <paramref name="resumeFrom"/> (a
    /// checkpoint written by this trainer with the same batch size, seed and training data size).
    /// </summary>
    /// <exception cref="InputFormatException">The checkpoint is unreadable or belongs to a different run setup.</exception>
    /// <exception cref="InvalidOperationException">Too few training records for one batch, no trainable parameters, or divergence.</exception>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellation"/> was cancelled; the trainer stops after the current step and saves <c>last.ckpt</c> first.
    /// </exception>
    public TrainingSummary Run(string? resumeFrom = null, CancellationToken cancellation = default)
    {
        var parameters = _task.Module.parameters().Where(p => p.requires_grad).ToList();
        if (parameters.Count == 0) throw new InvalidOperationException("the model has no trainable parameters");
        int batchesPerEpoch = EpochOrder.BatchCount(_train.Count, Tc.BatchSize, dropLast: true);
        if (batchesPerEpoch == 0)
            throw new InputValueException(
                $"the training data has {_train.Count} records, fewer than one batch (trainer.batch_size = {Tc.BatchSize})");
        Directory.CreateDirectory(OutputDirectory);

        var p = _settings.Optimizer.Params;
        var sc = _settings.Optimizer.Scheduler;
        using var optimizer = new AdamW(parameters, p.Lr, p.Betas[0], p.Betas[1], p.Eps, p.WeightDecay);
        var schedule = new CosineWarmRestarts(p.Lr, sc.T0, sc.TMult, sc.EtaMin);
        var run = resumeFrom is null ? StartFresh() : Resume(resumeFrom, optimizer, schedule);
        AtomicFile.WriteAllText(ConfigPath, _settings.ConfigYaml);

        using var metrics = new MetricsLog(MetricsPath, append: resumeFrom is not null);
        using var log = new StreamWriter(LogPath, append: resumeFrom is not null) { AutoFlush = true };
        long totalSteps = (long)Tc.MaxEpochs * batchesPerEpoch;
        string title = resumeFrom is null ? "pretraining" : $"pretraining (resumed at step {run.GlobalStep})";
        _progress.Run(title, totalSteps, run.GlobalStep, sink =>
        {
            var session = new Session(optimizer, parameters, schedule, run, metrics, log, sink, batchesPerEpoch, totalSteps, cancellation);
            if (resumeFrom is not null)
                session.Say($"resumed from {resumeFrom} at epoch {run.Epoch + 1}, step {run.StepInEpoch} of {batchesPerEpoch}");
            for (; run.Epoch < Tc.MaxEpochs; run.Epoch++, run.StepInEpoch = 0)
            {
                TrainEpoch(session);
                EndEpoch(session);
            }
        });

        return new TrainingSummary(run.GlobalStep, run.Epoch, run.LastLoss, run.BestEpoch, run.BestSelection, run.BestMetric,
            run.SkippedBatches, OutputDirectory);
    }

    /// <summary>A fresh run: the torch generator seeded with <c>trainer.seed</c>, everything at step 0.</summary>
    private RunState StartFresh()
    {
        torch.manual_seed(Tc.Seed);
        return new RunState();
    }

    /// <summary>Restores model, optimizer, scheduler and generator from <paramref name="path"/>; cuts the metrics log back to it.</summary>
    private RunState Resume(string path, OptimizerHelper optimizer, CosineWarmRestarts schedule)
    {
        var info = Checkpoint.Load(path, _task.Module, optimizer, restoreRng: true);
        if (info.BatchSize != Tc.BatchSize || info.Seed != Tc.Seed || info.TrainCount != _train.Count)
            throw new InputFormatException(
                $"{path}: saved with batch_size {info.BatchSize}, seed {info.Seed} and {info.TrainCount} training records; " +
                $"this run has batch_size {Tc.BatchSize}, seed {Tc.Seed} and {_train.Count}: exact resumption needs all three unchanged");
        schedule.Restore((info.SchedulerStep, info.SchedulerTCur, info.SchedulerTI));
        MetricsLog.TruncateAfter(MetricsPath, info.GlobalStep);
        return new RunState
        {
            Epoch = info.Epoch, StepInEpoch = info.StepInEpoch, GlobalStep = info.GlobalStep,
            BestSelection = info.BestSelection, BestEpoch = info.BestEpoch, BestMetric = info.BestMetric,
            BestSelectedOn = info.BestSelectedOn, NonFiniteStreak = info.NonFiniteStreak, SkippedBatches = info.SkippedBatches,
        };
    }

    /// <summary>The remaining steps of the current epoch, from <c>run.StepInEpoch</c> on.</summary>
    private void TrainEpoch(Session s)
    {
        var run = s.Run;
        int[] order = EpochOrder.Permutation(_train.Count, Tc.Seed, run.Epoch);
        using var loader = new BatchLoader<TBatch>(_train, order, Tc.BatchSize, run.StepInEpoch, s.BatchesPerEpoch, Tc.NumWorkers);
        while (run.StepInEpoch < s.BatchesPerEpoch)
        {
            StopIfCancelled(s);
            var stepClock = Stopwatch.StartNew();
            double lr = s.Schedule.LearningRate;
            SetLearningRate(s.Optimizer, lr);
            var (total, terms, badData) = TrainStep(loader, s.Optimizer, s.Parameters, run);
            s.Schedule.Step();
            run.GlobalStep++;
            run.StepInEpoch++;
            if (badData is null) run.LastLoss = total;
            else s.Say($"skipped batch {run.StepInEpoch} of epoch {run.Epoch + 1} (step {run.GlobalStep}): {badData}");

            double rate = s.Throughput.Add(Tc.BatchSize, stepClock.Elapsed.TotalSeconds);
            LogStep(s, lr, total, terms, rate, badData);
            ReportProgress(s, total, rate);
            if (run.NonFiniteStreak >= MaxNonFiniteStreak)
                throw new InputValueException(
                    $"the loss was not finite for {run.NonFiniteStreak} consecutive steps (epoch {run.Epoch + 1}, step {run.StepInEpoch}): training diverged; lower optimizer.params.lr or set trainer.grad_clip_norm");

            // The epoch's last step is checkpointed by the epoch end, after validation.
            if (Tc.CheckpointEverySteps > 0 && run.GlobalStep % Tc.CheckpointEverySteps == 0 && run.StepInEpoch < s.BatchesPerEpoch)
                SaveCheckpoint(LastCheckpointPath, s.Optimizer, s.Schedule, run);
        }
    }

    /// <summary>Stopped between two steps, the state is consistent: keep it for <c>--resume</c>, then throw.</summary>
    private void StopIfCancelled(Session s)
    {
        if (!s.Cancellation.IsCancellationRequested) return;
        SaveCheckpoint(LastCheckpointPath, s.Optimizer, s.Schedule, s.Run);
        s.Say($"stopped at epoch {s.Run.Epoch + 1}, step {s.Run.StepInEpoch} of {s.BatchesPerEpoch}; saved {LastCheckpointPath}");
        s.Cancellation.ThrowIfCancellationRequested();
    }

    /// <summary>One <c>train</c> line of the metrics log: learning rate, total, each term, throughput, and what went wrong.</summary>
    private static void LogStep(Session s, double lr, double total, List<KeyValuePair<string, double>> terms, double rate, string? badData)
    {
        var fields = new List<KeyValuePair<string, object?>>
        {
            new("step_in_epoch", s.Run.StepInEpoch), new("lr", lr), new("loss", total),
        };
        fields.AddRange(terms.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)));
        fields.Add(new("samples_per_s", rate));
        if (!double.IsFinite(total)) fields.Add(new("skipped", true));
        if (badData is not null) fields.Add(new("error", badData));
        s.Metrics.Write("train", s.Run.Epoch, s.Run.GlobalStep, fields);
    }

    /// <summary>Tells the progress display where training stands, with the time left estimated from this call's steps.</summary>
    private void ReportProgress(Session s, double total, double rate)
    {
        long doneHere = s.Run.GlobalStep - s.StepsAtStart;
        TimeSpan? eta = doneHere > 0
            ? TimeSpan.FromSeconds(s.Clock.Elapsed.TotalSeconds / doneHere * (s.TotalSteps - s.Run.GlobalStep))
            : null;
        s.Sink.Report(new ProgressUpdate(s.Run.Epoch, Tc.MaxEpochs, s.Run.GlobalStep, s.TotalSteps, total, rate, eta));
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
        catch (InputFormatException e)
        {
            // Corrupt input (the project's convention for bad records) costs one batch, never the run.
            run.SkippedBatches++;
            return (double.NaN, [], e.Message);
        }
        using var batch = loaded;
        _task.Module.train();
        var terms = _task.Step(batch, train: true);
        var total = terms.Weighted(Tc.LossWeights);
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
        if (Tc.GradClipNorm > 0)
        {
            // The norm before clipping: how often and how hard clipping acts is worth seeing in the log.
            double norm = nn.utils.clip_grad_norm_(parameters, Tc.GradClipNorm);
            values.Add(new("grad_norm", norm));
        }
        optimizer.step();
        return (totalValue, values, null);
    }

    /// <summary>
    /// The end of an epoch: validation losses, the evaluation, selection of the best epoch, <c>last.ckpt</c>
    /// (positioned at the next epoch), <c>best.ckpt</c> when this epoch is the best so far, the numbered copy
    /// every <c>trainer.checkpoint_interval</c> epochs, and a fresh loss plot.
    /// </summary>
    private void EndEpoch(Session s)
    {
        var run = s.Run;
        var selection = ValidateEpoch(s);
        if (EvaluateEpoch(s) is { } evaluated) selection = evaluated;

        bool improved = selection is { } sel && (run.BestSelection is not { } best || sel.Value > best);
        if (improved)
        {
            run.BestSelection = selection!.Value.Value;
            run.BestEpoch = run.Epoch;
            run.BestMetric = selection.Value.Metric;
            run.BestSelectedOn = selection.Value.SelectedOn;
        }

        // Position after this epoch: the next epoch, step 0.
        run.Epoch++;
        run.StepInEpoch = 0;
        SaveCheckpoint(LastCheckpointPath, s.Optimizer, s.Schedule, run);
        run.Epoch--;

        if (improved)
        {
            AtomicFile.Copy(LastCheckpointPath, BestCheckpointPath);
            s.Metrics.Write("best", run.Epoch, run.GlobalStep,
                [new("metric", run.BestMetric), new("value", run.BestSelection), new("selected_on", run.BestSelectedOn)]);
            s.Say(string.Create(CultureInfo.InvariantCulture,
                $"best checkpoint: epoch {run.Epoch + 1}, {run.BestMetric} {run.BestSelection:F4}, selected on {run.BestSelectedOn} -> {BestCheckpointPath}"));
        }
        if (Tc.CheckpointInterval > 0 && (run.Epoch + 1) % Tc.CheckpointInterval == 0)
            AtomicFile.Copy(LastCheckpointPath, Path.Combine(OutputDirectory, $"epoch_{run.Epoch + 1:D3}.ckpt"));
        LossCurvePlot.Write(MetricsPath, LossPlotPath);
    }

    /// <summary>A value that ranks epochs (higher is better), what it is called, and what it was computed on.</summary>
    private readonly record struct Selection(double Value, string Metric, string SelectedOn);

    /// <summary>
    /// Validation losses, logged; without an evaluator their negative total selects the best epoch.
    /// Null without validation data or when the loss is not finite.
    /// </summary>
    private Selection? ValidateEpoch(Session s)
    {
        if (_validation is null || _validation.Count == 0) return null;
        var (valTotal, valTerms) = Validate();
        var fields = new List<KeyValuePair<string, object?>> { new("loss", valTotal), new("records", _validation.Count) };
        fields.AddRange(valTerms.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)));
        s.Metrics.Write("val", s.Run.Epoch, s.Run.GlobalStep, fields);
        s.Say(string.Create(CultureInfo.InvariantCulture,
            $"epoch {s.Run.Epoch + 1}: validation loss {valTotal:F4} on {_validation.Count} records ({string.Join(", ", valTerms.Select(t => $"{t.Key} {t.Value:F4}"))})"));
        if (_evaluator is not null || !double.IsFinite(valTotal)) return null;
        return new Selection(-valTotal, "negative_validation_loss", $"the validation losses of {_validation.Count} held-out pretraining records");
    }

    /// <summary>The per-epoch evaluation in eval mode without gradients, logged; its selection value if finite.</summary>
    private Selection? EvaluateEpoch(Session s)
    {
        if (_evaluator is null) return null;
        var module = _task.Module;
        module.eval();
        EpochEvaluation result;
        using (no_grad()) result = _evaluator.Evaluate(s.Run.Epoch);
        module.train();
        s.Metrics.Write("eval", s.Run.Epoch, s.Run.GlobalStep,
        [
            new("scores", result.Scores), new("selection_metric", result.SelectionMetric),
            new("selection", result.Selection), new("selected_on", result.SelectedOn),
        ]);
        s.Say(string.Create(CultureInfo.InvariantCulture,
            $"epoch {s.Run.Epoch + 1}: {result.SelectionMetric} {result.Selection:F4} on {result.SelectedOn} ({string.Join(", ", result.Scores.Select(x => $"{x.Key} {x.Value:F4}"))})"));
        return double.IsFinite(result.Selection) ? new Selection(result.Selection, result.SelectionMetric, result.SelectedOn) : null;
    }

    /// <summary>Mean loss terms over the validation records (batch means weighted by batch size).</summary>
    private (double Total, List<KeyValuePair<string, double>> Terms) Validate()
    {
        var data = _validation!;
        var module = _task.Module;
        int batchSize = Tc.ValBatchSize;
        int batches = EpochOrder.BatchCount(data.Count, batchSize, dropLast: false);
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        var names = new List<string>();
        double totalSum = 0;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            using var loader = new BatchLoader<TBatch>(data, order, batchSize, 0, batches, Tc.NumWorkers);
            for (int k = 0; k < batches; k++)
            {
                int n = Math.Min(batchSize, data.Count - k * batchSize);
                using var scope = NewDisposeScope();
                using var batch = loader.Next();
                var terms = _task.Step(batch, train: false);
                totalSum += n * terms.Weighted(Tc.LossWeights).to(ScalarType.Float64).item<double>();
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

    private void SaveCheckpoint(string path, OptimizerHelper optimizer, CosineWarmRestarts schedule, RunState run)
    {
        var (step, tCur, tI) = schedule.State;
        var info = new CheckpointInfo
        {
            Epoch = run.Epoch, StepInEpoch = run.StepInEpoch, GlobalStep = run.GlobalStep,
            Seed = Tc.Seed, BatchSize = Tc.BatchSize, TrainCount = _train.Count,
            SchedulerStep = step, SchedulerTCur = tCur, SchedulerTI = tI,
            BestSelection = run.BestSelection, BestEpoch = run.BestEpoch, BestMetric = run.BestMetric,
            BestSelectedOn = run.BestSelectedOn, NonFiniteStreak = run.NonFiniteStreak, SkippedBatches = run.SkippedBatches,
            ConfigYaml = _settings.ConfigYaml, SavedUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        Checkpoint.Save(path, info, _task.Module, optimizer);
    }

    private static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }

    /// <summary>What the steps of one <see cref="Run"/> share: optimizer, schedule, position, logs and the progress sink.</summary>
    private sealed class Session(OptimizerHelper optimizer, List<Parameter> parameters, CosineWarmRestarts schedule, RunState run,
        MetricsLog metrics, StreamWriter log, IProgressSink sink, int batchesPerEpoch, long totalSteps, CancellationToken cancellation)
    {
        public OptimizerHelper Optimizer { get; } = optimizer;
        public List<Parameter> Parameters { get; } = parameters;
        public CosineWarmRestarts Schedule { get; } = schedule;
        public RunState Run { get; } = run;
        public MetricsLog Metrics { get; } = metrics;
        public IProgressSink Sink { get; } = sink;
        public int BatchesPerEpoch { get; } = batchesPerEpoch;
        public long TotalSteps { get; } = totalSteps;
        public CancellationToken Cancellation { get; } = cancellation;
        public Throughput Throughput { get; } = new();
        public long StepsAtStart { get; } = run.GlobalStep;
        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        /// <summary>A message to <c>train.log</c> (timestamped) and to the progress display.</summary>
        public void Say(string message)
        {
            log.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {message}");
            Sink.Message(message);
        }
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
