using Deri.Config;
using Deri.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Losses;

/// <summary>
/// The pretraining objective (METHOD §3) over a <see cref="DeriOutput"/>: CMA = clip(e, t),
/// CMA-mix = clip(m_e, m_t), UMA = clip(v1, v2), REC-ECG = clip(g, d_e), REC-TEXT = clip(pooled, d_t),
/// weighted by <see cref="LossConfig"/> (release: all 1 but REC-TEXT 0). MERL outputs give CMA and UMA only.
/// </summary>
public sealed class DeriLoss : nn.Module<DeriOutput, Tensor, LossTerms>
{
    private readonly ClipLoss clip;
    private readonly LossConfig weights;

    /// <summary>Loss with the given temperature and weights.</summary>
    public DeriLoss(LossConfig config) : base("deri_loss")
    {
        config.Validate();
        weights = config;
        clip = new ClipLoss(config.Temperature);
    }

    /// <summary>Computes every available term; <paramref name="pooled"/> (B, text dim) is the text input of the forward.</summary>
    public override LossTerms forward(DeriOutput output, Tensor pooled)
    {
        using var scope = NewDisposeScope();
        var terms = new List<(string Name, double Weight, Tensor Value)>
        {
            (LossTerms.Cma, weights.Cma, clip.forward(output.AlignedEcg, output.AlignedText)),
        };
        if (output.MixedEcg is not null && output.MixedText is not null)
            terms.Add((LossTerms.CmaMix, weights.CmaMix, clip.forward(output.MixedEcg, output.MixedText)));
        terms.Add((LossTerms.Uma, weights.Uma, clip.forward(output.View1, output.View2)));
        if (output.DecodedEcg is not null)
            terms.Add((LossTerms.RecEcg, weights.RecEcg, clip.forward(output.GlobalEcg, output.DecodedEcg)));
        if (output.DecodedText is not null)
        {
            // With weight 0 (the release) the term is only logged: computed without building a graph.
            using var _ = weights.RecText == 0 ? no_grad() : null;
            terms.Add((LossTerms.RecText, weights.RecText, clip.forward(pooled, output.DecodedText)));
        }
        Tensor? total = null;
        foreach (var (_, w, value) in terms.Where(t => t.Weight != 0))
            total = total is null ? (w == 1 ? value : value * w) : total + (w == 1 ? value : value * w);
        total ??= zeros([], device: pooled.device);
        var named = terms.Select(t => new KeyValuePair<string, Tensor>(t.Name, t.Value.MoveToOuterDisposeScope())).ToList();
        return new LossTerms(named, total.MoveToOuterDisposeScope());
    }
}
