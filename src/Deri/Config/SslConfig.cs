using YamlDotNet.Serialization;

namespace Deri.Config;

/// <summary>
/// The <c>ssl</c> section: the ECG-only self-supervised baselines (<c>network.method</c> = simclr, byol,
/// barlowtwins, mocov3, simsiam, …). <c>ssl.augment</c> is the two-view augmentation pipeline they share; each
/// method has its own sub-section of head widths and objective constants. Ignored by deri and merl runs.
/// </summary>
public sealed record SslConfig
{
    /// <summary><c>ssl.augment</c>: the augmentations that make two views of each ECG.</summary>
    public AugmentConfig Augment { get; init; } = new();

    /// <summary><c>ssl.simclr</c>: SimCLR (Chen et al., 2020).</summary>
    public SimClrConfig Simclr { get; init; } = new();

    /// <summary><c>ssl.byol</c>: BYOL (Grill et al., 2020).</summary>
    public ByolConfig Byol { get; init; } = new();

    /// <summary><c>ssl.barlowtwins</c>: Barlow Twins (Zbontar et al., 2021).</summary>
    [YamlMember(Alias = "barlowtwins")]
    public BarlowTwinsConfig BarlowTwins { get; init; } = new();

    /// <summary><c>ssl.mocov3</c>: MoCo v3 (Chen, Xie and He, 2021).</summary>
    [YamlMember(Alias = "mocov3")]
    public MocoV3Config MocoV3 { get; init; } = new();

    /// <summary><c>ssl.simsiam</c>: SimSiam (Chen and He, 2021).</summary>
    public SimSiamConfig Simsiam { get; init; } = new();

    /// <summary><c>ssl.tstcc</c>: TS-TCC (Eldele et al., 2021).</summary>
    [YamlMember(Alias = "tstcc")]
    public Baselines.TsTccConfig TsTcc { get; init; } = new();

    /// <summary><c>ssl.clocs</c>: CLOCS (Kiyasseh et al., 2021).</summary>
    public Baselines.ClocsConfig Clocs { get; init; } = new();

    /// <summary><c>ssl.astcl</c>: ASTCL (Wang et al., 2023).</summary>
    public Baselines.AstclConfig Astcl { get; init; } = new();

    /// <summary><c>ssl.crt</c>: CRT (Zhang et al., 2023).</summary>
    public Baselines.CrtConfig Crt { get; init; } = new();

    /// <summary><c>ssl.stmem</c>: ST-MEM (Na et al., 2024).</summary>
    [YamlMember(Alias = "stmem")]
    public Baselines.StMemConfig StMem { get; init; } = new();

    /// <summary>Checks every value; problems are added to <paramref name="problems"/> with their dotted keys.</summary>
    public void Validate(List<string> problems)
    {
        Augment.Validate(problems);
        void Mlp(string key, int hidden, int output)
        {
            if (hidden <= 0) problems.Add($"ssl.{key}.hidden_dim = {hidden}: must be positive");
            if (output <= 0) problems.Add($"ssl.{key}.output_dim = {output}: must be positive");
        }
        void Positive(string key, double v)
        {
            if (!(double.IsFinite(v) && v > 0)) problems.Add($"{key} = {v}: must be a positive number");
        }
        void Momentum(string key, double v)
        {
            if (!(v is >= 0 and <= 1)) problems.Add($"{key} = {v}: must be in [0, 1]");
        }
        Mlp("simclr", Simclr.HiddenDim, Simclr.OutputDim);
        Positive("ssl.simclr.temperature", Simclr.Temperature);
        Mlp("byol", Byol.HiddenDim, Byol.OutputDim);
        Positive("ssl.byol.predictor_hidden_dim", Byol.PredictorHiddenDim);
        Momentum("ssl.byol.momentum", Byol.Momentum);
        Mlp("barlowtwins", BarlowTwins.HiddenDim, BarlowTwins.OutputDim);
        if (!(double.IsFinite(BarlowTwins.Lambda) && BarlowTwins.Lambda >= 0))
            problems.Add($"ssl.barlowtwins.lambda = {BarlowTwins.Lambda}: must be a finite number >= 0");
        Mlp("mocov3", MocoV3.HiddenDim, MocoV3.OutputDim);
        Positive("ssl.mocov3.predictor_hidden_dim", MocoV3.PredictorHiddenDim);
        Positive("ssl.mocov3.temperature", MocoV3.Temperature);
        Momentum("ssl.mocov3.momentum", MocoV3.Momentum);
        Mlp("simsiam", Simsiam.HiddenDim, Simsiam.OutputDim);
        Positive("ssl.simsiam.predictor_hidden_dim", Simsiam.PredictorHiddenDim);
    }
}

/// <summary>
/// <c>ssl.augment</c>: each augmentation is applied to each record of each view independently with its
/// probability <c>p</c>, in the order crop → scale → baseline wander → noise → lead mask → time mask.
/// Amplitudes are in the store's signal units (min–max normalised records span [0, 1]).
/// </summary>
public sealed record AugmentConfig
{
    /// <summary><c>crop</c>: a random window of the record, stretched back to full length (or zero outside it).</summary>
    public CropAugment Crop { get; init; } = new();

    /// <summary><c>scale</c>: multiply the record by a random factor.</summary>
    public ScaleAugment Scale { get; init; } = new();

    /// <summary><c>baseline_wander</c>: add a slow sinusoid per lead.</summary>
    public WanderAugment BaselineWander { get; init; } = new();

    /// <summary><c>noise</c>: add white Gaussian noise.</summary>
    public NoiseAugment Noise { get; init; } = new();

    /// <summary><c>lead_mask</c>: zero random leads.</summary>
    public LeadMaskAugment LeadMask { get; init; } = new();

    /// <summary><c>time_mask</c>: zero one random segment of all leads.</summary>
    public TimeMaskAugment TimeMask { get; init; } = new();

    internal void Validate(List<string> problems)
    {
        void P(string key, double p)
        {
            if (!(p is >= 0 and <= 1)) problems.Add($"ssl.augment.{key}.p = {p}: must be in [0, 1]");
        }
        void Range(string key, double lo, double hi, double min, double max)
        {
            if (!(double.IsFinite(lo) && double.IsFinite(hi) && lo >= min && hi <= max && lo <= hi))
                problems.Add($"ssl.augment.{key} = [{lo}, {hi}]: needs {min} <= min <= max <= {max}");
        }
        P("crop", Crop.P);
        Range("crop.min_scale..max_scale", Crop.MinScale, Crop.MaxScale, 1e-3, 1);
        P("scale", Scale.P);
        Range("scale.min..max", Scale.Min, Scale.Max, 0, double.MaxValue);
        P("baseline_wander", BaselineWander.P);
        Range("baseline_wander.amplitude", 0, BaselineWander.Amplitude, 0, double.MaxValue);
        Range("baseline_wander.min_hz..max_hz", BaselineWander.MinHz, BaselineWander.MaxHz, 0, double.MaxValue);
        P("noise", Noise.P);
        Range("noise.std", 0, Noise.Std, 0, double.MaxValue);
        P("lead_mask", LeadMask.P);
        Range("lead_mask.ratio", 0, LeadMask.Ratio, 0, 1);
        P("time_mask", TimeMask.P);
        Range("time_mask.ratio", 0, TimeMask.Ratio, 0, 1);
    }
}

/// <summary><c>ssl.augment.crop</c>: random resized crop.</summary>
public sealed record CropAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 1.0;

    /// <summary><c>min_scale</c>: smallest window, as a fraction of the record length.</summary>
    public double MinScale { get; init; } = 0.5;

    /// <summary><c>max_scale</c>: largest window, as a fraction of the record length.</summary>
    public double MaxScale { get; init; } = 1.0;

    /// <summary><c>resize</c>: stretch the window back to full length by linear interpolation (true) or keep it in place and zero the rest (false).</summary>
    public bool Resize { get; init; } = true;
}

/// <summary><c>ssl.augment.scale</c>: amplitude scaling.</summary>
public sealed record ScaleAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>min</c>: smallest factor.</summary>
    public double Min { get; init; } = 0.8;

    /// <summary><c>max</c>: largest factor.</summary>
    public double Max { get; init; } = 1.25;
}

/// <summary><c>ssl.augment.baseline_wander</c>: a low-frequency sinusoid of random frequency, phase and amplitude per lead.</summary>
public sealed record WanderAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>amplitude</c>: largest amplitude (each lead draws one uniformly below it).</summary>
    public double Amplitude { get; init; } = 0.05;

    /// <summary><c>min_hz</c>: lowest frequency in Hz.</summary>
    public double MinHz { get; init; } = 0.05;

    /// <summary><c>max_hz</c>: highest frequency in Hz (respiration and movement stay below about 0.5 Hz).</summary>
    public double MaxHz { get; init; } = 0.5;
}

/// <summary><c>ssl.augment.noise</c>: additive white Gaussian noise.</summary>
public sealed record NoiseAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>std</c>: standard deviation of the noise.</summary>
    public double Std { get; init; } = 0.01;
}

/// <summary><c>ssl.augment.lead_mask</c>: zero each lead with probability <c>ratio</c>.</summary>
public sealed record LeadMaskAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.2;

    /// <summary><c>ratio</c>: probability of each lead being zeroed in a masked record.</summary>
    public double Ratio { get; init; } = 0.25;
}

/// <summary><c>ssl.augment.time_mask</c>: zero one contiguous segment.</summary>
public sealed record TimeMaskAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>ratio</c>: segment length as a fraction of the record.</summary>
    public double Ratio { get; init; } = 0.1;
}

/// <summary><c>ssl.simclr</c>: projector g (Linear → BN → ReLU → Linear) and the NT-Xent temperature.</summary>
public sealed record SimClrConfig
{
    /// <summary><c>hidden_dim</c>: projector hidden width.</summary>
    public int HiddenDim { get; init; } = 512;

    /// <summary><c>output_dim</c>: projection width (the space of the contrastive loss).</summary>
    public int OutputDim { get; init; } = 128;

    /// <summary><c>temperature</c>: τ of NT-Xent.</summary>
    public double Temperature { get; init; } = 0.1;
}

/// <summary><c>ssl.byol</c>: projector and predictor MLPs and the target network's EMA momentum.</summary>
public sealed record ByolConfig
{
    /// <summary><c>hidden_dim</c>: projector hidden width (the paper: 4096).</summary>
    public int HiddenDim { get; init; } = 1024;

    /// <summary><c>output_dim</c>: projection width (the paper: 256).</summary>
    public int OutputDim { get; init; } = 256;

    /// <summary><c>predictor_hidden_dim</c>: predictor hidden width (the paper: 4096).</summary>
    public int PredictorHiddenDim { get; init; } = 1024;

    /// <summary><c>momentum</c>: τ_base; the target's momentum rises from it to 1 over training on a cosine (the paper: 0.996).</summary>
    public double Momentum { get; init; } = 0.996;
}

/// <summary><c>ssl.barlowtwins</c>: projector widths and the off-diagonal weight λ.</summary>
public sealed record BarlowTwinsConfig
{
    /// <summary><c>hidden_dim</c>: width of the projector's two hidden layers (the paper: 8192).</summary>
    public int HiddenDim { get; init; } = 1024;

    /// <summary><c>output_dim</c>: projection width D of the D×D cross-correlation (the paper: 8192).</summary>
    public int OutputDim { get; init; } = 1024;

    /// <summary><c>lambda</c>: weight of the redundancy-reduction (off-diagonal) term (the paper: 5e-3).</summary>
    public double Lambda { get; init; } = 5e-3;
}

/// <summary><c>ssl.mocov3</c>: projector and predictor, InfoNCE temperature and the momentum encoder's EMA.</summary>
public sealed record MocoV3Config
{
    /// <summary><c>hidden_dim</c>: projector hidden width (the paper: 4096).</summary>
    public int HiddenDim { get; init; } = 1024;

    /// <summary><c>output_dim</c>: projection width (the paper: 256).</summary>
    public int OutputDim { get; init; } = 256;

    /// <summary><c>predictor_hidden_dim</c>: predictor hidden width (the paper: 4096).</summary>
    public int PredictorHiddenDim { get; init; } = 1024;

    /// <summary><c>temperature</c>: τ of InfoNCE (the paper: 0.2).</summary>
    public double Temperature { get; init; } = 0.2;

    /// <summary><c>momentum</c>: m_base; the momentum rises from it to 1 over training on a cosine (the paper: 0.99).</summary>
    public double Momentum { get; init; } = 0.99;
}

/// <summary><c>ssl.simsiam</c>: projector and bottleneck predictor widths.</summary>
public sealed record SimSiamConfig
{
    /// <summary><c>hidden_dim</c>: projector hidden width (the paper: 2048).</summary>
    public int HiddenDim { get; init; } = 512;

    /// <summary><c>output_dim</c>: projection width (the paper: 2048).</summary>
    public int OutputDim { get; init; } = 512;

    /// <summary><c>predictor_hidden_dim</c>: bottleneck width of the predictor (the paper: 512, a quarter of the output).</summary>
    public int PredictorHiddenDim { get; init; } = 128;
}
