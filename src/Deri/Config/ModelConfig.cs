namespace Deri.Config;

/// <summary>
/// The model part of a run configuration. Property names map to the authors' release YAML keys
/// with an underscored naming convention (<c>Network.EcgModel</c> ↔ <c>network.ecg_model</c>,
/// <c>Network.ProjectionHead.MlpHiddenSize</c> ↔ <c>network.projection_head.mlp_hidden_size</c>);
/// keys the release does not have (decoder sizes, mask ratio, loss weights …) follow the same style.
/// Every default is the release's behaviour.
/// </summary>
public sealed record ModelConfig
{
    /// <summary><c>network</c>: encoder, heads and decoders.</summary>
    public NetworkConfig Network { get; init; } = new();

    /// <summary><c>dataset</c>: the input geometry the model is built for.</summary>
    public ModelDatasetConfig Dataset { get; init; } = new();

    /// <summary><c>loss</c>: temperature and the weight of each loss term.</summary>
    public LossConfig Loss { get; init; } = new();

    /// <summary>Checks every value and throws one exception naming the first bad key and value.</summary>
    /// <exception cref="ArgumentException">A key has a value the model cannot be built with.</exception>
    public ModelConfig Validate()
    {
        Network.Validate();
        Dataset.Validate();
        Loss.Validate();
        return this;
    }

    internal static void Require(bool ok, string key, object? value, string expected)
    {
        if (!ok) throw new ArgumentException($"model config: {key} = '{value}' is invalid: {expected}");
    }
}

/// <summary>The <c>network</c> section.</summary>
public sealed record NetworkConfig
{
    /// <summary>
    /// <c>network.method</c>: <c>deri</c> (default), <c>merl</c> (CMA + UMA on two dropout views, no decoders), or an ECG-only
    /// self-supervised baseline (<c>simclr</c>, <c>byol</c>, <c>barlowtwins</c>, <c>mocov3</c>, <c>simsiam</c>, …: see
    /// <see cref="MethodNames.All"/> and the <c>ssl</c> section).
    /// </summary>
    public string Method { get; init; } = "deri";

    /// <summary><c>network.ecg_model</c>: resnet18|resnet34|resnet50|resnet101|vit_tiny|vit_small|vit_middle|vit_base.</summary>
    public string EcgModel { get; init; } = "resnet18";

    /// <summary><c>network.num_leads</c>: input channels of the ECG encoder.</summary>
    public int NumLeads { get; init; } = 12;

    /// <summary>
    /// <c>network.text_model</c>: a local Hugging Face BERT folder (relative to the config file's folder; frozen, as the release freezes MedCPT), or <c>scratch</c>
    /// for a small BERT trained jointly from the training reports. The default is the release's hub name, which Deri
    /// cannot download: without a local folder of that name, a DERI/MERL run stops and asks for a folder or <c>scratch</c>.
    /// A run records what it used (<c>scratch</c> or the folder's full path).
    /// </summary>
    [ConfigPath(MayBeName = true)]
    public string TextModel { get; init; } = "ncbi/MedCPT-Query-Encoder";

    /// <summary><c>network.free_layers</c>: text encoder layers kept frozen (12 = all, DERI's setting).</summary>
    public int FreeLayers { get; init; } = 12;

    /// <summary><c>network.feature_dim</c>: width of the text features (<c>pooled</c>, <c>hidden</c>), 768 for BERT-base.</summary>
    public int FeatureDim { get; init; } = 768;

    /// <summary><c>network.projection_head</c>: sizes of <c>proj_t</c> and of the shared embedding space.</summary>
    public ProjectionHeadConfig ProjectionHead { get; init; } = new();

    /// <summary><c>network.ecg_base_width</c>: channels of the ResNet stem (64 in the release; smaller for tests).</summary>
    public int EcgBaseWidth { get; init; } = 64;

    /// <summary><c>network.patch_size</c>: samples per ViT token (ViT backbones only).</summary>
    public int PatchSize { get; init; } = 50;

    /// <summary><c>network.downconv_stride</c>: stride of the 1×1 down-projection; unset = 3 for ResNets, 1 for ViTs.</summary>
    public int? DownconvStride { get; init; }

    /// <summary><c>network.pool_heads</c>: heads of the attention pooling that gives the ECG tokens.</summary>
    public int PoolHeads { get; init; } = 4;

    /// <summary><c>network.rme_heads</c>: heads of each RME view's attention pooling.</summary>
    public int RmeHeads { get; init; } = 2;

    /// <summary><c>network.mask_ratio</c>: fraction of tokens each RME view drops (a view keeps ⌊n·(1−ratio)⌋).</summary>
    public double MaskRatio { get; init; } = 0.1;

    /// <summary><c>network.text_max_length</c>: tokens per report (the text→ECG decoder's positional table follows it).</summary>
    public int TextMaxLength { get; init; } = 256;

    /// <summary><c>network.decoder</c>: the two cross-modal decoders.</summary>
    public DecoderConfig Decoder { get; init; } = new();

    /// <summary><c>network.merl_dropout</c>: dropout of MERL's two uni-modal views (MERL only).</summary>
    public double MerlDropout { get; init; } = 0.1;

    internal void Validate()
    {
        ModelConfig.Require(MethodNames.All.Contains(Method), "network.method", Method,
            "expected one of " + string.Join(", ", MethodNames.All));
        ModelConfig.Require(EncoderNames.All.Contains(EcgModel), "network.ecg_model", EcgModel,
            "expected one of " + string.Join(", ", EncoderNames.All));
        ModelConfig.Require(NumLeads > 0, "network.num_leads", NumLeads, "must be positive");
        ModelConfig.Require(FeatureDim > 0, "network.feature_dim", FeatureDim, "must be positive");
        ModelConfig.Require(EcgBaseWidth > 0, "network.ecg_base_width", EcgBaseWidth, "must be positive");
        ModelConfig.Require(PatchSize > 0, "network.patch_size", PatchSize, "must be positive");
        ModelConfig.Require(DownconvStride is null or > 0, "network.downconv_stride", DownconvStride, "must be positive");
        ModelConfig.Require(PoolHeads > 0 && ProjectionHead.ProjectionSize % PoolHeads == 0, "network.pool_heads", PoolHeads,
            "must be positive and divide network.projection_head.projection_size");
        ModelConfig.Require(RmeHeads > 0 && ProjectionHead.ProjectionSize % RmeHeads == 0, "network.rme_heads", RmeHeads,
            "must be positive and divide network.projection_head.projection_size");
        ModelConfig.Require(MaskRatio is >= 0 and < 1, "network.mask_ratio", MaskRatio, "must be in [0, 1)");
        ModelConfig.Require(TextMaxLength > 0, "network.text_max_length", TextMaxLength, "must be positive");
        ModelConfig.Require(MerlDropout is >= 0 and < 1, "network.merl_dropout", MerlDropout, "must be in [0, 1)");
        ProjectionHead.Validate();
        Decoder.Validate();
    }
}

/// <summary>The <c>network.projection_head</c> section.</summary>
public sealed record ProjectionHeadConfig
{
    /// <summary><c>mlp_hidden_size</c>: hidden width of <c>proj_t</c> and of every gated MLP in the decoders.</summary>
    public int MlpHiddenSize { get; init; } = 256;

    /// <summary><c>projection_size</c>: width of the shared ECG–text embedding space (and of the ECG tokens).</summary>
    public int ProjectionSize { get; init; } = 256;

    internal void Validate()
    {
        ModelConfig.Require(MlpHiddenSize > 0, "network.projection_head.mlp_hidden_size", MlpHiddenSize, "must be positive");
        ModelConfig.Require(ProjectionSize > 0, "network.projection_head.projection_size", ProjectionSize, "must be positive");
    }
}

/// <summary>The <c>network.decoder</c> section (DERI's cross-modal decoders).</summary>
public sealed record DecoderConfig
{
    /// <summary><c>depth</c>: transformer blocks per decoder.</summary>
    public int Depth { get; init; } = 2;

    /// <summary><c>heads</c>: attention heads per block.</summary>
    public int Heads { get; init; } = 8;

    /// <summary><c>head_dim</c>: width of each head (the fused qkv projection is width → 3·heads·head_dim).</summary>
    public int HeadDim { get; init; } = 64;

    /// <summary><c>dropout</c>: dropout inside the input and output gated MLPs.</summary>
    public double Dropout { get; init; } = 0.2;

    /// <summary><c>drop_path</c>: stochastic-depth rate of the last block (rising linearly from 0 at the first).</summary>
    public double DropPath { get; init; } = 0.1;

    internal void Validate()
    {
        ModelConfig.Require(Depth > 0, "network.decoder.depth", Depth, "must be positive");
        ModelConfig.Require(Heads > 0, "network.decoder.heads", Heads, "must be positive");
        ModelConfig.Require(HeadDim > 0, "network.decoder.head_dim", HeadDim, "must be positive");
        ModelConfig.Require(Dropout is >= 0 and < 1, "network.decoder.dropout", Dropout, "must be in [0, 1)");
        ModelConfig.Require(DropPath is >= 0 and < 1, "network.decoder.drop_path", DropPath, "must be in [0, 1)");
    }
}

/// <summary>The model-relevant keys of the <c>dataset</c> section.</summary>
public sealed record ModelDatasetConfig
{
    /// <summary><c>dataset.seq_length</c>: samples per record (5000 = 10 s at 500 Hz); token counts follow it.</summary>
    public int SeqLength { get; init; } = 5000;

    /// <summary><c>dataset.sampling_rate</c>: samples per second of the model's input.</summary>
    public int SamplingRate { get; init; } = 500;

    internal void Validate()
    {
        ModelConfig.Require(SeqLength >= 16, "dataset.seq_length", SeqLength, "must be at least 16");
        ModelConfig.Require(SamplingRate > 0, "dataset.sampling_rate", SamplingRate, "must be positive");
    }
}

/// <summary>The <c>loss</c> section: CLIP temperature and term weights (release: every term 1 except REC-TEXT 0).</summary>
public sealed record LossConfig
{
    /// <summary><c>temperature</c>: divides the cosine similarities of every CLIP term.</summary>
    public double Temperature { get; init; } = 0.07;

    /// <summary><c>cma</c>: weight of clip(aligned ECG, aligned text).</summary>
    public double Cma { get; init; } = 1;

    /// <summary><c>cma_mix</c>: weight of clip(mixed ECG, mixed text) (DERI only).</summary>
    public double CmaMix { get; init; } = 1;

    /// <summary><c>uma</c>: weight of clip(view 1, view 2).</summary>
    public double Uma { get; init; } = 1;

    /// <summary><c>rec_ecg</c>: weight of clip(global ECG, decoded ECG) (DERI only).</summary>
    public double RecEcg { get; init; } = 1;

    /// <summary><c>rec_text</c>: weight of clip(text pooled, decoded text); computed and logged, 0 in the release.</summary>
    public double RecText { get; init; }

    internal void Validate()
    {
        ModelConfig.Require(Temperature > 0, "loss.temperature", Temperature, "must be positive");
        foreach (var (key, w) in new[] { ("loss.cma", Cma), ("loss.cma_mix", CmaMix), ("loss.uma", Uma), ("loss.rec_ecg", RecEcg), ("loss.rec_text", RecText) })
            ModelConfig.Require(w >= 0 && double.IsFinite(w), key, w, "must be a finite number ≥ 0");
    }
}
