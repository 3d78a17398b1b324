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
/// SimCLR (Chen et al., ICML 2020): two augmented views of each record go through the encoder, global average
/// pooling and the projector g (Linear → BN → ReLU → Linear); the NT-Xent loss pulls the two projections of a
/// record together against the other 2B − 2 projections of the batch. State-dict keys: <c>encoder.*</c>, <c>projector.*</c>.
/// </summary>
public sealed class SimClr : EcgSslMethod
{
    /// <summary>Name of the loss term.</summary>
    public const string Term = "nt_xent";

    private readonly EcgEncoder encoder;
    private readonly Sequential projector;
    private readonly EcgAugmentation augment;
    private readonly double temperature;

    /// <summary>SimCLR around <paramref name="encoder"/>.</summary>
    public SimClr(EcgEncoder encoder, SimClrConfig config, EcgAugmentation augment) : base("simclr")
    {
        this.encoder = encoder;
        projector = SslHeads.Mlp([encoder.OutputChannels, config.HiddenDim, config.OutputDim]);
        this.augment = augment;
        temperature = config.Temperature;
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
        long b = v1.shape[0];
        // Both views in one forward, as the reference implementation: BatchNorm statistics over all 2B views.
        var z = projector.forward(SslHeads.Pool(encoder, cat([v1, v2], 0)));        // (2B, D)
        return new LossTerms().Add(Term, NtXent(z[..(int)b], z[(int)b..], temperature));
    }

    /// <inheritdoc />
    public override Tensor Represent(Tensor ecg) => SslHeads.Pool(encoder, ecg);

    /// <summary>
    /// NT-Xent of paired projections z1, z2 <c>(B, D)</c>: with u the 2B L2-normalised rows of [z1; z2] and
    /// s_ij = u_i·u_j / τ, the mean over i of −log(exp(s_i,pos(i)) / Σ_{j≠i} exp(s_ij)), pos(i) the other view of i's record.
    /// </summary>
    public static Tensor NtXent(Tensor z1, Tensor z2, double temperature)
    {
        using var scope = NewDisposeScope();
        long b = z1.shape[0];
        var u = functional.normalize(cat([z1, z2], 0), dim: 1);                    // (2B, D)
        // Owned Scalars: the temperature is the caller's and the batch size changes at run time.
        using var tau = temperature.ToScalar();
        using var batch = b.ToScalar();
        using var twoBatch = (2 * b).ToScalar();
        var sim = u.matmul(u.t()).div(tau);                                          // (2B, 2B)
        sim = sim.masked_fill(eye(2 * b, dtype: ScalarType.Bool, device: sim.device), Scalars.Constant(double.NegativeInfinity));
        var targets = cat([arange(batch, twoBatch, Scalars.One, device: sim.device), arange(Scalars.Zero, batch, Scalars.One, device: sim.device)], 0);
        return functional.cross_entropy(sim, targets).MoveToOuterDisposeScope();
    }
}
