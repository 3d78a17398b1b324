using Deri.Config;
using Deri.Models.Encoders;
using Deri.Runtime;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>
/// MoCo v3 (Chen, Xie and He, ICCV 2021), its ResNet variant: a base encoder with a projector (Linear → BN → ReLU →
/// Linear → BN without affine) and a predictor (Linear → BN → ReLU → Linear) gives queries q; a momentum encoder and
/// projector (EMA of the base ones, momentum rising from <c>ssl.mocov3.momentum</c> to 1 on a cosine) give keys k.
/// Loss: the symmetric InfoNCE ctr(q1, k2) + ctr(q2, k1), ctr(q, k) = 2τ · CE(q̂·k̂ᵀ/τ, diagonal), the keys of the
/// batch's other records being the negatives. State-dict keys: <c>encoder</c>, <c>projector</c>, <c>predictor</c>,
/// <c>momentum_encoder</c>, <c>momentum_projector</c>, <c>ema_step</c>.
/// </summary>
public sealed class MocoV3 : EcgSslMethod
{
    /// <summary>Name of the loss term.</summary>
    public const string Term = "infonce";

    private readonly EcgEncoder encoder;
    private readonly Sequential projector;
    private readonly Sequential predictor;
    private readonly EcgEncoder momentum_encoder;
    private readonly Sequential momentum_projector;
    private readonly EcgAugmentation augment;
    private readonly double temperature;
    private readonly MomentumTeacher teacher;

    /// <summary>MoCo v3 with encoders made by <paramref name="createEncoder"/> (called twice: base and momentum).</summary>
    /// <param name="createEncoder">Builds the backbone.</param>
    /// <param name="config">Head widths, temperature and momentum.</param>
    /// <param name="augment">The two-view augmentation.</param>
    /// <param name="totalSteps">Optimizer steps of the whole run (K of the momentum schedule); 0 keeps the momentum constant.</param>
    public MocoV3(Func<EcgEncoder> createEncoder, MocoV3Config config, EcgAugmentation augment, long totalSteps) : base("mocov3")
    {
        encoder = createEncoder();
        long c = encoder.OutputChannels;
        projector = SslHeads.Mlp([c, config.HiddenDim, config.OutputDim], lastBatchNorm: false);
        predictor = SslHeads.Mlp([config.OutputDim, config.PredictorHiddenDim, config.OutputDim]);
        momentum_encoder = createEncoder();
        momentum_projector = SslHeads.Mlp([c, config.HiddenDim, config.OutputDim], lastBatchNorm: false);
        this.augment = augment;
        temperature = config.Temperature;
        RegisterComponents();
        teacher = new MomentumTeacher(this, config.Momentum, totalSteps, (encoder, momentum_encoder), (projector, momentum_projector));
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } = new Dictionary<string, double> { [Term] = 1 };

    /// <inheritdoc />
    public override long RepresentationDim => encoder.OutputChannels;

    /// <summary>Momentum updates done so far (the k of the momentum schedule).</summary>
    public long EmaSteps => teacher.Steps;

    /// <summary>The momentum the next update uses.</summary>
    public double CurrentMomentum => teacher.CurrentMomentum;

    /// <inheritdoc />
    public override void BeforeTrainStep() => teacher.Update();

    /// <inheritdoc />
    public override LossTerms Losses(EcgBatch batch)
    {
        var (v1, v2) = augment.TwoViews(batch.Ecg);
        var q1 = predictor.forward(projector.forward(SslHeads.Pool(encoder, v1)));        // (B, D)
        var q2 = predictor.forward(projector.forward(SslHeads.Pool(encoder, v2)));
        Tensor k1, k2;
        using (no_grad())
        {
            k1 = momentum_projector.forward(SslHeads.Pool(momentum_encoder, v1));
            k2 = momentum_projector.forward(SslHeads.Pool(momentum_encoder, v2));
        }
        return new LossTerms().Add(Term, ContrastiveLoss(q1, k2, temperature).add(ContrastiveLoss(q2, k1, temperature), Scalars.One));
    }

    /// <inheritdoc />
    public override Tensor Represent(Tensor ecg) => SslHeads.Pool(encoder, ecg);

    /// <summary>
    /// MoCo v3's ctr(q, k) for <c>(B, D)</c> queries and keys: 2τ · mean_i −log softmax_j(q̂_i·k̂_j / τ)_i, k̂ without gradient.
    /// </summary>
    public static Tensor ContrastiveLoss(Tensor q, Tensor k, double temperature)
    {
        using var scope = NewDisposeScope();
        // Owned Scalars: the temperature is the caller's and the batch size changes at run time.
        using var tau = temperature.ToScalar();
        using var twoTau = (2 * temperature).ToScalar();
        using var batch = q.shape[0].ToScalar();
        var logits = functional.normalize(q, dim: 1).matmul(functional.normalize(k.detach(), dim: 1).t()).div(tau); // (B, B)
        var labels = arange(Scalars.Zero, batch, Scalars.One, device: q.device);
        return functional.cross_entropy(logits, labels).mul(twoTau).MoveToOuterDisposeScope();
    }
}
