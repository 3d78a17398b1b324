using Deri.Generation.Decoder;
using Deri.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Generation;

/// <summary>
/// The ECG → report model of METHOD §4: a pretrained DERI/MERL model supplies the ECG feature
/// (<c>mixed</c> = DERI's m_e, <c>aligned</c> = DERI-Align's e / MERL's embedding), which
/// <see cref="ReportGenerator"/> projects to one memory token for a cross-attention GPT-2.
/// State-dict keys: <c>ecg.*</c> (the pretrained model's keys) and <c>generator.memory_proj.*</c>, <c>generator.decoder.*</c>.
/// </summary>
/// <remarks>
/// The whole model is trained by default. With <c>freezeEcg</c> the ECG side keeps its pretrained weights
/// (<c>requires_grad</c> off, so the trainer leaves it out of AdamW) and its BatchNorm statistics (it is
/// kept in eval mode and run under no_grad even while the decoder trains).
/// </remarks>
public sealed class ReportModel : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly DeriModel ecg;
    private readonly ReportGenerator generator;

    /// <summary>Wraps <paramref name="ecgModel"/> (not copied: this module trains it) and a new generator for <paramref name="decoderConfig"/>.</summary>
    /// <exception cref="InvalidOperationException">Mixed features requested from a MERL model.</exception>
    public ReportModel(DeriModel ecgModel, ProbeFeatureKind feature, Gpt2Config decoderConfig, bool freezeEcg) : base("report_model")
    {
        if (feature == ProbeFeatureKind.Mixed && ecgModel.Method == PretrainingMethod.Merl)
            throw new InvalidOperationException("feature 'mixed' needs DERI's ECG→text decoder; a MERL run offers 'aligned'");
        if (feature == ProbeFeatureKind.Global)
            throw new ArgumentException("report generation uses the mixed or aligned feature, not global");
        ecg = ecgModel;
        generator = new ReportGenerator(decoderConfig with { AddCrossAttention = true }, (int)ecgModel.Width);
        Feature = feature;
        FreezeEcg = freezeEcg;
        RegisterComponents();
        if (freezeEcg)
            foreach (var p in ecg.parameters()) p.requires_grad = false;
    }

    /// <summary>The feature that becomes the memory token.</summary>
    public ProbeFeatureKind Feature { get; }

    /// <summary>Whether the ECG side is frozen.</summary>
    public bool FreezeEcg { get; }

    /// <summary>The pretrained ECG side.</summary>
    public DeriModel EcgModel => ecg;

    /// <summary>The projection and decoder.</summary>
    public ReportGenerator Generator => generator;

    /// <summary>The feature for <see cref="Feature"/> when <c>auto</c> is configured: mixed for DERI, aligned for MERL.</summary>
    public static ProbeFeatureKind ResolveFeature(string feature, PretrainingMethod method) => feature switch
    {
        "mixed" => ProbeFeatureKind.Mixed,
        "aligned" => ProbeFeatureKind.Aligned,
        "auto" => method == PretrainingMethod.Merl ? ProbeFeatureKind.Aligned : ProbeFeatureKind.Mixed,
        _ => throw new ArgumentException($"feature must be auto, mixed or aligned, got '{feature}'"),
    };

    /// <summary>ECG <c>(B, leads, L)</c> → the feature <c>(B, d)</c>.</summary>
    public Tensor Features(Tensor ecgSignal)
    {
        if (!FreezeEcg) return ecg.ProbeFeature(ecgSignal, Feature);
        ecg.eval();
        using var _ = torch.no_grad();
        return ecg.ProbeFeature(ecgSignal, Feature);
    }

    /// <summary>
    /// ECG <c>(B, leads, L)</c>, token ids <c>(B, T)</c> (<c>[BOS] report [EOS]</c>, padded) and attention mask
    /// <c>(B, T)</c> → logits <c>(B, T, V)</c>.
    /// </summary>
    public override Tensor forward(Tensor ecgSignal, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return generator.forward(inputIds, attentionMask, Features(ecgSignal)).MoveToOuterDisposeScope();
    }

    /// <summary>Teacher-forced cross-entropy ignoring padding (scalar).</summary>
    public Tensor Loss(Tensor ecgSignal, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return generator.Loss(inputIds, attentionMask, Features(ecgSignal)).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes one report per ECG; call in eval mode.</summary>
    public IReadOnlyList<DecodedReport> Generate(Tensor ecgSignal, int bosId, int eosId, DecodingOptions options)
    {
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        return generator.Generate(Features(ecgSignal), bosId, eosId, options);
    }
}
