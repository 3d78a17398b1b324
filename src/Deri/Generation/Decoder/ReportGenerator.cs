using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Generation.Decoder;

/// <summary>
/// The report generator of METHOD §4: an ECG feature <c>(B, F)</c> (F = 256 for DERI's <c>m_e</c>) is
/// projected by <c>memory_proj</c> (Linear F → n_embd) to a single memory token <c>(B, 1, n_embd)</c>
/// that a cross-attention GPT-2 (<c>decoder.*</c>, Hugging Face names below that prefix) attends to.
/// Several memory tokens <c>(B, M, F)</c> (e.g. the ECG encoder's token sequence) are projected token by token
/// to <c>(B, M, n_embd)</c> with the same layer.
/// </summary>
public sealed class ReportGenerator : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear memory_proj;
    private readonly Gpt2Model decoder;

    /// <summary>Creates the generator; <paramref name="config"/> must have cross-attention.</summary>
    /// <exception cref="ArgumentException">The config has no cross-attention or <paramref name="featureDim"/> is not positive.</exception>
    public ReportGenerator(Gpt2Config config, int featureDim = 256) : base(nameof(ReportGenerator))
    {
        if (!config.AddCrossAttention) throw new ArgumentException("the report generator's GPT-2 needs add_cross_attention = true");
        if (featureDim <= 0) throw new ArgumentException($"feature dimension must be positive, got {featureDim}");
        FeatureDim = featureDim;
        memory_proj = nn.Linear(featureDim, config.NEmbd);
        decoder = new Gpt2Model(config);
        RegisterComponents();
    }

    /// <summary>Width F of the ECG features.</summary>
    public int FeatureDim { get; }

    /// <summary>The GPT-2 decoder (e.g. to load pretrained DistilGPT2 weights with <see cref="Gpt2Model.LoadHuggingFace"/>).</summary>
    public Gpt2Model Decoder => decoder;

    /// <summary>ECG features <c>(B, F)</c> → memory <c>(B, 1, n_embd)</c>; <c>(B, M, F)</c> → <c>(B, M, n_embd)</c>.</summary>
    /// <exception cref="ArgumentException">The features are neither <c>(B, F)</c> nor <c>(B, M, F)</c>.</exception>
    public Tensor Memory(Tensor features)
    {
        if (features.dim() is not (2 or 3) || features.shape[^1] != FeatureDim)
            throw new ArgumentException($"ECG features must be (B, {FeatureDim}) or (B, M, {FeatureDim}), got [{string.Join(", ", features.shape)}]");
        using var scope = NewDisposeScope();
        var memory = memory_proj.forward(features);
        return (features.dim() == 2 ? memory.unsqueeze(1) : memory).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="inputIds"/> <c>(B, T)</c> (<c>[BOS] report [EOS]</c>, padded), <paramref name="attentionMask"/>
    /// <c>(B, T)</c>, ECG <paramref name="features"/> <c>(B, F)</c> or <c>(B, M, F)</c> → logits <c>(B, T, V)</c>.
    /// </summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor features)
    {
        using var scope = NewDisposeScope();
        return decoder.forward(inputIds, attentionMask, Memory(features)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Teacher-forced cross-entropy of the reports given the features, ignoring padding (scalar); with
    /// <paramref name="labelSmoothing"/> ε the target is (1 − ε) one-hot + ε uniform.
    /// </summary>
    public Tensor Loss(Tensor inputIds, Tensor attentionMask, Tensor features, double labelSmoothing = 0.0)
    {
        using var scope = NewDisposeScope();
        return Gpt2Model.LanguageModelLoss(forward(inputIds, attentionMask, features), inputIds, attentionMask, labelSmoothing).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Decodes one report per feature row (greedy or beam search, see <see cref="ReportDecoder"/>); with guidance, the
    /// unconditional memory is that of all-zero features.
    /// </summary>
    public IReadOnlyList<DecodedReport> Generate(Tensor features, int bosId, int eosId, DecodingOptions options)
    {
        using var _ = torch.no_grad();
        using var scope = NewDisposeScope();
        // Guidance's "no ECG" is the all-zero feature, which a model trained with memory dropout has learnt to read as such.
        var unconditional = options.GuidanceScale > 0 ? Memory(torch.zeros_like(features.narrow(0, 0, 1))) : null;
        return new ReportDecoder(decoder, bosId, eosId).Generate(Memory(features), options, unconditional);
    }
}
