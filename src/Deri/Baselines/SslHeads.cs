using Deri.Models.Layers;
using Deri.Models.Encoders;
using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>
/// The pieces the siamese baselines share: MLP heads built as the papers' reference code builds them
/// (state-dict keys <c>0.weight</c>, <c>1.running_mean</c> … as in <c>nn.Sequential</c>), global average
/// pooling of the backbone's feature map, and the exponential moving average of a momentum (target) network.
/// </summary>
public static class SslHeads
{
    /// <summary>
    /// An MLP of <paramref name="widths"/>.Count − 1 linear layers: every layer but the last is followed by
    /// BatchNorm1d and ReLU. <paramref name="lastBatchNorm"/> adds a BatchNorm1d after the last layer (affine or not).
    /// Linear layers followed by a BatchNorm have no bias (the norm's shift replaces it).
    /// </summary>
    /// <param name="widths">Input width, hidden widths, output width.</param>
    /// <param name="lastBatchNorm">null: the last layer is plain (with bias); true/false: a BatchNorm1d with/without affine parameters follows it.</param>
    public static Sequential Mlp(IReadOnlyList<long> widths, bool? lastBatchNorm = null)
    {
        if (widths.Count < 2) throw new ArgumentException("an MLP needs an input and an output width", nameof(widths));
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        void Add(Module<Tensor, Tensor> m) => layers.Add(($"{layers.Count}", m));
        for (int i = 0; i + 1 < widths.Count; i++)
        {
            bool last = i + 2 == widths.Count;
            bool norm = !last || lastBatchNorm is not null;
            Add(Linear(widths[i], widths[i + 1], hasBias: !norm));
            if (norm) Add(new OwnedBatchNorm1d(widths[i + 1], affine: !last || lastBatchNorm == true));
            if (!last) Add(ReLU());
        }
        return Sequential(layers);
    }

    /// <summary>The representation of a backbone: its feature map <c>(B, C, T)</c> averaged over time → <c>(B, C)</c>.</summary>
    public static Tensor Pool(EcgEncoder encoder, Tensor ecg)
    {
        using var scope = NewDisposeScope();
        return encoder.forward(ecg).mean([-1]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Makes <paramref name="target"/> a frozen copy of <paramref name="online"/>: same parameter and buffer values,
    /// <c>requires_grad</c> off (the optimizer never sees it; <see cref="Ema"/> moves it).
    /// </summary>
    /// <exception cref="ArgumentException">The two modules do not have the same parameters.</exception>
    public static void CopyToTarget(Module online, Module target)
    {
        using var _ = no_grad();
        var src = online.named_parameters().ToList();
        var dst = target.named_parameters().ToList();
        Require(src.Select(p => p.name), dst.Select(p => p.name));
        for (int i = 0; i < src.Count; i++)
        {
            dst[i].parameter.copy_(src[i].parameter);
            dst[i].parameter.requires_grad = false;
        }
        var sb = online.named_buffers().ToList();
        var db = target.named_buffers().ToList();
        Require(sb.Select(p => p.name), db.Select(p => p.name));
        for (int i = 0; i < sb.Count; i++) db[i].buffer.copy_(sb[i].buffer);
    }

    /// <summary>
    /// target ← m·target + (1 − m)·online for every parameter (in place, without gradients). Buffers (BatchNorm
    /// running statistics) are the target's own, as in BYOL and MoCo v3.
    /// </summary>
    public static void Ema(Module online, Module target, double momentum)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // The momentum follows a schedule (it changes every step): owned Scalars, not cached constants.
        using var keep = momentum.ToScalar();
        using var mix = (1 - momentum).ToScalar();
        foreach (var (o, t) in online.parameters().Zip(target.parameters()))
            t.mul_(keep).add_(o, alpha: mix);
    }

    /// <summary>
    /// The cosine momentum schedule of BYOL and MoCo v3: <c>1 − (1 − m_base)·(cos(π·k/K) + 1)/2</c>, rising from
    /// m_base at step 0 to 1 at step K; constant m_base when <paramref name="totalSteps"/> is 0 (unknown).
    /// </summary>
    public static double CosineMomentum(double baseMomentum, long step, long totalSteps)
    {
        if (totalSteps <= 0) return baseMomentum;
        double progress = Math.Min(1.0, (double)step / totalSteps);
        return 1 - (1 - baseMomentum) * (Math.Cos(Math.PI * progress) + 1) / 2;
    }

    private static void Require(IEnumerable<string> a, IEnumerable<string> b)
    {
        if (!a.SequenceEqual(b)) throw new ArgumentException("the target network does not have the online network's parameters");
    }
}
