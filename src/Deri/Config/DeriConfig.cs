using YamlDotNet.Serialization;

namespace Deri.Config;

/// <summary>
/// The root of a pretraining config: the sections and key names of the DERI/MERL release's
/// <c>pretrain/config.yaml</c> (<c>network</c>, <c>dataset</c>, <c>trainer</c>, <c>optimizer</c>,
/// <c>zeroshot</c>) and <c>ssl</c> for the ECG-only baselines. Every key has a default (METHOD §3, the release's training recipe), so an empty
/// file is a complete config. Load with <see cref="Load"/>; keys the record does not know are errors.
/// </summary>
public sealed record DeriConfig
{
    /// <summary>The model (<c>network</c> section).</summary>
    public NetworkConfig Network { get; init; } = new();

    /// <summary>The pretraining data (<c>dataset</c> section).</summary>
    public DatasetConfig Dataset { get; init; } = new();

    /// <summary>The training loop (<c>trainer</c> section).</summary>
    public TrainerConfig Trainer { get; init; } = new();

    /// <summary>Optimizer and learning-rate schedule (<c>optimizer</c> section).</summary>
    public OptimizerConfig Optimizer { get; init; } = new();

    /// <summary>Zero-shot evaluation used for checkpoint selection (<c>zeroshot</c> section).</summary>
    public ZeroshotConfig Zeroshot { get; init; } = new();

    /// <summary>The ECG-only self-supervised baselines (<c>ssl</c> section); used when <c>network.method</c> names one.</summary>
    public SslConfig Ssl { get; init; } = new();

    /// <summary>
    /// Reads <paramref name="path"/> (or only the defaults when null), applies <c>--set</c> style
    /// overrides (<c>trainer.batch_size=64</c>) and checks every value. Relative paths written in the file
    /// (<c>dataset.data_path</c>, <c>zeroshot.prompt_dict</c>, …) are resolved against the file's folder.
    /// </summary>
    /// <exception cref="ConfigException">The file is missing or malformed, a key is unknown, a value has the wrong type or is out of range.</exception>
    public static DeriConfig Load(string? path, IEnumerable<string>? overrides = null)
    {
        var config = ConfigLoader.Load<DeriConfig>(path, overrides);
        config.Validate(path ?? "(defaults)");
        return config;
    }

    /// <summary>Reads the config a run recorded (<c>RUN/config.yaml</c>) with its paths as written, and checks every value.</summary>
    /// <exception cref="ConfigException">As for <see cref="Load"/>.</exception>
    public static DeriConfig LoadRecorded(string path)
    {
        var config = ConfigLoader.LoadRecorded<DeriConfig>(path);
        config.Validate(path);
        return config;
    }

    /// <summary>Parses YAML text (named <paramref name="sourceName"/> in errors), applies overrides and checks values.</summary>
    /// <exception cref="ConfigException">As for <see cref="Load"/>.</exception>
    public static DeriConfig Parse(string yaml, string sourceName, IEnumerable<string>? overrides = null)
    {
        var config = ConfigLoader.Parse<DeriConfig>(yaml, sourceName, overrides);
        config.Validate(sourceName);
        return config;
    }

    /// <summary>
    /// The model's view of this config: the <c>network</c> section, the input geometry of <c>dataset</c>, and
    /// the loss weights of <c>trainer.loss_weights</c> (so the model's total equals the trainer's weighted total).
    /// </summary>
    public ModelConfig ToModelConfig()
    {
        double W(string name) => Trainer.LossWeights.TryGetValue(name, out double w) ? w : 0;
        return new ModelConfig
        {
            Network = Network,
            Dataset = new ModelDatasetConfig { SeqLength = Dataset.SeqLength, SamplingRate = Dataset.SamplingRate },
            Loss = new LossConfig
            {
                Temperature = Trainer.Temperature,
                Cma = W(LossTermNames.Cma), CmaMix = W(LossTermNames.CmaMix), Uma = W(LossTermNames.Uma),
                RecEcg = W(LossTermNames.RecEcg), RecText = W(LossTermNames.RecText),
            },
        };
    }

    /// <summary>The config as YAML, with the same key names it is read with.</summary>
    public string ToYaml() => ConfigLoader.ToYaml(this);

    /// <summary>Writes <see cref="ToYaml"/> to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => ConfigLoader.Save(this, path);

    /// <summary>Checks value ranges; all problems are reported together, each with its dotted key.</summary>
    /// <exception cref="ConfigException">One or more values are out of range.</exception>
    public void Validate(string source)
    {
        var problems = new ConfigProblems();
        void Check(bool ok, string key, object? value, string rule) => problems.Require(ok, key, value, rule);

        try
        {
            ToModelConfig().Validate();
        }
        catch (ArgumentException e)
        {
            problems.Add(e.Message.Replace("model config: ", "", StringComparison.Ordinal));
        }
        Check(Dataset.ValRatio >= 0 && Dataset.ValRatio < 1, "dataset.val_ratio", Dataset.ValRatio, "must be in [0, 1)");
        CheckTraining(Trainer, Optimizer, problems);
        Check(Zeroshot.BatchSize > 0, "zeroshot.batch_size", Zeroshot.BatchSize, "must be positive");
        Check(Zeroshot.NumWorkers >= 0, "zeroshot.num_workers", Zeroshot.NumWorkers, "must be 0 or positive");
        Ssl.Validate(problems, Network.Method, Network.NumLeads, Dataset.SeqLength);
        if (problems.Any)
            throw new ConfigException($"{source}: invalid config:\n  " + string.Join("\n  ", problems.Items));
    }

    /// <summary>
    /// Checks the <c>trainer</c> and <c>optimizer</c> sections, adding each problem with its dotted key to
    /// <paramref name="problems"/>: the checks of every config that drives the trainer (pretraining, report generation).
    /// </summary>
    public static void CheckTraining(TrainerConfig t, OptimizerConfig optimizer, ConfigProblems problems)
    {
        void Check(bool ok, string key, object? value, string rule) => problems.Require(ok, key, value, rule);

        Check(t.BatchSize > 0, "trainer.batch_size", t.BatchSize, "must be positive");
        Check(t.ValBatchSize > 0, "trainer.val_batch_size", t.ValBatchSize, "must be positive");
        Check(t.MaxEpochs > 0, "trainer.max_epochs", t.MaxEpochs, "must be positive");
        Check(t.CheckpointInterval >= 0, "trainer.checkpoint_interval", t.CheckpointInterval, "must be 0 (off) or positive");
        Check(t.CheckpointEverySteps >= 0, "trainer.checkpoint_every_steps", t.CheckpointEverySteps, "must be 0 (epoch ends only) or positive");
        Check(t.NumWorkers >= 0, "trainer.num_workers", t.NumWorkers, "must be 0 or positive");
        Check(t.LogEverySteps > 0, "trainer.log_every_steps", t.LogEverySteps, "must be positive");
        Check(double.IsFinite(t.GradClipNorm) && t.GradClipNorm >= 0, "trainer.grad_clip_norm", t.GradClipNorm, "must be 0 (off) or positive");
        Check(t.LossWeights.Count > 0, "trainer.loss_weights", "{}", "needs at least one term");
        foreach (var (name, w) in t.LossWeights)
            Check(double.IsFinite(w) && w >= 0, $"trainer.loss_weights.{name}", w, "must be a finite number >= 0");
        Check(t.LossWeights.Values.Any(w => w > 0), "trainer.loss_weights", string.Join(", ", t.LossWeights.Values), "at least one weight must be positive");
        var p = optimizer.Params;
        Check(double.IsFinite(p.Lr) && p.Lr > 0, "optimizer.params.lr", p.Lr, "must be positive");
        Check(double.IsFinite(p.WeightDecay) && p.WeightDecay >= 0, "optimizer.params.weight_decay", p.WeightDecay, "must be >= 0");
        Check(p.Betas.Count == 2 && p.Betas.All(b => b >= 0 && b < 1), "optimizer.params.betas", "[" + string.Join(", ", p.Betas) + "]", "needs two values in [0, 1)");
        Check(double.IsFinite(p.Eps) && p.Eps > 0, "optimizer.params.eps", p.Eps, "must be positive");
        var s = optimizer.Scheduler;
        Check(s.T0 >= 1, "optimizer.scheduler.t_0", s.T0, "must be at least 1 step");
        Check(s.TMult >= 1, "optimizer.scheduler.t_mult", s.TMult, "must be at least 1");
        Check(double.IsFinite(s.EtaMin) && s.EtaMin >= 0 && s.EtaMin <= p.Lr, "optimizer.scheduler.eta_min", s.EtaMin, "must be in [0, optimizer.params.lr]");
    }
}

/// <summary>The <c>dataset</c> section: where the ECG–report pairs for pretraining are.</summary>
public sealed record DatasetConfig
{
    /// <summary>Name of the pretraining dataset (the release: <c>mimic</c>).</summary>
    public string DatasetName { get; init; } = "mimic";

    /// <summary>Folder of the pretraining data.</summary>
    [ConfigPath]
    public string DataPath { get; init; } = "";

    /// <summary>Fraction of the pairs held out for validation losses (METHOD §1: 2 %).</summary>
    public double ValRatio { get; init; } = 0.02;

    /// <summary>Seed of the train/validation split.</summary>
    public int SplitSeed { get; init; } = 42;

    /// <summary>Samples per lead the model sees (METHOD §1: 5000 = 10 s at 500 Hz).</summary>
    public int SeqLength { get; init; } = 5000;

    /// <summary>Sampling rate of the model's input in Hz.</summary>
    public int SamplingRate { get; init; } = 500;
}

/// <summary>The <c>trainer</c> section: the training loop.</summary>
public sealed record TrainerConfig
{
    /// <summary>Records per training batch (the release: 512 per GPU).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Records per validation batch.</summary>
    public int ValBatchSize { get; init; } = 512;

    /// <summary>
    /// Every this many epochs a numbered copy <c>epoch_NNN.ckpt</c> is kept besides <c>last.ckpt</c> and <c>best.ckpt</c>;
    /// 0 (the default) keeps none, so a run does not grow by one checkpoint per epoch.
    /// </summary>
    public int CheckpointInterval { get; init; }

    /// <summary>Epochs to train (the release: 50).</summary>
    public int MaxEpochs { get; init; } = 50;

    /// <summary>Background batch loaders; 0 loads each batch on the training thread, 1 or more prefetches the next batch.</summary>
    public int NumWorkers { get; init; } = 1;

    /// <summary>Seed of the data order and of the torch generator (dropout, random masks).</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Write <c>last.ckpt</c> every this many optimizer steps within an epoch; 0 only at epoch ends.</summary>
    public int CheckpointEverySteps { get; init; } = 1000;

    /// <summary>
    /// Run the text encoder only over each batch's longest report (padding rows of its hidden states become
    /// zeros). Much faster for short reports; off by default because the release encodes all 256 positions.
    /// </summary>
    public bool TextComputeOnLongest { get; init; }

    /// <summary>Temperature of the CLIP losses (METHOD §3: 0.07).</summary>
    public double Temperature { get; init; } = 0.07;

    /// <summary>Maximum global gradient norm; 0 disables clipping (the release does not clip).</summary>
    public double GradClipNorm { get; init; }

    /// <summary>
    /// Pretraining only: a checkpoint file, or a run folder (its <c>best.ckpt</c>), whose model weights start this run, as
    /// nanoGPT's <c>init_from</c> does. The optimizer, schedule and epoch count start afresh, so a model pretrained on one
    /// store (e.g. synthetic pairs) continues on another (real pairs). The architecture must be the same (a checkpoint that
    /// does not fit is an error, never skipped). Empty: random initial weights. A resumed run ignores it.
    /// </summary>
    [ConfigPath]
    public string InitFrom { get; init; } = "";

    /// <summary>Steps between plain progress lines when the output is not a terminal.</summary>
    public int LogEverySteps { get; init; } = 50;

    /// <summary>
    /// Weight of each named loss term in the total that is back-propagated. Every term the model
    /// returns must be listed. Default (release): CMA + CMA-mix + UMA + REC-ECG; REC-TEXT is
    /// computed and logged but weighted 0. A mapping in a file replaces the default one;
    /// <c>--set trainer.loss_weights.NAME=W</c> changes one entry.
    /// </summary>
    public Dictionary<string, double> LossWeights { get; init; } = new()
    {
        [LossTermNames.Cma] = 1.0,
        [LossTermNames.CmaMix] = 1.0,
        [LossTermNames.Uma] = 1.0,
        [LossTermNames.RecEcg] = 1.0,
        [LossTermNames.RecText] = 0.0,
    };
}

/// <summary>The <c>optimizer</c> section: AdamW and the learning-rate schedule.</summary>
public sealed record OptimizerConfig
{
    /// <summary>AdamW hyper-parameters (the release's key <c>params</c>).</summary>
    public OptimizerParams Params { get; init; } = new();

    /// <summary>Cosine annealing with warm restarts, stepped once per batch.</summary>
    public SchedulerConfig Scheduler { get; init; } = new();
}

/// <summary>The <c>optimizer.params</c> section (AdamW).</summary>
public sealed record OptimizerParams
{
    /// <summary>Peak learning rate (the release: 1e-3).</summary>
    public double Lr { get; init; } = 1e-3;

    /// <summary>Decoupled weight decay (the release: 1e-8).</summary>
    public double WeightDecay { get; init; } = 1e-8;

    /// <summary>Adam's (beta1, beta2).</summary>
    public List<double> Betas { get; init; } = [0.9, 0.999];

    /// <summary>Adam's epsilon.</summary>
    public double Eps { get; init; } = 1e-8;
}

/// <summary>The <c>optimizer.scheduler</c> section: PyTorch's <c>CosineAnnealingWarmRestarts</c> stepped per batch.</summary>
public sealed record SchedulerConfig
{
    /// <summary>Batches in the first cycle (the release: 5000).</summary>
    [YamlMember(Alias = "t_0")]
    public int T0 { get; init; } = 5000;

    /// <summary>Each cycle is this many times longer than the previous one.</summary>
    [YamlMember(Alias = "t_mult")]
    public int TMult { get; init; } = 1;

    /// <summary>Floor of the learning rate (the release: 1e-8).</summary>
    public double EtaMin { get; init; } = 1e-8;
}

/// <summary>The <c>zeroshot</c> section: zero-shot classification run at each epoch end.</summary>
public sealed record ZeroshotConfig
{
    /// <summary>Prompt family (the release: CKEPE).</summary>
    public string PromptType { get; init; } = "CKEPE";

    /// <summary>JSON file mapping each class label to its description.</summary>
    [ConfigPath]
    public string PromptDict { get; init; } = "prompts/CKEPE_prompt.json";

    /// <summary>Records per evaluation batch.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Background loaders for evaluation data.</summary>
    public int NumWorkers { get; init; } = 1;

    /// <summary>Folder that each set's <see cref="ZeroshotSetConfig.DataPath"/> is relative to.</summary>
    [ConfigPath]
    public string MetaDataPath { get; init; } = "data";

    /// <summary>Folder that each set's <see cref="ZeroshotSetConfig.SplitPath"/> is relative to.</summary>
    [ConfigPath]
    public string MetaSplitPath { get; init; } = "splits";

    /// <summary>
    /// Sets evaluated at each epoch end to select the best checkpoint: each is a store made by
    /// <c>deri data prepare</c> (its labels come from the paper's split CSVs or the dataset's codes) and a
    /// split of it. Empty by default (no store exists until one is prepared); without sets the lowest
    /// validation loss selects the best checkpoint.
    /// </summary>
    public Dictionary<string, ZeroshotSetConfig> ValSets { get; init; } = [];

    /// <summary>Sets evaluated once with the best checkpoint after training (normally test splits).</summary>
    public Dictionary<string, ZeroshotSetConfig> TestSets { get; init; } = [];
}

/// <summary>One zero-shot evaluation set: a prepared store and the split of it to evaluate.</summary>
public sealed record ZeroshotSetConfig
{
    /// <summary>Store folder (from <c>deri data prepare</c>), relative to <see cref="ZeroshotConfig.MetaDataPath"/>.</summary>
    public string DataPath { get; init; } = "";

    /// <summary>Split of the store to evaluate: <c>train</c>, <c>val</c> or <c>test</c>.</summary>
    public string Split { get; init; } = "val";

    /// <summary>
    /// The release's label CSV of the split. Accepted so that the release's files load; the labels used are the
    /// store's, which <c>deri data prepare --labels splits --splits DIR</c> takes from those same CSVs.
    /// </summary>
    public string SplitPath { get; init; } = "";
}
