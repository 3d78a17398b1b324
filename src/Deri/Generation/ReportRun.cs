using Deri.Config;
using Deri.Generation.Decoder;
using Deri.Generation.Tokenization;
using Deri.Models;
using Deri.Pretraining;
using Deri.Training;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Generation;

/// <summary>
/// A report-generation run folder: <c>config.yaml</c> (<see cref="ReportConfig"/>, paths made absolute),
/// <c>tokenizer/</c> (the decoder's tokenizer files) and <c>train/</c> (the shared trainer's output:
/// <c>last.ckpt</c>, <c>best.ckpt</c>, <c>metrics.jsonl</c>, <c>losses.png</c>, <c>train.log</c> and the
/// trainer's own <c>config.yaml</c> holding its trainer/optimizer sections). Opened, it holds the report model
/// with one checkpoint's weights in eval mode; dispose it to release the model.
/// </summary>
public sealed class ReportRun : IDisposable
{
    /// <summary>The run's configuration file.</summary>
    public const string ConfigFile = "config.yaml";

    /// <summary>Folder of the tokenizer files.</summary>
    public const string TokenizerFolder = "tokenizer";

    /// <summary>Folder of the trainer's output (checkpoints, metrics).</summary>
    public const string TrainFolder = "train";

    private ReportRun(string directory, string checkpoint, ReportConfig config, IReportTokenizer tokenizer, PretrainedRun pretrained,
        ReportModel model, Device device)
    {
        Directory = directory;
        CheckpointPath = checkpoint;
        Config = config;
        Tokenizer = tokenizer;
        Pretrained = pretrained;
        Model = model;
        Device = device;
    }

    /// <summary>The run folder.</summary>
    public string Directory { get; }

    /// <summary>The checkpoint whose weights were loaded.</summary>
    public string CheckpointPath { get; }

    /// <summary>The run's configuration.</summary>
    public ReportConfig Config { get; }

    /// <summary>The decoder's tokenizer.</summary>
    public IReportTokenizer Tokenizer { get; }

    /// <summary>The pretrained run whose model the report model wraps (its ECG side carries the report checkpoint's weights).</summary>
    public PretrainedRun Pretrained { get; }

    /// <summary>The report model, in eval mode.</summary>
    public ReportModel Model { get; }

    /// <summary>Device of the model.</summary>
    public Device Device { get; }

    /// <summary>
    /// Opens a run made by <see cref="ReportTrainer.Run"/>: <paramref name="checkpoint"/> is <c>best</c> (<c>train/best.ckpt</c>),
    /// <c>last</c> or a checkpoint path.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder or its config is missing.</exception>
    /// <exception cref="FileNotFoundException">The checkpoint is missing.</exception>
    /// <exception cref="InvalidDataException">The tokenizer or checkpoint does not fit the configured model.</exception>
    public static ReportRun Open(string runDirectory, string checkpoint, Device device, Action<string>? log = null)
    {
        string dir = Path.GetFullPath(runDirectory);
        if (!System.IO.Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: report run folder not found");
        string configPath = Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath)) throw new DirectoryNotFoundException($"{dir}: not a report run folder (no {ConfigFile})");
        var config = ReportConfig.LoadRecorded(configPath);
        string trainDir = Path.Combine(dir, TrainFolder);
        // A run without a validation split has no best.ckpt: its last checkpoint is the one to use.
        if (checkpoint == "best" && !File.Exists(Path.Combine(trainDir, "best.ckpt")) && File.Exists(Path.Combine(trainDir, "last.ckpt")))
            checkpoint = "last";
        string ckpt = PretrainedRun.ResolveCheckpoint(trainDir, checkpoint);
        var tokenizer = ReportTokenizers.Load(Path.Combine(dir, TokenizerFolder));
        var pretrained = PretrainedRun.Load(config.PretrainedRun, config.Checkpoint, device);
        ReportModel? model = null;
        try
        {
            model = BuildModel(config, pretrained, tokenizer, device, loadDecoderWeights: false, log);
            Checkpoint.Load(ckpt, model, optimizer: null, restoreRng: false);
            model.eval();
            return new ReportRun(dir, ckpt, config, tokenizer, pretrained, model, device);
        }
        catch
        {
            model?.Generator.Dispose();
            pretrained.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Builds the report model over <paramref name="pretrained"/>'s model: a GPT-2 from the configured Hugging Face folder
    /// (its weights loaded when <paramref name="loadDecoderWeights"/>, then the token table resized to the tokenizer's size
    /// by <see cref="Gpt2Model.ResizeTokenEmbeddings"/>; cross-attention is new) or the small GPT-2 of <c>small_decoder</c>.
    /// </summary>
    public static ReportModel BuildModel(ReportConfig config, PretrainedRun pretrained, IReportTokenizer tokenizer, Device device,
        bool loadDecoderWeights, Action<string>? log = null)
    {
        var deri = pretrained.Module.Model;
        var feature = ReportModel.ResolveFeature(config.Feature, deri.Method);
        Gpt2Config gpt;
        int vocab = tokenizer.VocabSize;
        Dictionary<string, Tensor>? weights = null;
        if (config.Decoder.Length > 0)
        {
            string cfg = Path.Combine(config.Decoder, "config.json");
            if (!File.Exists(cfg)) throw new FileNotFoundException($"decoder: {cfg} not found (decoder must be a Hugging Face GPT-2 folder)", cfg);
            var hf = Gpt2Config.Load(cfg);
            vocab = Math.Max(hf.VocabSize, tokenizer.VocabSize);
            gpt = hf with { AddCrossAttention = true };
            if (config.MaxLength > gpt.NPositions)
                throw new InvalidDataException($"max_length {config.MaxLength} exceeds the decoder's n_positions {gpt.NPositions} ({cfg})");
            if (loadDecoderWeights)
            {
                string file = Path.Combine(config.Decoder, "model.safetensors");
                if (!File.Exists(file)) throw new FileNotFoundException($"decoder: {file} not found", file);
                weights = SafeTensors.Load(file);
            }
            else
            {
                // Resuming or reopening: the checkpoint already holds the resized table.
                gpt = gpt with { VocabSize = vocab };
            }
        }
        else
        {
            var s = config.SmallDecoder;
            gpt = new Gpt2Config(NEmbd: s.NEmbd, NLayer: s.NLayer, NHead: s.NHead, NPositions: config.MaxLength, VocabSize: vocab,
                AddCrossAttention: true, EmbdPdrop: s.Dropout, AttnPdrop: s.Dropout, ResidPdrop: s.Dropout);
        }
        var model = new ReportModel(deri, feature, gpt, config.FreezeEcg);
        if (weights is not null)
        {
            var report = model.Generator.Decoder.LoadHuggingFace(weights, strict: false, source: config.Decoder);
            log?.Invoke($"decoder: {config.Decoder}: {report.Loaded.Count} tensors loaded, {report.Missing.Count} not in the checkpoint (freshly initialised, e.g. cross-attention)");
            foreach (var t in weights.Values) t.Dispose();
            model.Generator.Decoder.ResizeTokenEmbeddings(vocab);
        }
        model.to(device);
        var final = model.Generator.Decoder.Config;
        log?.Invoke($"report model: {deri.Method} {feature} feature ({deri.Width}-d) → GPT-2 {final.NLayer} layers, {final.NEmbd}-d, vocabulary {final.VocabSize}; " +
                    (config.FreezeEcg ? "ECG side frozen" : "whole model trained"));
        return model;
    }

    /// <summary>Generates one report per ECG <c>(B, leads, L)</c> with <paramref name="options"/>.</summary>
    public IReadOnlyList<string> Generate(Tensor ecg, DecodingOptions options)
    {
        Model.eval();
        using var scope = NewDisposeScope();
        var decoded = Model.Generate(ecg.to(Device), Tokenizer.BosId, Tokenizer.EosId, options);
        return decoded.Select(d => Tokenizer.Decode(d.Tokens)).ToArray();
    }

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        Model.Generator.Dispose();
        Pretrained.Dispose();
    }
}

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
    /// <exception cref="DirectoryNotFoundException">The store or the pretrained run is missing.</exception>
    public static ReportTrainResult Run(ReportConfig config, string runDirectory, Device device, string? resume = null,
        ITrainingProgress? progress = null, Action<string>? log = null, CancellationToken cancel = default)
    {
        log ??= Console.WriteLine;
        if (config.PretrainedRun.Length == 0) throw new ConfigException("pretrained_run: the pretrained DERI/MERL run folder is required");
        if (config.DataPath.Length == 0) throw new ConfigException("data_path: the prepared store with the reports is required");
        if (!Data.Store.EcgStore.Exists(config.DataPath))
            throw new DirectoryNotFoundException($"data_path: no prepared store at '{config.DataPath}' (make one with `deri data prepare`)");
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

        string tokDir = Path.Combine(dir, ReportRun.TokenizerFolder);
        IReportTokenizer tokenizer;
        if (config.Decoder.Length > 0)
        {
            tokenizer = ReportTokenizers.Load(config.Decoder);
            tokenizer.Save(tokDir);
        }
        else if (File.Exists(Path.Combine(tokDir, WordLevelTokenizer.FileName)))
        {
            tokenizer = WordLevelTokenizer.Load(tokDir);
            log($"tokenizer: reusing {tokDir} ({tokenizer.VocabSize} tokens)");
        }
        else
        {
            tokenizer = WordLevelTokenizer.Build(trainRows.Select(r => store.Entries[r].Report), config.Vocabulary.MinCount, config.Vocabulary.MaxSize);
            tokenizer.Save(tokDir);
            log($"tokenizer: word-level vocabulary of {tokenizer.VocabSize} tokens from {trainRows.Length} training reports → {tokDir}");
        }
        config.Save(Path.Combine(dir, ReportRun.ConfigFile));

        var train = new ReportPairData(store, trainRows, tokenizer, config.MaxLength);
        var val = valRows.Length > 0 ? new ReportPairData(store, valRows, tokenizer, config.MaxLength) : null;
        log($"report data: {config.DataPath}: {train.Count} train, {val?.Count ?? 0} val pairs");

        // The generator's initial weights come from the torch generator: seed it so runs are reproducible.
        torch.random.manual_seed(config.Trainer.Seed);
        var model = BuildModel(config, pretrained, tokenizer, device, resume is null, log);
        try
        {
            var trainer = new Trainer<ReportBatch>(new ReportTrainingTask(model, device), train, val, config.TrainerView(),
                Path.Combine(dir, ReportRun.TrainFolder), evaluator: null, progress);
            var summary = trainer.Run(resume, cancel);
            string best = File.Exists(trainer.BestCheckpointPath) ? trainer.BestCheckpointPath : trainer.LastCheckpointPath;
            return new ReportTrainResult(summary, dir, best);
        }
        finally
        {
            model.Generator.Dispose();
        }
    }

    private static ReportModel BuildModel(ReportConfig config, PretrainedRun pretrained, IReportTokenizer tokenizer, Device device, bool fresh,
        Action<string> log) => ReportRun.BuildModel(config, pretrained, tokenizer, device, loadDecoderWeights: fresh, log);
}
