using Deri.Config;
using Deri.Models.Encoders;
using Deri.Runtime;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Baselines;

/// <summary>
/// Barlow Twins (Zbontar et al., ICML 2021): the projections z1, z2 <c>(B, D)</c> of two views (encoder → projector of
/// three linear layers, BN and ReLU between) are standardised over the batch, their cross-correlation
/// C = z̃1ᵀ·z̃2 / B <c>(D, D)</c> is driven to the identity: Σ_i (1 − C_ii)² + λ·Σ_{i≠j} C_ij².
/// Terms: <c>barlow_twins</c> (the objective), and <c>on_diag</c> and <c>off_diag</c> (its two sums, logged with weight 0).
/// State-dict keys: <c>encoder.*</c>, <c>projector.*</c>.
/// </summary>
public sealed class BarlowTwins : EcgSslMethod
{
    /// <summary>Name of the objective's term.</summary>
    public const string Term = "barlow_twins";

    private readonly EcgEncoder encoder;
    private readonly Sequential projector;
    private readonly EcgAugmentation augment;
    private readonly double lambda;

    /// <summary>Barlow Twins around <paramref name="encoder"/>.</summary>
    public BarlowTwins(EcgEncoder encoder, BarlowTwinsConfig config, EcgAugmentation augment) : base("barlowtwins")
    {
        this.encoder = encoder;
        projector = SslHeads.Mlp([encoder.OutputChannels, config.HiddenDim, config.HiddenDim, config.OutputDim]);
        this.augment = augment;
        lambda = config.Lambda;
        RegisterComponents();
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } =
        new Dictionary<string, double> { [Term] = 1, ["on_diag"] = 0, ["off_diag"] = 0 };

    /// <inheritdoc />
    public override long RepresentationDim => encoder.OutputChannels;

    /// <inheritdoc />
    public override LossTerms Losses(EcgBatch batch)
    {
        var (v1, v2) = augment.TwoViews(batch.Ecg);
        var z1 = projector.forward(SslHeads.Pool(encoder, v1));                    // (B, D)
        var z2 = projector.forward(SslHeads.Pool(encoder, v2));
        var (on, off) = CrossCorrelationSums(z1, z2);
        return new LossTerms().Add(Term, on.add(off.mul(Scalars.Constant(lambda)), Scalars.One)).Add("on_diag", on.detach()).Add("off_diag", off.detach());
    }

    /// <inheritdoc />
    public override Tensor Represent(Tensor ecg) => SslHeads.Pool(encoder, ecg);

    /// <summary>
    /// The two sums of the objective for projections <c>(B, D)</c>: each column standardised with the batch mean and
    /// biased variance (+1e-5, as the reference's affine-free BatchNorm), C = z̃1ᵀ·z̃2 / B, then
    /// (Σ_i (1 − C_ii)², Σ_{i≠j} C_ij²).
    /// </summary>
    public static (Tensor OnDiagonal, Tensor OffDiagonal) CrossCorrelationSums(Tensor z1, Tensor z2)
    {
        using var scope = NewDisposeScope();
        long b = z1.shape[0], d = z1.shape[1];
        using var batch = b.ToScalar(); // the batch size changes at run time: owned, not a cached constant
        var two = Scalars.Constant(2L);
        var c = Standardise(z1).t().matmul(Standardise(z2)).div(batch);             // (D, D)
        var diag = c.diagonal();
        var on = diag.negative().add(Scalars.One, Scalars.One).pow(two).sum();       // Σ (1 − C_ii)²
        var off = c.pow(two).sum() - diag.pow(two).sum();
        return (on.MoveToOuterDisposeScope(), off.MoveToOuterDisposeScope());
    }

    /// <summary>The Barlow Twins loss on + λ·off of <see cref="CrossCorrelationSums"/>.</summary>
    public static Tensor Loss(Tensor z1, Tensor z2, double lambda)
    {
        var (on, off) = CrossCorrelationSums(z1, z2);
        using (on)
        using (off)
        using (var weight = lambda.ToScalar())
            return on.add(off.mul(weight), Scalars.One);
    }

    private static Tensor Standardise(Tensor z)
    {
        var mean = z.mean([0], keepdim: true);
        var variance = (z - mean).pow(Scalars.Constant(2L)).mean([0], keepdim: true);
        return (z - mean) / variance.add(Scalars.Constant(1e-5), Scalars.One).sqrt();
    }
}
