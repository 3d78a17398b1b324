using Deri.Models.Layers;
using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Runtime;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

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
        projector = Sequential(("0", Linear(c, c)), ("1", new OwnedBatchNorm1d(c)), ("2", ReLU()), ("3", Linear(c, config.EmbeddingDim)));
        // Per-lead statistics (mean, std, mean |first difference|) of every lead → 3 noise amplitudes per lead in (0, 1).
        perturbation = Sequential(("0", Linear(3 * leads, config.AdversaryHidden)), ("1", ReLU()), ("2", Linear(config.AdversaryHidden, 3 * leads)));
        discriminator = Sequential(("0", Linear(c, config.DiscriminatorHidden)), ("1", ReLU()), ("2", Linear(config.DiscriminatorHidden, 1)));
        RegisterComponents();
    }

    /// <summary>Builds the shared backbone for segments of <paramref name="seqLength"/>-sample inputs and ASTCL's networks.</summary>
    /// <exception cref="ArgumentException">Invalid config for this input length or lead count.</exception>
    public static Astcl Create(NetworkConfig network, int seqLength, AstclConfig config)
    {
        config.Validated(network.NumLeads, seqLength);
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
        using var samples = length.ToScalar(); // the input's length changes at run time: owned, not a cached constant
        var time = arange(Scalars.Zero, samples, Scalars.One, dtype: ScalarType.Float32, device: dev)
            .div_(Scalars.Constant(config.SamplingRate)).view(1, 1, -1); // seconds
        double lo = config.BaselineWanderHz[0], hi = config.BaselineWanderHz[1];
        var twoPi = Scalars.Constant(2 * Math.PI);
        var wanderHz = rand(b, n, 1, device: dev).mul_(Scalars.Constant(hi - lo)).add_(Scalars.Constant(lo), Scalars.One);
        var phase1 = rand(b, n, 1, device: dev).mul_(twoPi);
        var phase2 = rand(b, n, 1, device: dev).mul_(twoPi);
        var wander = time.mul(wanderHz).mul(twoPi).add(phase1, Scalars.One).sin();
        var powerline = time.mul(Scalars.Constant(2 * Math.PI * config.PowerlineHz)).add(phase2, Scalars.One).sin();
        var emg = randn(b, n, length, device: dev);
        var a = amplitudes.unsqueeze(3); // (B, leads, 3, 1)
        return a[.., .., 0].mul(wander).add(a[.., .., 1].mul(emg), Scalars.One).add(a[.., .., 2].mul(powerline), Scalars.One);
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
        using var factor = (-lambda).ToScalar(); // a caller's value, not necessarily a configuration constant
        return frozen.add(x.sub(frozen).mul(factor), Scalars.One);
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
        var enhanced = window.add(Noise(NoiseAmplitudes(window), 2 * s), Scalars.One);
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
