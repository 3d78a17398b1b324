using Deri.Config;
using Deri.IO;

namespace Deri.Generation;

/// <summary>
/// Configuration of a report-generation run (METHOD §4 "Report generation"): which pretrained DERI/MERL run
/// supplies the ECG side, which decoder, the data, and the trainer, optimizer and decoding settings. Read with
/// <see cref="Load"/> (unknown keys are errors; <c>--set key.path=value</c> overrides); saved as <c>RUN/config.yaml</c>.
/// </summary>
public sealed record ReportConfig
{
    /// <summary>Folder of the pretrained run made by <c>deri pretrain</c>.</summary>
    [ConfigPath]
    public string PretrainedRun { get; init; } = "";

    /// <summary>Checkpoint of that run: <c>best</c>, <c>last</c> or a path.</summary>
    [ConfigPath(MayBeName = true)]
    public string Checkpoint { get; init; } = "best";

    /// <summary>
    /// ECG feature that becomes the decoder's memory token: <c>mixed</c> (DERI's m_e), <c>aligned</c> (DERI-Align's e;
    /// MERL's embedding) or <c>auto</c> (mixed for DERI runs, aligned for MERL runs).
    /// </summary>
    public string Feature { get; init; } = "auto";

    /// <summary>
    /// What the decoder's cross-attention reads: <c>feature</c> (METHOD §4: the feature as one memory token) or <c>tokens</c>
    /// (the ECG encoder's n tokens followed by the feature, n + 1 memory tokens).
    /// </summary>
    public string Memory { get; init; } = "feature";

    /// <summary>Label smoothing ε of the teacher-forced cross-entropy (0 = METHOD's plain cross-entropy), in [0, 1).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// Probability that a training record's memory features are zeroed (0 = METHOD's training), in [0, 1): the decoder then
    /// also learns the report prior without an ECG, which <c>decoding.guidance_scale</c> contrasts against.
    /// </summary>
    public double MemoryDropout { get; init; }

    /// <summary>The parsed <see cref="Memory"/>.</summary>
    public ReportMemory MemoryKind() => Memory switch
    {
        "feature" => ReportMemory.Feature,
        "tokens" => ReportMemory.Tokens,
        _ => throw new ConfigException($"memory must be feature or tokens, got '{Memory}'"),
    };

    /// <summary>Keep the pretrained ECG side fixed (weights and BatchNorm statistics); METHOD trains the whole model, so false by default.</summary>
    public bool FreezeEcg { get; init; }

    /// <summary>
    /// A Hugging Face GPT-2 folder (<c>config.json</c>, <c>model.safetensors</c>, tokenizer files) to start the decoder from;
    /// empty: a small randomly initialised GPT-2 (<see cref="SmallDecoder"/>) with a word-level tokenizer built from the training reports.
    /// </summary>
    [ConfigPath]
    public string Decoder { get; init; } = "";

    /// <summary>Size of the decoder used when <see cref="Decoder"/> is empty.</summary>
    public SmallDecoderConfig SmallDecoder { get; init; } = new();

    /// <summary>Word-level vocabulary settings (used when <see cref="Decoder"/> is empty).</summary>
    public VocabularyConfig Vocabulary { get; init; } = new();

    /// <summary>Longest target sequence in tokens, <c>[BOS]</c> and <c>[EOS]</c> included (METHOD: 257).</summary>
    public int MaxLength { get; init; } = 257;

    /// <summary>Store made by <c>deri data prepare</c> with the reports (its train split trains, its val split selects).</summary>
    [ConfigPath]
    public string DataPath { get; init; } = "";

    /// <summary>Trainer settings (the shared <see cref="TrainerConfig"/>; the one loss term is <c>lm</c>).</summary>
    public TrainerConfig Trainer { get; init; } = new()
    {
        BatchSize = 32, ValBatchSize = 64, MaxEpochs = 10, CheckpointEverySteps = 500, LogEverySteps = 20,
        LossWeights = new() { [ReportTrainingTask.LossName] = 1.0 },
    };

    /// <summary>AdamW and learning-rate schedule (METHOD: AdamW, lr 1e-3).</summary>
    public OptimizerConfig Optimizer { get; init; } = new();

    /// <summary>Decoding settings used by <c>deri report generate</c> and <c>eval</c>.</summary>
    public DecodingConfig Decoding { get; init; } = new();

    /// <summary>Reads <paramref name="path"/> (defaults when null), applies <paramref name="overrides"/> and validates.</summary>
    /// <exception cref="ConfigException">The file is malformed or a key or value is wrong.</exception>
    public static ReportConfig Load(string? path, IEnumerable<string>? overrides = null)
    {
        var config = ConfigLoader.Load<ReportConfig>(path, overrides);
        config.Validate(path ?? "(defaults)");
        return config;
    }

    /// <summary>Reads the config a run recorded (<c>RUN/config.yaml</c>) with its paths as written, and validates.</summary>
    /// <exception cref="ConfigException">The file is malformed or a key or value is wrong.</exception>
    public static ReportConfig LoadRecorded(string path)
    {
        var config = ConfigLoader.LoadRecorded<ReportConfig>(path);
        config.Validate(path);
        return config;
    }

    /// <summary>Writes the config as YAML atomically.</summary>
    public void Save(string path) => ConfigLoader.Save(this, path);

    /// <summary>The config as YAML, with the key names it is read with (what <see cref="Save"/> writes).</summary>
    public string ToYaml() => ConfigLoader.ToYaml(this);

    /// <summary>Checks every value; all problems are reported together with their dotted keys.</summary>
    /// <exception cref="ConfigException">A value is out of range.</exception>
    public void Validate(string source)
    {
        var problems = new ConfigProblems();
        void Check(bool ok, string key, object? value, string rule) => problems.Require(ok, key, value, rule);
        Check(Feature is "auto" or "mixed" or "aligned", "feature", Feature, "must be auto, mixed or aligned");
        Check(string.IsNullOrEmpty(Trainer.InitFrom), "trainer.init_from", Trainer.InitFrom, "is for pretraining; a report run starts from pretrained_run");
        Check(Memory is "feature" or "tokens", "memory", Memory, "must be feature or tokens");
        Check(LabelSmoothing is >= 0 and < 1, "label_smoothing", LabelSmoothing, "must be in [0, 1)");
        Check(MemoryDropout is >= 0 and < 1, "memory_dropout", MemoryDropout, "must be in [0, 1)");
        Check(Decoding.GuidanceScale == 0 || MemoryDropout > 0, "decoding.guidance_scale", Decoding.GuidanceScale,
            "needs memory_dropout > 0 (the model must have learnt the report prior without an ECG)");
        Check(MaxLength >= 3, "max_length", MaxLength, "must be at least 3 ([BOS], one word, [EOS])");
        var d = SmallDecoder;
        Check(d.NLayer > 0, "small_decoder.n_layer", d.NLayer, "must be positive");
        Check(d.NEmbd > 0 && d.NHead > 0 && d.NEmbd % d.NHead == 0, "small_decoder.n_embd", d.NEmbd, $"must be positive and divisible by n_head ({d.NHead})");
        Check(d.Dropout is >= 0 and < 1, "small_decoder.dropout", d.Dropout, "must be in [0, 1)");
        Check(Vocabulary.MinCount >= 1, "vocabulary.min_count", Vocabulary.MinCount, "must be at least 1");
        Check(Vocabulary.MaxSize >= 1, "vocabulary.max_size", Vocabulary.MaxSize, "must be at least 1");
        Check(Trainer.LossWeights.ContainsKey(ReportTrainingTask.LossName), "trainer.loss_weights", string.Join(", ", Trainer.LossWeights.Keys),
            $"needs the term '{ReportTrainingTask.LossName}'");
        try
        {
            Decoding.ToOptions().Validate(MaxLength);
        }
        catch (InputValueException e)
        {
            problems.Add("decoding: " + e.Message);
        }
        DeriConfig.CheckTraining(Trainer, Optimizer, problems);
        if (problems.Any)
            throw new ConfigException($"{source}: invalid report config:\n  " + string.Join("\n  ", problems.Items));
    }
}

/// <summary>The randomly initialised GPT-2 used without a pretrained decoder folder.</summary>
public sealed record SmallDecoderConfig
{
    /// <summary>Transformer blocks.</summary>
    public int NLayer { get; init; } = 3;

    /// <summary>Width.</summary>
    public int NEmbd { get; init; } = 256;

    /// <summary>Attention heads.</summary>
    public int NHead { get; init; } = 4;

    /// <summary>Embedding, attention and residual dropout.</summary>
    public double Dropout { get; init; } = 0.1;
}

/// <summary>How the word-level vocabulary is built from the training reports.</summary>
public sealed record VocabularyConfig
{
    /// <summary>Fewest occurrences of a word to be in the vocabulary.</summary>
    public int MinCount { get; init; } = 1;

    /// <summary>Most words (specials not counted).</summary>
    public int MaxSize { get; init; } = 30000;
}

/// <summary>The <c>decoding</c> section: beam search settings (see <see cref="Decoder.DecodingOptions"/>).</summary>
public sealed record DecodingConfig
{
    /// <summary>Beam width (1 = greedy).</summary>
    public int NumBeams { get; init; } = 3;

    /// <summary>Most generated tokens, <c>[EOS]</c> included.</summary>
    public int MaxNewTokens { get; init; } = 256;

    /// <summary>Fewest generated tokens before <c>[EOS]</c>.</summary>
    public int MinNewTokens { get; init; } = 1;

    /// <summary>No n-gram of this size repeats (0 = off).</summary>
    public int NoRepeatNgramSize { get; init; }

    /// <summary>Repetition penalty (1 = off).</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>Length penalty α (score = Σ log p / length^α).</summary>
    public double LengthPenalty { get; init; } = 1.0;

    /// <summary>Classifier-free guidance γ (0 = off; see <see cref="Decoder.DecodingOptions.GuidanceScale"/>); needs <c>memory_dropout</c> &gt; 0.</summary>
    public double GuidanceScale { get; init; }

    /// <summary>The decoder's options.</summary>
    public Decoder.DecodingOptions ToOptions() =>
        new(NumBeams, MinNewTokens, MaxNewTokens, NoRepeatNgramSize, RepetitionPenalty, LengthPenalty, GuidanceScale);
}
