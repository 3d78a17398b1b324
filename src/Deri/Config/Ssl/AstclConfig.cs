namespace Deri.Config;

/// <summary>Settings of <c>Baselines.Astcl</c> (YAML keys are the snake_case property names, e.g. <c>max_baseline_wander</c>).</summary>
public sealed record AstclConfig : ISslMethodConfig
{
    /// <summary>Samples per segment; null = half the input length (the temporal views are two adjacent segments).</summary>
    public int? SegmentLength { get; init; }

    /// <summary>The two lead groups of the spatial views (default limb leads 0–5 and chest leads 6–11); other leads are zeroed.</summary>
    public int[][] LeadGroups { get; init; } = [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]];

    /// <summary>
    /// Sampling rate of the stored signals in Hz (sets the noise frequencies and the denoising windows). Not a config key:
    /// the method factory sets it from <c>dataset.sampling_rate</c>, so it cannot disagree with the data.
    /// </summary>
    [YamlDotNet.Serialization.YamlIgnore]
    public double SamplingRate { get; init; } = 500;

    /// <summary>Largest baseline-wander amplitude the adversary may choose (signals are min–max scaled to about [0, 1]).</summary>
    public double MaxBaselineWander { get; init; } = 0.1;

    /// <summary>Lowest and highest baseline-wander frequency in Hz (drawn uniformly per record and lead).</summary>
    public double[] BaselineWanderHz { get; init; } = [0.05, 0.5];

    /// <summary>Largest standard deviation of the EMG (white Gaussian) noise the adversary may choose.</summary>
    public double MaxEmgNoise { get; init; } = 0.05;

    /// <summary>Largest powerline amplitude the adversary may choose.</summary>
    public double MaxPowerline { get; init; } = 0.05;

    /// <summary>Powerline frequency in Hz (50; 60 in the Americas).</summary>
    public double PowerlineHz { get; init; } = 50;

    /// <summary>Moving-average window of the denoised view's low-pass filter, in seconds (0.02: its first zero is at 50 Hz).</summary>
    public double LowpassSeconds { get; init; } = 0.02;

    /// <summary>Moving-average window whose output the denoised view subtracts as baseline, in seconds (at most one segment).</summary>
    public double BaselineSeconds { get; init; } = 1.0;

    /// <summary>Hidden width of the adversarial noise generator.</summary>
    public int AdversaryHidden { get; init; } = 64;

    /// <summary>Scale of the reversed gradient reaching the noise generator (it ascends the contrastive loss).</summary>
    public double AdversaryLambda { get; init; } = 1.0;

    /// <summary>Hidden width of the view discriminator.</summary>
    public int DiscriminatorHidden { get; init; } = 128;

    /// <summary>Scale of the reversed gradient the discriminator's loss sends into the encoder.</summary>
    public double DiscriminatorLambda { get; init; } = 0.1;

    /// <summary>Width of the projection the contrastive terms compare.</summary>
    public int EmbeddingDim { get; init; } = 128;

    /// <summary>Temperature of the contrastive terms.</summary>
    public double Temperature { get; init; } = 0.1;

    /// <summary>Records of the same patient are positives (the paper's patient-level pairs); false = instance positives only.</summary>
    public bool PatientAware { get; init; } = true;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        int s = EffectiveSegmentLength(seqLength);
        problems.Require(s > 0 && 2 * s <= seqLength, "ssl.astcl.segment_length", s, $"must be positive and fit twice into the input length {seqLength}");
        problems.Require(LeadGroups.Length == 2, "ssl.astcl.lead_groups", LeadGroups.Length, "must name exactly 2 groups");
        foreach (var g in LeadGroups)
            problems.Require(g.Length > 0 && g.All(i => i >= 0 && i < leads) && g.Distinct().Count() == g.Length, "ssl.astcl.lead_groups",
                "[" + string.Join(", ", g) + "]", $"each group needs distinct lead indices in 0…{leads - 1}");
        problems.Require(SamplingRate > 0, "dataset.sampling_rate", SamplingRate, "must be positive");
        problems.Require(MaxBaselineWander >= 0, "ssl.astcl.max_baseline_wander", MaxBaselineWander, "must be ≥ 0");
        problems.Require(BaselineWanderHz.Length == 2 && BaselineWanderHz[0] >= 0 && BaselineWanderHz[0] <= BaselineWanderHz[1],
            "ssl.astcl.baseline_wander_hz", "[" + string.Join(", ", BaselineWanderHz) + "]", "must be [low, high] with 0 ≤ low ≤ high");
        problems.Require(MaxEmgNoise >= 0, "ssl.astcl.max_emg_noise", MaxEmgNoise, "must be ≥ 0");
        problems.Require(MaxPowerline >= 0, "ssl.astcl.max_powerline", MaxPowerline, "must be ≥ 0");
        problems.Require(PowerlineHz > 0, "ssl.astcl.powerline_hz", PowerlineHz, "must be positive");
        problems.Require(LowpassSeconds >= 0, "ssl.astcl.lowpass_seconds", LowpassSeconds, "must be ≥ 0");
        problems.Require(BaselineSeconds >= 0, "ssl.astcl.baseline_seconds", BaselineSeconds, "must be ≥ 0");
        problems.Require(AdversaryHidden > 0, "ssl.astcl.adversary_hidden", AdversaryHidden, "must be positive");
        problems.Require(DiscriminatorHidden > 0, "ssl.astcl.discriminator_hidden", DiscriminatorHidden, "must be positive");
        problems.Require(AdversaryLambda >= 0, "ssl.astcl.adversary_lambda", AdversaryLambda, "must be ≥ 0");
        problems.Require(DiscriminatorLambda >= 0, "ssl.astcl.discriminator_lambda", DiscriminatorLambda, "must be ≥ 0");
        problems.Require(EmbeddingDim > 0, "ssl.astcl.embedding_dim", EmbeddingDim, "must be positive");
        problems.Require(Temperature > 0, "ssl.astcl.temperature", Temperature, "must be > 0");
    }

    /// <summary><see cref="SegmentLength"/>, or half of <paramref name="seqLength"/> when unset.</summary>
    public int EffectiveSegmentLength(int seqLength) => SegmentLength ?? seqLength / 2;
}
