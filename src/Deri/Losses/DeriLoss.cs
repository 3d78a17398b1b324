using Deri.Config;
using Deri.Models;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Losses;

/// <summary>
/// The pretraining objective (METHOD §3) over a <see cref="DeriOutput"/>: CMA = clip(e, t),
/// CMA-mix = clip(m_e, m_t), UMA = clip(v1, v2), REC-ECG = clip(g, d_e), REC-TEXT = clip(pooled, d_t),
/// weighted by <see cref="LossConfig"/> (release: all 1 but REC-TEXT 0). MERL outputs give CMA and UMA only.
/// </summary>
/// <remarks>
/// <see cref="forward"/> returns the unweighted terms; their total is <see cref="LossTerms.Weighted"/>
/// with <see cref="Weights"/> (see <see cref="Total"/>), the same method the trainer uses.
/// </remarks>
public sealed class DeriLoss : nn.Module<DeriOutput, Tensor, LossTerms>
{
    private readonly ClipLoss clip;
    private readonly LossConfig config;

    /// <summary>Loss with the given temperature and weights.</summary>
    public DeriLoss(LossConfig config) : base("deri_loss")
    {
        config.Validate();
        this.config = config;
        Weights = LossTermNames.WeightsOf(config);
        clip = new ClipLoss(config.Temperature);
    }

    /// <summary>The weight of each term by name (<see cref="LossTermNames"/>).</summary>
    public IReadOnlyDictionary<string, double> Weights { get; }

    /// <summary>
    /// Computes every available term as an unweighted scalar; <paramref name="pooled"/> (B, text dim) is
    /// the text input of the forward. REC-TEXT with weight 0 is computed without a graph (logged only).
    /// </summary>
    public override LossTerms forward(DeriOutput output, Tensor pooled)
    {
        using var scope = NewDisposeScope();
        var terms = new List<(string Name, Tensor Value)>
        {
            (LossTermNames.Cma, clip.forward(output.AlignedEcg, output.AlignedText)),
        };
        if (output.MixedEcg is not null && output.MixedText is not null)
            terms.Add((LossTermNames.CmaMix, clip.forward(output.MixedEcg, output.MixedText)));
        terms.Add((LossTermNames.Uma, clip.forward(output.View1, output.View2)));
        if (output.DecodedEcg is not null)
            terms.Add((LossTermNames.RecEcg, clip.forward(output.GlobalEcg, output.DecodedEcg)));
        if (output.DecodedText is not null)
        {
            // With weight 0 (the release) the term is only logged: computed without building a graph.
            using var _ = config.RecText == 0 ? no_grad() : null;
            terms.Add((LossTermNames.RecText, clip.forward(pooled, output.DecodedText)));
        }
        var result = new LossTerms();
        foreach (var (name, value) in terms) result.Add(name, value.MoveToOuterDisposeScope());
        return result;
    }

    /// <summary>Σ weight·term of <paramref name="terms"/> with this loss's <see cref="Weights"/>; call backward on it.</summary>
    public Tensor Total(LossTerms terms) => terms.Weighted(Weights);
}
