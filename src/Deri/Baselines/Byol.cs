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
/// BYOL (Grill et al., NeurIPS 2020): an online network (encoder → projector → predictor) regresses the target
/// network's projection of the other view; the target (encoder → projector) is an exponential moving average of
/// the online weights with a momentum rising from <c>ssl.byol.momentum</c> to 1 on a cosine over training.
/// Loss: the symmetrised normalised MSE, 2 − 2·cos(p(v1), z'(v2)) + 2 − 2·cos(p(v2), z'(v1)), averaged over the batch.
/// State-dict keys: <c>encoder</c>, <c>projector</c>, <c>predictor</c>, <c>target_encoder</c>, <c>target_projector</c>
/// and the EMA step counter <c>ema_step</c>.
/// </summary>
public sealed class Byol : EcgSslMethod
{
    /// <summary>Name of the loss term.</summary>
    public const string Term = "byol";

    private readonly EcgEncoder encoder;
    private readonly Sequential projector;
    private readonly Sequential predictor;
    private readonly EcgEncoder target_encoder;
    private readonly Sequential target_projector;
    private readonly EcgAugmentation augment;
    private readonly MomentumTeacher teacher;

    /// <summary>BYOL with encoders made by <paramref name="createEncoder"/> (called twice: online and target).</summary>
    /// <param name="createEncoder">Builds the backbone.</param>
    /// <param name="config">Head widths and momentum.</param>
    /// <param name="augment">The two-view augmentation.</param>
    /// <param name="totalSteps">Optimizer steps of the whole run (K of the momentum schedule); 0 keeps the momentum constant.</param>
    public Byol(Func<EcgEncoder> createEncoder, ByolConfig config, EcgAugmentation augment, long totalSteps) : base("byol")
    {
        encoder = createEncoder();
        long c = encoder.OutputChannels;
        projector = SslHeads.Mlp([c, config.HiddenDim, config.OutputDim]);
        predictor = SslHeads.Mlp([config.OutputDim, config.PredictorHiddenDim, config.OutputDim]);
        target_encoder = createEncoder();
        target_projector = SslHeads.Mlp([c, config.HiddenDim, config.OutputDim]);
        this.augment = augment;
        RegisterComponents();
        teacher = new MomentumTeacher(this, config.Momentum, totalSteps, (encoder, target_encoder), (projector, target_projector));
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } = new Dictionary<string, double> { [Term] = 1 };

    /// <inheritdoc />
    public override long RepresentationDim => encoder.OutputChannels;

    /// <summary>Target updates done so far (the k of the momentum schedule).</summary>
    public long EmaSteps => teacher.Steps;

    /// <summary>The momentum the next target update uses.</summary>
    public double CurrentMomentum => teacher.CurrentMomentum;

    /// <inheritdoc />
    public override void BeforeTrainStep() => teacher.Update();

    /// <inheritdoc />
    public override LossTerms Losses(EcgBatch batch)
    {
        var (v1, v2) = augment.TwoViews(batch.Ecg);
        var p1 = predictor.forward(projector.forward(SslHeads.Pool(encoder, v1)));        // (B, D)
        var p2 = predictor.forward(projector.forward(SslHeads.Pool(encoder, v2)));
        Tensor t1, t2;
        using (no_grad())
        {
            t1 = target_projector.forward(SslHeads.Pool(target_encoder, v1));
            t2 = target_projector.forward(SslHeads.Pool(target_encoder, v2));
        }
        return new LossTerms().Add(Term, RegressionLoss(p1, t2).add(RegressionLoss(p2, t1), Scalars.One));
    }

    /// <inheritdoc />
    public override Tensor Represent(Tensor ecg) => SslHeads.Pool(encoder, ecg);

    /// <summary>BYOL's normalised MSE ‖p/‖p‖ − z/‖z‖‖² = 2 − 2·cos(p, z), averaged over the rows of <c>(B, D)</c>; z gets no gradient.</summary>
    public static Tensor RegressionLoss(Tensor p, Tensor z)
    {
        using var scope = NewDisposeScope();
        var cos = functional.cosine_similarity(p, z.detach(), dim: 1);
        var two = Scalars.Constant(2L);
        return cos.mul(two).negative().add(two, Scalars.One).mean().MoveToOuterDisposeScope(); // 2 − 2·cos
    }
}
