using static TorchSharp.torch;

namespace Deri.Models;

/// <summary>
/// Everything one training forward of <see cref="DeriModel"/> produces (METHOD §2.8), d = projection size.
/// Decoder outputs and mixed embeddings are null for MERL. Disposing disposes every tensor.
/// </summary>
public sealed class DeriOutput : IDisposable
{
    /// <summary>ECG tokens E after attention pooling, (B, n, d), not normalised.</summary>
    public required Tensor Tokens { get; init; }

    /// <summary>Aligned ECG embedding e = mean_tokens(normalize(E)), (B, d).</summary>
    public required Tensor AlignedEcg { get; init; }

    /// <summary>Aligned text embedding t = normalize(proj_t(pooled)), (B, d).</summary>
    public required Tensor AlignedText { get; init; }

    /// <summary>Global ECG embedding g = mean_time(F), (B, d).</summary>
    public required Tensor GlobalEcg { get; init; }

    /// <summary>First uni-modal view (DERI: RME view 1 mean-pooled; MERL: dropout view 1), (B, d).</summary>
    public required Tensor View1 { get; init; }

    /// <summary>Second uni-modal view, (B, d).</summary>
    public required Tensor View2 { get; init; }

    /// <summary>Mixed ECG embedding m_e = e + proj_t(d_t), (B, d); null for MERL.</summary>
    public Tensor? MixedEcg { get; init; }

    /// <summary>Mixed text embedding m_t = t + d_e, (B, d); null for MERL.</summary>
    public Tensor? MixedText { get; init; }

    /// <summary>Text→ECG decoder output mean-pooled, d_e (B, d); null for MERL.</summary>
    public Tensor? DecodedEcg { get; init; }

    /// <summary>ECG→text decoder output mean-pooled, d_t (B, text feature dim); null for MERL.</summary>
    public Tensor? DecodedText { get; init; }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in new[] { Tokens, AlignedEcg, AlignedText, GlobalEcg, View1, View2, MixedEcg, MixedText, DecodedEcg, DecodedText })
            t?.Dispose();
    }
}

/// <summary>Which frozen feature <see cref="DeriModel.ProbeFeature"/> returns (METHOD §4).</summary>
public enum ProbeFeatureKind
{
    /// <summary>The release's DERI feature: mean_tokens(E) + proj_t(mean(D_t([E; sep]))), not normalised.</summary>
    Mixed,
    /// <summary>MERL's feature: mean_tokens(E).</summary>
    Aligned,
    /// <summary>mean_time(F), the down-projected feature map before attention pooling.</summary>
    Global,
}

/// <summary>The pretraining method a <see cref="DeriModel"/> is configured for.</summary>
public enum PretrainingMethod
{
    /// <summary>DERI: RME views, both cross-modal decoders, CMA + CMA-mix + UMA + REC-ECG (+ REC-TEXT).</summary>
    Deri,
    /// <summary>MERL: CMA + UMA between two dropout views of the global ECG feature, no decoders.</summary>
    Merl,
}
