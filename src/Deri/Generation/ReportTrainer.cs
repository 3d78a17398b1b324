using Deri.Config;
using Deri.Generation.Tokenization;
using Deri.Pretraining;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Generation;

/// <summary>What <see cref="ReportTrainer.Run"/> produced.</summary>
/// <param name="Training">The trainer's summary.</param>
/// <param name="RunDirectory">The report run folder.</param>
/// <param name="BestCheckpoint">The checkpoint selected by validation loss (<c>train/best.ckpt</c>), or the last one without a validation split.</param>
public sealed record ReportTrainResult(TrainingSummary Training, string RunDirectory, string BestCheckpoint);

/// <summary>
/// Trains the report model with the shared <see cref="Trainer{TBatch}"/>: teacher-forced cross-entropy on the store's
/// train split; the lowest loss on its val split selects <c>train/best.ckpt</c> (cheap, and it tracks the likelihood
/// that beam search maximises; BLEU is measured afterwards by <c>deri report eval</c>).
/// </summary>
public static class ReportTrainer
{
    /// <summary>The last checkpoint of a run folder, for <c>--resume auto</c>.</summary>
    public static string LastCheckpoint(string runDirectory) => Path.Combine(runDirectory, ReportRun.TrainFolder, "last.ckpt");

    /// <summary>
    /// Runs training as configured into <paramref name="runDirectory"/>; <paramref name="resume"/> continues exactly from a
    /// checkpoint (the saved tokenizer is reused).
    /// </summary>
    /// <exception cref="ConfigException">Required keys are empty.</exception>
    /// <exception cref="InputFileNotFoundException">The store or the pretrained run is missing.</exception>
    public static ReportTrainResult Run(ReportConfig config, string runDirectory, Device device, string? resume = null,
        ITrainingProgress? progress = null, Action<string>? log = null, CancellationToken cancel = default)
    {
        log ??= static _ => { };  // the library writes nothing unless its caller passes a log
        if (config.PretrainedRun.Length == 0) throw new ConfigException("pretrained_run: the pretrained DERI/MERL run folder is required");
        if (config.DataPath.Length == 0) throw new ConfigException("data_path: the prepared store with the reports is required");
        if (!Data.Store.EcgStore.Exists(config.DataPath))
            throw new InputFileNotFoundException($"data_path: no prepared store at '{config.DataPath}' (make one with `deri data prepare`)");
        config = config with
        {
            PretrainedRun = Path.GetFullPath(config.PretrainedRun),
            DataPath = Path.GetFullPath(config.DataPath),
            Decoder = config.Decoder.Length > 0 ? Path.GetFullPath(config.Decoder) : "",
        };
        string dir = Path.GetFullPath(runDirectory);
        System.IO.Directory.CreateDirectory(dir);

        using var store = Data.Store.EcgStore.Open(config.DataPath);
        using var pretrained = PretrainedRun.Load(config.PretrainedRun, config.Checkpoint, device);
        pretrained.CheckStore(store);
        var trainRows = store.IndicesOf("train");
        var valRows = store.IndicesOf("val");

        var tokenizer = PrepareTokenizer(config, store, trainRows, Path.Combine(dir, ReportRun.TokenizerFolder), log);
        config.Save(Path.Combine(dir, ReportRun.ConfigFile));

        // The generator's initial weights come from the torch generator: seed it so runs are reproducible.
        torch.random.manual_seed(config.Trainer.Seed);
        var model = BuildModel(config, pretrained, tokenizer, device, resume is null, log);
        var train = PairData(config, model, store, trainRows, tokenizer, device);
        var val = valRows.Length > 0 ? PairData(config, model, store, valRows, tokenizer, device) : null;
        log($"report data: {config.DataPath}: {train.Count} train, {val?.Count ?? 0} val pairs{(config.FreezeEcg ? " (frozen ECG side: features computed once)" : "")}");
        try
        {
            var trainer = new Trainer<ReportBatch>(new ReportTrainingTask(model, device, cachedFeatures: config.FreezeEcg), train, val,
                new TrainerSettings(config.Trainer, config.Optimizer, config.ToYaml()),
                Path.Combine(dir, ReportRun.TrainFolder), evaluator: null, progress);
            var summary = trainer.Run(resume, cancel);
            string best = File.Exists(trainer.BestCheckpointPath) ? trainer.BestCheckpointPath : trainer.LastCheckpointPath;
            return new ReportTrainResult(summary, dir, best);
        }
        finally
        {
            model.Generator.Dispose();
            (train as IDisposable)?.Dispose();
            (val as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// The run's tokenizer in <paramref name="tokDir"/>: the decoder's own (copied there), the word-level vocabulary a
    /// resumed run saved, or a new word-level vocabulary of the training reports.
    /// </summary>
    private static IReportTokenizer PrepareTokenizer(ReportConfig config, Data.Store.EcgStore store, int[] trainRows, string tokDir, Action<string> log)
    {
        if (config.Decoder.Length > 0)
        {
            var own = ReportTokenizers.Load(config.Decoder);
            own.Save(tokDir);
            return own;
        }
        if (File.Exists(Path.Combine(tokDir, WordLevelTokenizer.FileName)))
        {
            var saved = WordLevelTokenizer.Load(tokDir);
            log($"tokenizer: reusing {tokDir} ({saved.VocabSize} tokens)");
            return saved;
        }
        var built = WordLevelTokenizer.Build(trainRows.Select(r => store.Entries[r].Report), config.Vocabulary.MinCount, config.Vocabulary.MaxSize);
        built.Save(tokDir);
        log($"tokenizer: word-level vocabulary of {built.VocabSize} tokens from {trainRows.Length} training reports → {tokDir}");
        return built;
    }

    // A frozen ECG side gives every record the same features in every epoch: compute them once.
    private static ITrainingData<ReportBatch> PairData(ReportConfig config, ReportModel model, Data.Store.EcgStore store, int[] rows,
        IReportTokenizer tokenizer, Device device) =>
        config.FreezeEcg
            ? new CachedReportPairData(model, store, rows, tokenizer, config.MaxLength, device)
            : new ReportPairData(store, rows, tokenizer, config.MaxLength);

    private static ReportModel BuildModel(ReportConfig config, PretrainedRun pretrained, IReportTokenizer tokenizer, Device device, bool fresh,
        Action<string> log) => ReportRun.BuildModel(config, pretrained, tokenizer, device, loadDecoderWeights: fresh, log);
}
