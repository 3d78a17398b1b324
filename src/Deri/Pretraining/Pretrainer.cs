using Deri.Baselines;
using Deri.Config;
using Deri.Data.Store;
using Deri.Evaluation;
using Deri.Losses;
using Deri.Models;
using Deri.Text;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Pretraining;

/// <summary>What <see cref="Pretrainer.Run"/> produced.</summary>
/// <param name="Training">The trainer's summary.</param>
/// <param name="Checkpoint">The checkpoint used for the test sets (<c>best.ckpt</c>).</param>
/// <param name="TestResults">Zero-shot results of <c>zeroshot.test_sets</c> with that checkpoint.</param>
public sealed record PretrainResult(TrainingSummary Training, string Checkpoint, IReadOnlyList<(string Task, ZeroShotResult Result)> TestResults);

/// <summary>
/// Pretraining from a <see cref="DeriConfig"/>. DERI and MERL: opens the prepared store, builds the text encoder and
/// the model, trains with zero-shot checkpoint selection, then evaluates the best checkpoint on the test sets.
/// ECG-only baselines (<see cref="MethodNames.IsEcgOnly"/>): the same store, encoder and training loop, without
/// text encoder or zero-shot evaluation; the lowest validation loss selects <c>best.ckpt</c>.
/// </summary>
public static class Pretrainer
{
    /// <summary>Folder inside a run that holds the text encoder's vocabulary (and, when pretrained, nothing else).</summary>
    public const string TextFolder = "text";

    /// <summary>
    /// Builds the pretraining module for <paramref name="config"/>. The text encoder is the Hugging Face folder
    /// named by <c>network.text_model</c> (frozen, as the release freezes MedCPT), or, only when it says
    /// <c>scratch</c>, a small BERT of width <c>network.feature_dim</c> over a vocabulary built from
    /// <paramref name="trainReports"/> (saved in <c>RUN/text/vocab.txt</c> and reused from there on resume and
    /// evaluation), trained jointly. Any other value is an error (<see cref="TextModelSetting.Resolve"/>).
    /// </summary>
    public static DeriPretrainingModule Build(DeriConfig config, string runDirectory, Func<IEnumerable<string>> trainReports,
        Device device, Action<string>? log = null)
    {
        var network = config.Network;
        var options = new TextEncoderOptions(MaxLength: network.TextMaxLength, ComputeOnLongest: config.Trainer.TextComputeOnLongest);
        TextEncoder text;
        string textModel = TextModelSetting.Resolve(network.TextModel);
        if (!TextModelSetting.IsScratch(textModel))
        {
            text = TextEncoder.FromSetting(textModel, options with { Frozen = true });
            log?.Invoke($"text encoder: pretrained {textModel} (frozen, {text.OutputDim}-d)");
        }
        else
        {
            string vocab = Path.Combine(runDirectory, TextFolder, "vocab.txt");
            if (!File.Exists(vocab))
            {
                var tokens = WordPieceVocabulary.Build(trainReports());
                Directory.CreateDirectory(Path.GetDirectoryName(vocab)!);
                WordPieceVocabulary.Write(vocab, tokens);
            }
            var probe = TextTokenizer.Create(vocab, lowerCase: true, network.TextMaxLength);
            var bert = BertConfig.Small(probe.VocabSize, network.FeatureDim) with
            {
                MaxPositionEmbeddings = Math.Max(256, network.TextMaxLength),
            };
            text = TextEncoder.FromVocabulary(vocab, bert, options with { Frozen = false });
            log?.Invoke($"text encoder: network.text_model is {TextModelSetting.Scratch}: a small BERT ({bert.NumHiddenLayers} layers, " +
                        $"{bert.HiddenSize}-d, vocabulary of {probe.VocabSize} from the training reports) is trained jointly");
        }
        var modelConfig = config.ToModelConfig();
        if (network.FeatureDim != text.OutputDim)
            modelConfig = modelConfig with { Network = network with { FeatureDim = text.OutputDim } };
        var model = ModelFactory.Create(modelConfig);
        var module = new DeriPretrainingModule(model, new DeriLoss(modelConfig.Loss), text);
        module.to(device);
        text.MoveTo(device);
        return module;
    }

    /// <summary>Opens the zero-shot sets of a config section (stores relative to <c>zeroshot.meta_data_path</c>).</summary>
    /// <exception cref="InputFileNotFoundException">A configured store does not exist.</exception>
    public static List<ZeroShotSet> OpenSets(ZeroshotConfig zeroshot, IReadOnlyDictionary<string, ZeroshotSetConfig> sets)
    {
        var result = new List<ZeroShotSet>();
        foreach (var (name, set) in sets)
        {
            string dir = Path.IsPathRooted(set.DataPath) ? set.DataPath : Path.Combine(zeroshot.MetaDataPath, set.DataPath);
            if (!EcgStore.Exists(dir))
                throw new InputFileNotFoundException($"zeroshot set '{name}': no prepared store at {dir} (make one with `deri data prepare`)");
            result.Add(ZeroShotSet.FromSplit(name, EcgStore.Open(dir), set.Split));
        }
        return result;
    }

    /// <summary>
    /// Builds the ECG-only method <c>network.method</c> names, on <paramref name="device"/>, and the config the run
    /// trains with: <c>trainer.loss_weights</c> resolved for the method's terms (<see cref="SslLossWeights"/>).
    /// </summary>
    /// <param name="config">The run's config.</param>
    /// <param name="totalSteps">Optimizer steps of the whole run (momentum schedules); 0 when only evaluating.</param>
    /// <param name="device">Where the method lives.</param>
    /// <exception cref="ConfigException">The loss weights do not fit the method.</exception>
    public static (EcgSslMethod Method, DeriConfig Config) BuildSsl(DeriConfig config, long totalSteps, Device device)
    {
        var method = SslMethodRegistry.Create(config, totalSteps);
        try
        {
            var resolved = SslLossWeights.Apply(config, method);
            method.to(device);
            return (method, resolved);
        }
        catch
        {
            method.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs pretraining as configured: <c>dataset.data_path</c> is a store made by <c>deri data prepare</c>
    /// (its <c>train</c> split trains, its <c>val</c> split gives validation losses). Writes everything into
    /// <paramref name="runDirectory"/>; <paramref name="resume"/> continues from a checkpoint exactly.
    /// </summary>
    public static PretrainResult Run(DeriConfig config, string runDirectory, Device device, string? resume = null,
        ITrainingProgress? progress = null, Action<string>? log = null, CancellationToken cancel = default)
    {
        log ??= static _ => { };  // the library writes nothing unless its caller passes a log
        string storeDir = config.Dataset.DataPath;
        if (!EcgStore.Exists(storeDir))
            throw new InputFileNotFoundException($"dataset.data_path: no prepared store at '{storeDir}' (make one with `deri data prepare`)");
        using var store = EcgStore.Open(storeDir);
        if (store.Index.Length != config.Dataset.SeqLength)
            throw new InputFormatException(
                $"{storeDir}: records are {store.Index.Length} samples long but dataset.seq_length is {config.Dataset.SeqLength}");
        if (store.Index.Leads != config.Network.NumLeads)
            throw new InputFormatException(
                $"{storeDir}: records have {store.Index.Leads} leads but network.num_leads is {config.Network.NumLeads}");
        if (MethodNames.IsEcgOnly(config.Network.Method))
            return RunEcgOnly(config, store, runDirectory, device, resume, progress, log, cancel);
        // The run records the text encoder it actually uses (scratch, or the folder's full path).
        config = config with { Network = config.Network with { TextModel = TextModelSetting.Resolve(config.Network.TextModel) } };
        var train = StorePairData.ForSplit(store, "train");
        var val = store.IndicesOf("val") is { Length: > 0 } v ? new StorePairData(store, v) : null;
        log($"pretraining data: {storeDir}: {train.Count} train, {val?.Count ?? 0} val pairs");

        // Initial weights come from the torch generator: seed it so that a run (and its resumption) is reproducible.
        torch.random.manual_seed(config.Trainer.Seed);
        using var module = Build(config, runDirectory, () => train.Rows.Select(r => store.Entries[r].Report), device, log);
        if (resume is null) InitFrom(config.Trainer.InitFrom, module, log);
        var valSets = OpenSets(config.Zeroshot, config.Zeroshot.ValSets);
        var testSets = OpenSets(config.Zeroshot, config.Zeroshot.TestSets);
        var prompts = valSets.Count + testSets.Count > 0 ? ClassPrompts.Load(config.Zeroshot.PromptDict) : null;
        try
        {
            var evaluator = valSets.Count == 0 ? null
                : new ZeroShotEpochEvaluator(new DeriZeroShotModel(module, device), valSets, prompts!, config.Zeroshot.BatchSize);
            var trainer = new Trainer<PairBatch>(new DeriPretrainingTask(module, device), train, val, TrainerSettings.For(config), runDirectory, evaluator,
                progress);
            var summary = trainer.Run(resume, cancel);

            string best = File.Exists(trainer.BestCheckpointPath) ? trainer.BestCheckpointPath : trainer.LastCheckpointPath;
            Checkpoint.Load(best, module, optimizer: null, restoreRng: false);
            var results = new List<(string, ZeroShotResult)>();
            foreach (var set in testSets)
            {
                var validation = valSets.FirstOrDefault(s => s.Store.Directory == set.Store.Directory);
                var (result, missing) = ZeroShotRunner.Evaluate(new DeriZeroShotModel(module, device), set, validation, prompts!, config.Zeroshot.BatchSize);
                if (missing.Count > 0) log($"{set.Name}: no prompt for {string.Join(", ", missing)}; left out");
                results.Add((set.Name, result));
            }
            return new PretrainResult(summary, best, results);
        }
        finally
        {
            foreach (var s in valSets.Concat(testSets).Select(s => s.Store).Distinct()) s.Dispose();
        }
    }

    /// <summary>
    /// Loads the model weights of <c>trainer.init_from</c> (a checkpoint, or a run folder's <c>best.ckpt</c>) into
    /// <paramref name="module"/>; nothing when it is empty.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">Neither a checkpoint nor a run folder with best.ckpt.</exception>
    /// <exception cref="InputFormatException">The checkpoint does not fit the configured model.</exception>
    public static void InitFrom(string initFrom, nn.Module module, Action<string> log)
    {
        if (string.IsNullOrEmpty(initFrom)) return;
        string path = Directory.Exists(initFrom) ? Path.Combine(initFrom, "best.ckpt") : initFrom;
        if (!File.Exists(path))
            throw new InputFileNotFoundException(Directory.Exists(initFrom)
                ? $"trainer.init_from: {initFrom} is a folder without best.ckpt"
                : $"trainer.init_from: {initFrom}: no such checkpoint or run folder", path);
        var info = Checkpoint.Load(path, module, optimizer: null, restoreRng: false);
        log($"initial weights: {path} (saved after {info.GlobalStep} optimizer steps); optimizer and schedule start afresh");
    }

    private static PretrainResult RunEcgOnly(DeriConfig config, EcgStore store, string runDirectory, Device device, string? resume,
        ITrainingProgress? progress, Action<string> log, CancellationToken cancel)
    {
        string method = config.Network.Method;
        var train = StoreEcgData.ForSplit(store, "train");
        var val = store.IndicesOf("val") is { Length: > 0 } v ? new StoreEcgData(store, v) : null;
        log($"pretraining data: {store.Directory}: {train.Count} train, {val?.Count ?? 0} val records ({method}, ECG only)");
        if (config.Zeroshot.ValSets.Count + config.Zeroshot.TestSets.Count > 0)
            log($"zeroshot.val_sets and zeroshot.test_sets are not used: {method} has no text encoder, so the lowest validation loss selects best.ckpt");
        long totalSteps = (long)config.Trainer.MaxEpochs * EpochOrder.BatchCount(train.Count, config.Trainer.BatchSize, dropLast: true);

        // Initial weights come from the torch generator: seed it so that a run (and its resumption) is reproducible.
        torch.random.manual_seed(config.Trainer.Seed);
        var (module, resolved) = BuildSsl(config, totalSteps, device);
        using (module)
        {
            if (resume is null) InitFrom(config.Trainer.InitFrom, module, log);
            log($"{method}: {config.Network.EcgModel} encoder, {module.RepresentationDim}-d representation; loss weights " +
                string.Join(", ", resolved.Trainer.LossWeights.Select(kv => $"{kv.Key} {kv.Value}")));
            var trainer = new Trainer<EcgBatch>(new SslPretrainingTask(module, device), train, val, TrainerSettings.For(resolved), runDirectory, null,
                progress);
            var summary = trainer.Run(resume, cancel);
            string best = File.Exists(trainer.BestCheckpointPath) ? trainer.BestCheckpointPath : trainer.LastCheckpointPath;
            return new PretrainResult(summary, best, []);
        }
    }
}
