using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>Settings of <see cref="Astcl"/> (YAML keys are the snake_case property names, e.g. <c>max_baseline_wander</c>).</summary>
public sealed record AstclConfig
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

    /// <summary>Checks the values against the input length and lead count.</summary>
    /// <exception cref="ArgumentException">A value is out of range, naming the key.</exception>
    public void Validate(int seqLength, int leads)
    {
        int s = EffectiveSegmentLength(seqLength);
        Require(s > 0 && 2 * s <= seqLength, "segment_length", s, $"must be positive and fit twice into the input length {seqLength}");
        Require(LeadGroups.Length == 2, "lead_groups", LeadGroups.Length, "must name exactly 2 groups");
        foreach (var g in LeadGroups)
            Require(g.Length > 0 && g.All(i => i >= 0 && i < leads) && g.Distinct().Count() == g.Length, "lead_groups",
                "[" + string.Join(", ", g) + "]", $"each group needs distinct lead indices in 0…{leads - 1}");
        Require(SamplingRate > 0, "sampling_rate", SamplingRate, "must be positive");
        Require(MaxBaselineWander >= 0, "max_baseline_wander", MaxBaselineWander, "must be ≥ 0");
        Require(BaselineWanderHz.Length == 2 && BaselineWanderHz[0] >= 0 && BaselineWanderHz[0] <= BaselineWanderHz[1],
            "baseline_wander_hz", "[" + string.Join(", ", BaselineWanderHz) + "]", "must be [low, high] with 0 ≤ low ≤ high");
        Require(MaxEmgNoise >= 0, "max_emg_noise", MaxEmgNoise, "must be ≥ 0");
        Require(MaxPowerline >= 0, "max_powerline", MaxPowerline, "must be ≥ 0");
        Require(PowerlineHz > 0, "powerline_hz", PowerlineHz, "must be positive");
        Require(LowpassSeconds >= 0, "lowpass_seconds", LowpassSeconds, "must be ≥ 0");
        Require(BaselineSeconds >= 0, "baseline_seconds", BaselineSeconds, "must be ≥ 0");
        Require(AdversaryHidden > 0, "adversary_hidden", AdversaryHidden, "must be positive");
        Require(DiscriminatorHidden > 0, "discriminator_hidden", DiscriminatorHidden, "must be positive");
        Require(AdversaryLambda >= 0, "adversary_lambda", AdversaryLambda, "must be ≥ 0");
        Require(DiscriminatorLambda >= 0, "discriminator_lambda", DiscriminatorLambda, "must be ≥ 0");
        Require(EmbeddingDim > 0, "embedding_dim", EmbeddingDim, "must be positive");
        Require(Temperature > 0, "temperature", Temperature, "must be > 0");
    }

    /// <summary><see cref="SegmentLength"/>, or half of <paramref name="seqLength"/> when unset.</summary>
    public int EffectiveSegmentLength(int seqLength) => SegmentLength ?? seqLength / 2;

    private static void Require(bool ok, string key, object value, string why)
    {
        if (!ok) throw new ArgumentException($"ssl.astcl.{key} = {value} {why}");
    }
}

/// <summary>
/// ASTCL (Wang et al., IEEE TNNLS 2023, "Adversarial Spatiotemporal Contrastive Learning for Electrocardiogram
/// Signals") on the shared 12-lead backbone, as far as the paper's description allows (no code was released).
/// <para>
/// Augmentations from ECG noise attributes: a noise-enhanced view adds baseline wander (a sinusoid of random frequency
/// in <c>baseline_wander_hz</c> and phase), EMG noise (white Gaussian) and powerline interference (<c>powerline_hz</c>,
/// random phase) to each lead; a denoised view low-passes (moving average of <c>lowpass_seconds</c>) and subtracts the
/// baseline (moving average of <c>baseline_seconds</c>). The three noise amplitudes of every record and lead are chosen by
/// an adversarial perturbation module (an MLP over per-lead signal statistics, sigmoid-bounded by the <c>max_*</c>
/// settings) whose output passes a gradient-reversal layer: the one backward pass of the shared trainer makes the
/// encoder descend and the perturbation module ascend the contrastive loss (min-max without a second optimiser).
/// </para>
/// <para>
/// Spatiotemporal contrast, with patient-level positives (records of the same patient are positives when the batch names
/// patients, through <see cref="Clocs.PatientContrastiveLoss"/>): <c>temporal</c> contrasts the noise-enhanced first and
/// the denoised second of two adjacent segments; <c>spatial</c> contrasts, within the first segment, the noise-enhanced
/// first lead group and the denoised second lead group (leads outside a group zeroed). The adversarial game of the
/// paper's "discriminator and encoder" is the <c>adv</c> term: a discriminator learns to tell the enhanced views'
/// features from the denoised views' (binary cross-entropy), and its gradient into the encoder is reversed (scaled by
/// <c>discriminator_lambda</c>) so the encoder pulls both views into one distribution. (The perturbation module also
/// receives the <c>adv</c> gradient, reversed twice: it is pushed to make the enhanced views recognisable, which
/// favours stronger noise, like the reversed contrastive gradient, within the <c>max_*</c> bounds.)
/// </para>
/// <para>
/// Simplifications: the paper's spatiotemporal prediction with an alternating predictor/stop-gradient (SimSiam-style)
/// branch is replaced by the symmetric InfoNCE of CLOCS with in-batch negatives; the noise model is the three analytic
/// noise types above rather than recorded noise; as in <see cref="Clocs"/>, the backbone is built for one segment and
/// <see cref="Represent"/> averages the time-averaged feature maps of a record's non-overlapping segments.
/// </para>
/// </summary>
public sealed class Astcl : EcgSslMethod
{
    /// <summary>Name of the temporal-contrast term.</summary>
    public const string TemporalTerm = "temporal";
    /// <summary>Name of the spatial-contrast term.</summary>
    public const string SpatialTerm = "spatial";
    /// <summary>Name of the view-discriminator term.</summary>
    public const string AdversarialTerm = "adv";

    private readonly EcgEncoder ecg_encoder;
    private readonly Sequential projector;
    private readonly Sequential perturbation;
    private readonly Sequential discriminator;
    private readonly AstclConfig config;
    private readonly int segmentLength;
    private readonly long leads;

    /// <summary>Builds the method around <paramref name="encoder"/>, which takes <paramref name="segmentLength"/>-sample inputs of <paramref name="leads"/> leads.</summary>
    public Astcl(EcgEncoder encoder, int segmentLength, long leads, AstclConfig config) : base("astcl")
    {
        this.config = config;
        this.segmentLength = segmentLength;
        this.leads = leads;
        long c = encoder.OutputChannels;
        ecg_encoder = encoder;
        projector = Sequential(("0", Linear(c, c)), ("1", BatchNorm1d(c)), ("2", ReLU()), ("3", Linear(c, config.EmbeddingDim)));
        // Per-lead statistics (mean, std, mean |first difference|) of every lead → 3 noise amplitudes per lead in (0, 1).
        perturbation = Sequential(("0", Linear(3 * leads, config.AdversaryHidden)), ("1", ReLU()), ("2", Linear(config.AdversaryHidden, 3 * leads)));
        discriminator = Sequential(("0", Linear(c, config.DiscriminatorHidden)), ("1", ReLU()), ("2", Linear(config.DiscriminatorHidden, 1)));
        RegisterComponents();
    }

    /// <summary>Builds the shared backbone for segments of <paramref name="seqLength"/>-sample inputs and ASTCL's networks.</summary>
    /// <exception cref="ArgumentException">Invalid config for this input length or lead count.</exception>
    public static Astcl Create(NetworkConfig network, int seqLength, AstclConfig config)
    {
        config.Validate(seqLength, network.NumLeads);
        int s = config.EffectiveSegmentLength(seqLength);
        return new Astcl(ModelFactory.CreateEncoder(network, s), s, network.NumLeads, config);
    }

    /// <summary>The method's settings.</summary>
    public AstclConfig Config => config;

    /// <summary>Samples per segment, the input length of the backbone.</summary>
    public int SegmentLength => segmentLength;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } =
        new Dictionary<string, double> { [TemporalTerm] = 1.0, [SpatialTerm] = 1.0, [AdversarialTerm] = 1.0 };

    /// <inheritdoc/>
    public override long RepresentationDim => ecg_encoder.OutputChannels;

    /// <inheritdoc/>
    public override Tensor Represent(Tensor ecg) => SegmentViews.Represent(ecg_encoder, ecg, segmentLength);

    /// <summary>
    /// The adversary's noise amplitudes for <paramref name="ecg"/> <c>(B, leads, L)</c>: <c>(B, leads, 3)</c> — baseline
    /// wander, EMG standard deviation, powerline — each in (0, max). The output passes the gradient-reversal layer.
    /// </summary>
    public Tensor NoiseAmplitudes(Tensor ecg)
    {
        Tensor stats;
        using (no_grad())
        {
            var d = ecg.diff(dim: 2).abs().mean([2]);
            stats = stack([ecg.mean([2]), ecg.std(2), d], 2).reshape(ecg.shape[0], -1); // (B, 3·leads)
        }
        var unit = perturbation.forward(stats).sigmoid().view(ecg.shape[0], leads, 3);
        var max = tensor(new[] { (float)config.MaxBaselineWander, (float)config.MaxEmgNoise, (float)config.MaxPowerline }, device: ecg.device);
        return GradientReversal(unit, config.AdversaryLambda) * max;
    }

    /// <summary>
    /// Noise of the given amplitudes <c>(B, leads, 3)</c> over <paramref name="length"/> samples: baseline wander and powerline
    /// sinusoids of random phase (wander of random frequency) plus white EMG noise, <c>(B, leads, length)</c>.
    /// </summary>
    public Tensor Noise(Tensor amplitudes, long length)
    {
        long b = amplitudes.shape[0], n = amplitudes.shape[1];
        var dev = amplitudes.device;
        var time = arange(length, dtype: ScalarType.Float32, device: dev).div_(config.SamplingRate).view(1, 1, -1); // seconds
        double lo = config.BaselineWanderHz[0], hi = config.BaselineWanderHz[1];
        var wanderHz = rand(b, n, 1, device: dev).mul_(hi - lo).add_(lo);
        var phase1 = rand(b, n, 1, device: dev).mul_(2 * Math.PI);
        var phase2 = rand(b, n, 1, device: dev).mul_(2 * Math.PI);
        var wander = (time * wanderHz * (2 * Math.PI) + phase1).sin();
        var powerline = (time * (2 * Math.PI * config.PowerlineHz) + phase2).sin();
        var emg = randn(b, n, length, device: dev);
        var a = amplitudes.unsqueeze(3); // (B, leads, 3, 1)
        return a[.., .., 0] * wander + a[.., .., 1] * emg + a[.., .., 2] * powerline;
    }

    /// <summary>
    /// The denoised view of <paramref name="x"/> <c>(B, leads, L)</c>: a moving-average low-pass minus a moving-average
    /// baseline (edge samples replicated), same shape. Windows are whole samples, the baseline's at most L.
    /// </summary>
    public Tensor Denoise(Tensor x)
    {
        int lowpass = (int)Math.Round(config.LowpassSeconds * config.SamplingRate);
        int baseline = (int)Math.Min(Math.Round(config.BaselineSeconds * config.SamplingRate), x.shape[2]);
        var y = MovingAverage(x, lowpass);
        return baseline > 1 ? y - MovingAverage(y, baseline) : y;
    }

    // Centred moving average over the last dimension with replicated edges; windows ≤ 1 return the input.
    private static Tensor MovingAverage(Tensor x, int window)
    {
        if (window <= 1) return x;
        int left = (window - 1) / 2, right = window / 2;
        long b = x.shape[0], n = x.shape[1];
        var flat = x.reshape(b * n, 1, -1);
        var padded = functional.pad(flat, [left, right], PaddingModes.Replicate);
        return functional.avg_pool1d(padded, window, stride: 1).view(b, n, -1);
    }

    /// <summary>
    /// Gradient reversal: the value of <paramref name="x"/>, but the gradient flowing back is multiplied by −<paramref name="lambda"/>.
    /// Written as x̄ + (x − x̄)·(−λ) with x̄ = x detached, so the forward value is exactly x and no custom autograd function is needed.
    /// </summary>
    public static Tensor GradientReversal(Tensor x, double lambda)
    {
        var frozen = x.detach();
        return frozen + (x - frozen) * (-lambda);
    }

    /// <inheritdoc/>
    public override LossTerms Losses(EcgBatch batch)
    {
        var x = batch.Ecg; // (B, leads, L)
        long b = x.shape[0], l = x.shape[2];
        int s = segmentLength;
        if (b < 2) throw new ArgumentException($"ASTCL contrasts records of a batch: needs at least 2, got {b}");
        long o = randint(l - 2 * s + 1, [1]).ToInt64();
        var window = SegmentViews.Slice(x, o, 2 * s); // (B, leads, 2S): the two adjacent segments
        var enhanced = window + Noise(NoiseAmplitudes(window), 2 * s);
        var denoised = Denoise(window);
        var views = cat([
            SegmentViews.Slice(enhanced, 0, s),                                      // temporal, first segment, enhanced
            SegmentViews.Slice(denoised, s, s),                                      // temporal, second segment, denoised
            SegmentViews.MaskLeads(SegmentViews.Slice(enhanced, 0, s), config.LeadGroups[0]), // spatial, group 1, enhanced
            SegmentViews.MaskLeads(SegmentViews.Slice(denoised, 0, s), config.LeadGroups[1]), // spatial, group 2, denoised
        ], 0);
        var h = ecg_encoder.forward(views).mean([2]); // (4B, C)
        var z = projector.forward(h).view(4, b, -1);  // (4, B, E)
        var patients = config.PatientAware ? batch.Patients : null;
        var temporal = Clocs.PatientContrastiveLoss(z[0..2], patients, config.Temperature);
        var spatial = Clocs.PatientContrastiveLoss(z[2..4], patients, config.Temperature);
        // Enhanced views (0 and 2) are class 1, denoised views (1 and 3) class 0.
        var logits = discriminator.forward(GradientReversal(h, config.DiscriminatorLambda)).view(4, b);
        var labels = tensor(new float[] { 1, 0, 1, 0 }, device: x.device).view(4, 1).expand(4, b);
        var adv = functional.binary_cross_entropy_with_logits(logits, labels);
        return new LossTerms().Add(TemporalTerm, temporal).Add(SpatialTerm, spatial).Add(AdversarialTerm, adv);
    }
}
