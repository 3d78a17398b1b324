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
/// SimSiam (Chen and He, CVPR 2021): encoder → projector (three linear layers with BN, ReLU between, BN without affine
/// at the end) gives z; a bottleneck predictor (Linear → BN → ReLU → Linear) gives p; the loss is the symmetric
/// negative cosine ½·D(p1, sg(z2)) + ½·D(p2, sg(z1)), D(p, z) = −cos(p, z), with a stop-gradient on z and no
/// momentum encoder. State-dict keys: <c>encoder.*</c>, <c>projector.*</c>, <c>predictor.*</c>.
/// </summary>
public sealed class SimSiam : EcgSslMethod
{
    /// <summary>Name of the loss term.</summary>
    public const string Term = "neg_cosine";

    private readonly EcgEncoder encoder;
    private readonly Sequential projector;
    private readonly Sequential predictor;
    private readonly EcgAugmentation augment;

    /// <summary>SimSiam around <paramref name="encoder"/>.</summary>
    public SimSiam(EcgEncoder encoder, SimSiamConfig config, EcgAugmentation augment) : base("simsiam")
    {
        this.encoder = encoder;
        projector = SslHeads.Mlp([encoder.OutputChannels, config.HiddenDim, config.HiddenDim, config.OutputDim], lastBatchNorm: false);
        predictor = SslHeads.Mlp([config.OutputDim, config.PredictorHiddenDim, config.OutputDim]);
        this.augment = augment;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } = new Dictionary<string, double> { [Term] = 1 };

    /// <inheritdoc />
    public override long RepresentationDim => encoder.OutputChannels;

    /// <inheritdoc />
    public override LossTerms Losses(EcgBatch batch)
    {
        var (v1, v2) = augment.TwoViews(batch.Ecg);
        var z1 = projector.forward(SslHeads.Pool(encoder, v1));                    // (B, D)
        var z2 = projector.forward(SslHeads.Pool(encoder, v2));
        var p1 = predictor.forward(z1);
        var p2 = predictor.forward(z2);
        var half = Scalars.Constant(0.5);
        return new LossTerms().Add(Term, NegativeCosine(p1, z2).mul(half).add(NegativeCosine(p2, z1).mul(half), Scalars.One));
    }

    /// <inheritdoc />
    public override Tensor Represent(Tensor ecg) => SslHeads.Pool(encoder, ecg);

    /// <summary>D(p, z) = −mean_i cos(p_i, z_i) over rows of <c>(B, D)</c>, with z detached (the stop-gradient).</summary>
    public static Tensor NegativeCosine(Tensor p, Tensor z)
    {
        using var scope = NewDisposeScope();
        return (-functional.cosine_similarity(p, z.detach(), dim: 1).mean()).MoveToOuterDisposeScope();
    }
}
