using Deri.Runtime;
using Deri.Config;
using Deri.Models.Encoders;
using Deri.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Deri.IO;

namespace Deri.Models;

/// <summary>
/// The DERI (or MERL) model without the frozen text encoder: it takes the text features
/// (<c>pooled (B, 768)</c>, <c>hidden (B, L, 768)</c>) as inputs. Module tree and state-dict keys
/// (identical to <c>tools/parity/deri_torch.py</c>): <c>ecg_encoder</c>, <c>downconv</c>,
/// <c>att_pool_head</c>, <c>rme_pool1</c>/<c>rme_pool2</c> and <c>ecg_decoder</c> (D_e, text→ECG)/
/// <c>text_decoder</c> (D_t, ECG→text) for DERI, <c>linear1</c>/<c>linear2</c> for MERL, <c>proj_t</c>.
/// Build it with <see cref="ModelFactory.Create"/>.
/// </summary>
public sealed class DeriModel : nn.Module<Tensor, Tensor, Tensor, DeriOutput>
{
    private readonly EcgEncoder ecg_encoder;
    private readonly Conv1d downconv;
    private readonly AttentionPool att_pool_head;
    private readonly AttentionPool? rme_pool1, rme_pool2;
    private readonly Sequential proj_t;
    private readonly CrossModalDecoder? ecg_decoder, text_decoder;
    private readonly Linear? linear1, linear2;
    private readonly double merlDropout;

    /// <summary>Builds the heads around <paramref name="encoder"/>; <see cref="ModelFactory"/> is the usual entry point.</summary>
    /// <param name="encoder">ECG backbone (B, leads, L) → (B, C, L').</param>
    /// <param name="config">Validated model configuration.</param>
    /// <param name="downconvStride">Stride of the 1×1 down-projection (resolved per backbone by the factory).</param>
    /// <param name="method">DERI or MERL heads (the factory reads it from <c>network.method</c>).</param>
    public DeriModel(EcgEncoder encoder, ModelConfig config, int downconvStride, PretrainingMethod method) : base("deri")
    {
        var net = config.Network;
        Method = method;
        Leads = net.NumLeads;
        InputLength = config.Dataset.SeqLength;
        TextDim = net.FeatureDim;
        TextLength = net.TextMaxLength;
        Width = net.ProjectionHead.ProjectionSize;
        long hidden = net.ProjectionHead.MlpHiddenSize;
        long mapLength = encoder.OutputLength(InputLength);
        Tokens = (mapLength - 1) / downconvStride + 1;
        if (Tokens < 2) throw new Deri.Config.ConfigException($"model config: dataset.seq_length = {InputLength} leaves {Tokens} ECG token(s); at least 2 are needed");

        ecg_encoder = encoder;
        downconv = Conv1d(encoder.OutputChannels, Width, 1, stride: downconvStride);
        att_pool_head = new AttentionPool("att_pool_head", Tokens, Width, net.PoolHeads);
        proj_t = Sequential(Linear(TextDim, hidden), GELU(), Linear(hidden, Width));
        if (Method == PretrainingMethod.Deri)
        {
            Keep = (long)Math.Floor(Tokens * (1 - net.MaskRatio));
            if (Keep < 1) throw new Deri.Config.ConfigException($"model config: network.mask_ratio = {net.MaskRatio} keeps no token of {Tokens}");
            rme_pool1 = new AttentionPool("rme_pool1", Keep, Width, net.RmeHeads);
            rme_pool2 = new AttentionPool("rme_pool2", Keep, Width, net.RmeHeads);
            var dec = net.Decoder;
            ecg_decoder = new CrossModalDecoder("ecg_decoder", TextLength, Width, Width, Width, hidden, dec.Depth, dec.Heads,
                dec.HeadDim, dec.Dropout, dec.DropPath);
            text_decoder = new CrossModalDecoder("text_decoder", Tokens + 1, Width, Width, TextDim, hidden, dec.Depth, dec.Heads,
                dec.HeadDim, dec.Dropout, dec.DropPath);
        }
        else
        {
            linear1 = Linear(Width, Width, hasBias: false);
            linear2 = Linear(Width, Width, hasBias: false);
            merlDropout = net.MerlDropout;
        }
        RegisterComponents();
    }

    /// <summary>DERI or MERL.</summary>
    public PretrainingMethod Method { get; }

    /// <summary>ECG tokens n after the down-projection (105 for ResNet18 on 5000 samples).</summary>
    public long Tokens { get; }

    /// <summary>Tokens each RME view keeps, ⌊n·(1 − mask ratio)⌋ (DERI only; 0 for MERL).</summary>
    public long Keep { get; }

    /// <summary>Width d of tokens and embeddings (projection size).</summary>
    public long Width { get; }

    /// <summary>Input leads.</summary>
    public long Leads { get; }

    /// <summary>Input samples the model is built for.</summary>
    public long InputLength { get; }

    /// <summary>Width of the text features.</summary>
    public long TextDim { get; }

    /// <summary>Tokens of <c>hidden</c> (text→ECG decoder length).</summary>
    public long TextLength { get; }

    /// <summary>The ECG backbone.</summary>
    public EcgEncoder Encoder => ecg_encoder;

    /// <summary>One training forward with a random RME permutation from the global generator.</summary>
    public override DeriOutput forward(Tensor ecg, Tensor pooled, Tensor hidden) => Forward(ecg, pooled, hidden, null);

    /// <summary>
    /// One training forward. ecg (B, leads, L), pooled (B, text dim), hidden (B, text length, text dim);
    /// <paramref name="permutation"/> (B, n) int64, per record a permutation of the n tokens for the RME
    /// views (view 1 keeps the first Keep, view 2 the last Keep); null draws one with torch.rand.
    /// MERL ignores <paramref name="hidden"/> and <paramref name="permutation"/>.
    /// </summary>
    public DeriOutput Forward(Tensor ecg, Tensor pooled, Tensor? hidden, Tensor? permutation = null)
    {
        CheckEcg(ecg);
        long b = ecg.shape[0];
        CheckShape(pooled, "text pooled", b, TextDim);
        using var scope = NewDisposeScope();
        var (f, tokens) = Encode(ecg);                      // F (B, d, n), E (B, n, d)
        var global = f.mean([-1]);                          // g (B, d)
        var normTokens = functional.normalize(tokens, dim: -1);
        var aligned = normTokens.mean([1]);
        var text = functional.normalize(proj_t.forward(pooled), dim: -1);
        if (Method == PretrainingMethod.Merl)
        {
            var m1 = functional.dropout(linear1!.forward(global), merlDropout, training);
            var m2 = functional.dropout(linear2!.forward(global), merlDropout, training);
            return new DeriOutput
            {
                Tokens = tokens.MoveToOuterDisposeScope(), AlignedEcg = aligned.MoveToOuterDisposeScope(), AlignedText = text.MoveToOuterDisposeScope(),
                GlobalEcg = global.MoveToOuterDisposeScope(), View1 = m1.MoveToOuterDisposeScope(), View2 = m2.MoveToOuterDisposeScope(),
            };
        }
        if (hidden is null) throw new ArgumentNullException(nameof(hidden), "DERI needs the text hidden states (B, L, dim)");
        CheckShape(hidden, "text hidden", b, TextLength, TextDim);

        // RME: two views of the tokens of Fᵀ through their own attention pooling, mean-pooled.
        var ft = f.transpose(1, 2);                         // (B, n, d)
        var perm = permutation ?? argsort(rand(b, Tokens, device: ecg.device), 1);
        CheckShape(perm, "RME permutation", b, Tokens);
        var v1 = rme_pool1!.forward(Gather(ft, perm.narrow(1, 0, Keep))).mean([1]);
        var v2 = rme_pool2!.forward(Gather(ft, perm.narrow(1, Tokens - Keep, Keep))).mean([1]);

        var decodedEcg = ecg_decoder!.ForwardMean(proj_t.forward(hidden));                 // d_e (B, d)
        var decodedText = text_decoder!.ForwardMean(AppendSeparator(normTokens));          // d_t (B, text dim)
        var mixedEcg = aligned.add(proj_t.forward(decodedText), Scalars.One);
        var mixedText = text.add(decodedEcg, Scalars.One);
        return new DeriOutput
        {
            Tokens = tokens.MoveToOuterDisposeScope(), AlignedEcg = aligned.MoveToOuterDisposeScope(), AlignedText = text.MoveToOuterDisposeScope(),
            GlobalEcg = global.MoveToOuterDisposeScope(), View1 = v1.MoveToOuterDisposeScope(), View2 = v2.MoveToOuterDisposeScope(),
            MixedEcg = mixedEcg.MoveToOuterDisposeScope(), MixedText = mixedText.MoveToOuterDisposeScope(),
            DecodedEcg = decodedEcg.MoveToOuterDisposeScope(), DecodedText = decodedText.MoveToOuterDisposeScope(),
        };
    }

    /// <summary>
    /// Zero-shot ECG embedding (METHOD §4): normalize(mean_tokens(E) + proj_t(mean(D_t([E; sep])))) with E
    /// not normalised; MERL: normalize(mean_tokens(E)). ecg (B, leads, L) → (B, d). Callers use eval mode and no_grad.
    /// </summary>
    public Tensor ZeroShotEcgEmbedding(Tensor ecg)
    {
        using var scope = NewDisposeScope();
        var (_, tokens) = EncodeChecked(ecg);
        return functional.normalize(MixedFeature(tokens), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Class (prompt) embedding for zero-shot: normalize(proj_t(pooled)); pooled (C, text dim) → (C, d).</summary>
    public Tensor TextClassEmbedding(Tensor pooled)
    {
        if (pooled.dim() != 2 || pooled.shape[1] != TextDim)
            throw new ArgumentException($"text pooled: expected (C, {TextDim}), got ({string.Join(", ", pooled.shape)})");
        using var scope = NewDisposeScope();
        return functional.normalize(proj_t.forward(pooled), dim: -1).MoveToOuterDisposeScope();
    }

    /// <summary>Frozen feature for linear probing, (B, d); callers use eval mode and no_grad.</summary>
    /// <exception cref="InvalidOperationException">Mixed features requested from a MERL model (it has no decoder).</exception>
    public Tensor ProbeFeature(Tensor ecg, ProbeFeatureKind kind)
    {
        if (kind == ProbeFeatureKind.Mixed && Method == PretrainingMethod.Merl)
            throw new InputValueException("mixed probe features need DERI's ECG→text decoder; a MERL model offers aligned or global");
        using var scope = NewDisposeScope();
        var (_, feature) = TokensAndFeature(ecg, kind);
        return feature.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One encoder pass: the ECG tokens E = att_pool(Fᵀ) <c>(B, n, d)</c> and the feature of <paramref name="kind"/> <c>(B, d)</c>
    /// (as <see cref="ProbeFeature"/>); report generation uses the tokens as several memory tokens.
    /// </summary>
    /// <exception cref="InvalidOperationException">Mixed features requested from a MERL model.</exception>
    public (Tensor Tokens, Tensor Feature) TokensAndFeature(Tensor ecg, ProbeFeatureKind kind)
    {
        if (kind == ProbeFeatureKind.Mixed && Method == PretrainingMethod.Merl)
            throw new InputValueException("mixed probe features need DERI's ECG→text decoder; a MERL model offers aligned or global");
        using var scope = NewDisposeScope();
        var (f, tokens) = EncodeChecked(ecg);
        var feature = kind switch
        {
            ProbeFeatureKind.Mixed => MixedFeature(tokens),
            ProbeFeatureKind.Aligned => tokens.mean([1]),
            ProbeFeatureKind.Global => f.mean([-1]),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown probe feature"),
        };
        return (tokens.MoveToOuterDisposeScope(), feature.MoveToOuterDisposeScope());
    }

    // mean_tokens(E) + proj_t(mean(D_t([E; sep]))) for DERI, mean_tokens(E) for MERL; E (B, n, d) → (B, d).
    private Tensor MixedFeature(Tensor tokens)
    {
        var mean = tokens.mean([1]);
        if (Method == PretrainingMethod.Merl) return mean;
        return mean.add(proj_t.forward(text_decoder!.ForwardMean(AppendSeparator(tokens))), Scalars.One);
    }

    private (Tensor F, Tensor Tokens) EncodeChecked(Tensor ecg)
    {
        CheckEcg(ecg);
        return Encode(ecg);
    }

    // ecg (B, leads, L) → F (B, d, n) and E = att_pool(Fᵀ) (B, n, d).
    private (Tensor F, Tensor Tokens) Encode(Tensor ecg)
    {
        var f = Pointwise.Conv(downconv, ecg_encoder.forward(ecg));
        return (f, att_pool_head.forward(f.transpose(1, 2)));
    }

    // [x; sep] with D_e's separator: (B, n, d) → (B, n+1, d).
    private Tensor AppendSeparator(Tensor x)
    {
        long b = x.shape[0];
        return cat([x, ecg_decoder!.SepToken.view(1, 1, Width).expand(b, 1, Width)], 1);
    }

    // x (B, n, d), index (B, k) → (B, k, d).
    private static Tensor Gather(Tensor x, Tensor index) =>
        x.gather(1, index.unsqueeze(-1).expand(index.shape[0], index.shape[1], x.shape[2]));

    private void CheckEcg(Tensor ecg)
    {
        if (ecg.dim() != 3 || ecg.shape[1] != Leads || ecg.shape[2] != InputLength)
            throw new ArgumentException($"ECG: expected (B, {Leads}, {InputLength}), got ({string.Join(", ", ecg.shape)})");
    }

    private static void CheckShape(Tensor t, string what, params long[] shape)
    {
        if (!t.shape.SequenceEqual(shape))
            throw new ArgumentException($"{what}: expected ({string.Join(", ", shape)}), got ({string.Join(", ", t.shape)})");
    }
}
