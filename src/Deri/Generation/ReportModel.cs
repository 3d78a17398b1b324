using Deri.Runtime;
using Deri.Generation.Decoder;
using Deri.Models;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Generation;

/// <summary>
/// The ECG → report model of METHOD §4: a pretrained DERI/MERL model supplies the ECG feature
/// (<c>mixed</c> = DERI's m_e, <c>aligned</c> = DERI-Align's e / MERL's embedding), which
/// <see cref="ReportGenerator"/> projects to one memory token for a cross-attention GPT-2 (METHOD's setting,
/// <see cref="ReportMemory.Feature"/>). With <see cref="ReportMemory.Tokens"/> the decoder attends instead to the ECG
/// encoder's n tokens E <c>(B, n, d)</c> followed by that feature, n + 1 memory tokens: a pooled vector of a small
/// pretrained model varies little between records, and the token sequence keeps where in the ECG something happens.
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
    /// <param name="ecgModel">The pretrained model.</param>
    /// <param name="feature">The feature that is (or ends) the memory.</param>
    /// <param name="decoderConfig">The GPT-2 (cross-attention is switched on).</param>
    /// <param name="freezeEcg">Keep the ECG side fixed.</param>
    /// <param name="memory">One feature token or the token sequence plus the feature.</param>
    /// <param name="labelSmoothing">Label smoothing ε of the training loss, in [0, 1).</param>
    /// <param name="memoryDropout">Probability that a training record's memory features are zeroed (for guided decoding).</param>
    public ReportModel(DeriModel ecgModel, ProbeFeatureKind feature, Gpt2Config decoderConfig, bool freezeEcg,
        ReportMemory memory = ReportMemory.Feature, double labelSmoothing = 0.0, double memoryDropout = 0.0) : base("report_model")
    {
        if (memoryDropout is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(memoryDropout), memoryDropout, "memory dropout must be in [0, 1)");
        if (labelSmoothing is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");
        if (feature == ProbeFeatureKind.Mixed && ecgModel.Method == PretrainingMethod.Merl)
            throw new InputValueException("feature 'mixed' needs DERI's ECG→text decoder; a MERL run offers 'aligned'");
        if (feature == ProbeFeatureKind.Global)
            throw new InputValueException("report generation uses the mixed or aligned feature, not global");
        ecg = ecgModel;
        generator = new ReportGenerator(decoderConfig with { AddCrossAttention = true }, (int)ecgModel.Width);
        Feature = feature;
        FreezeEcg = freezeEcg;
        Memory = memory;
        LabelSmoothing = labelSmoothing;
        MemoryDropout = memoryDropout;
        RegisterComponents();
        if (freezeEcg)
            foreach (var p in ecg.parameters()) p.requires_grad = false;
    }

    /// <summary>The feature that becomes the memory token.</summary>
    public ProbeFeatureKind Feature { get; }

    /// <summary>What the decoder attends to.</summary>
    public ReportMemory Memory { get; }

    /// <summary>Label smoothing ε of <see cref="Loss"/>.</summary>
    public double LabelSmoothing { get; }

    /// <summary>
    /// Probability that, in training mode, a record's memory features are replaced by zeros, so that the decoder also
    /// learns the report prior given "no ECG" (classifier-free guidance's condition dropout; see <see cref="DecodingOptions.GuidanceScale"/>).
    /// </summary>
    public double MemoryDropout { get; }

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
        _ => throw new InputValueException($"feature must be auto, mixed or aligned, got '{feature}'"),
    };

    /// <summary>ECG <c>(B, leads, L)</c> → the memory features: <c>(B, d)</c> (one token) or <c>(B, n + 1, d)</c> ([E; feature]).</summary>
    public Tensor Features(Tensor ecgSignal)
    {
        if (!FreezeEcg) return MemoryFeatures(ecgSignal);
        ecg.eval();
        using var _ = torch.no_grad();
        return MemoryFeatures(ecgSignal);
    }

    private Tensor MemoryFeatures(Tensor ecgSignal)
    {
        if (Memory == ReportMemory.Feature) return ecg.ProbeFeature(ecgSignal, Feature);
        using var scope = NewDisposeScope();
        var (tokens, feature) = ecg.TokensAndFeature(ecgSignal, Feature);   // (B, n, d), (B, d)
        return torch.cat([tokens, feature.unsqueeze(1)], 1).MoveToOuterDisposeScope();
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

    /// <summary>Teacher-forced cross-entropy ignoring padding, with <see cref="LabelSmoothing"/> (scalar).</summary>
    public Tensor Loss(Tensor ecgSignal, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return LossFromFeatures(Features(ecgSignal), inputIds, attentionMask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Loss"/> from memory features <c>(B, d)</c> or <c>(B, n + 1, d)</c> already computed by <see cref="Features"/>
    /// (a frozen ECG side's features can be computed once per record).
    /// </summary>
    public Tensor LossFromFeatures(Tensor features, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        if (training && MemoryDropout > 0)
        {
            var shape = features.dim() == 2 ? new long[] { features.shape[0], 1 } : [features.shape[0], 1, 1];
            var keep = torch.rand(shape, device: features.device).ge(Scalars.Constant(MemoryDropout)).to(features.dtype);
            features = features * keep;
        }
        return generator.Loss(inputIds, attentionMask, features, LabelSmoothing).MoveToOuterDisposeScope();
    }

    /// <summary>Decodes one report per ECG; call in eval mode.</summary>
    public IReadOnlyList<DecodedReport> Generate(Tensor ecgSignal, int bosId, int eosId, DecodingOptions options)
    {
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        return generator.Generate(Features(ecgSignal), bosId, eosId, options);
    }
}

/// <summary>What the report decoder's cross-attention reads.</summary>
public enum ReportMemory
{
    /// <summary>One token: the configured feature (METHOD §4).</summary>
    Feature,

    /// <summary>The ECG encoder's n tokens E followed by the configured feature: n + 1 tokens.</summary>
    Tokens,
}
