using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Layers;

/// <summary>
/// DERI's cross-modal decoder <c>Dec(n, width, out)</c> (METHOD §2.7): input gated MLP, learned positions
/// <c>pos_embedding (1, n+2, width)</c>, a learned separator (<c>sep_token</c>) at both ends, pre-norm
/// <see cref="PreNormBlock.Decoder"/> blocks with drop-path rising linearly 0 → rate, the separators dropped, LayerNorm,
/// output gated MLP. (B, n, input) → (B, n, out).
/// </summary>
public sealed class CrossModalDecoder : nn.Module<Tensor, Tensor>
{
    private readonly GatedMlp input_mlp;
    private readonly Parameter pos_embedding;
    private readonly Parameter sep_token;
    private readonly ModuleList<PreNormBlock> blocks;
    private readonly LayerNorm norm;
    private readonly GatedMlp output_mlp;
    private readonly long tokens;

    /// <summary>Decoder for <paramref name="tokens"/> input tokens.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="tokens">Input tokens n.</param>
    /// <param name="input">Width of the input tokens.</param>
    /// <param name="width">Width inside the decoder.</param>
    /// <param name="output">Width of the output tokens.</param>
    /// <param name="mlpHidden">Hidden width of every gated MLP.</param>
    /// <param name="depth">Transformer blocks.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="headDim">Width per head.</param>
    /// <param name="dropout">Dropout in the input and output MLPs.</param>
    /// <param name="dropPath">Drop-path rate of the last block.</param>
    public CrossModalDecoder(string name, long tokens, long input, long width, long output, long mlpHidden, int depth,
        long heads, long headDim, double dropout, double dropPath) : base(name)
    {
        this.tokens = tokens;
        input_mlp = new GatedMlp("input_mlp", input, mlpHidden, width, dropout);
        pos_embedding = Parameter(randn(1, tokens + 2, width));
        sep_token = Parameter(randn(width));
        blocks = new ModuleList<PreNormBlock>();
        for (int i = 0; i < depth; i++)
            blocks.Add(PreNormBlock.Decoder($"{i}", width, mlpHidden, heads, headDim, depth > 1 ? dropPath * i / (depth - 1) : 0));
        norm = LayerNorm(width);
        output_mlp = new GatedMlp("output_mlp", width, mlpHidden, output, dropout);
        RegisterComponents();
    }

    /// <summary>The learned separator (width); DERI also appends it to the ECG tokens fed to the ECG→text decoder.</summary>
    public Parameter SepToken => sep_token;

    /// <summary>x: (B, n, input) → (B, n, output).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return output_mlp.forward(Body(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The output tokens' mean, x (B, n, input) → (B, output) — what DERI uses (d_e, d_t); equal to
    /// <c>forward(x).mean(1)</c> but the output MLP's last Linear runs once per record.
    /// </summary>
    public Tensor ForwardMean(Tensor x)
    {
        using var scope = NewDisposeScope();
        return output_mlp.ForwardMean(Body(x)).MoveToOuterDisposeScope();
    }

    // Everything up to the output MLP: (B, n, input) → normalised tokens (B, n, width).
    private Tensor Body(Tensor x)
    {
        if (x.dim() != 3 || x.shape[1] != tokens)
            throw new ArgumentException($"{GetName()}: expected (B, {tokens}, C) tokens, got ({string.Join(", ", x.shape)})");
        long b = x.shape[0], w = pos_embedding.shape[2];
        var sep = sep_token.view(1, 1, w).expand(b, 1, w);
        var y = cat([
            sep.add(pos_embedding.narrow(1, 0, 1), Scalars.One),
            input_mlp.forward(x).add(pos_embedding.narrow(1, 1, tokens), Scalars.One),
            sep.add(pos_embedding.narrow(1, tokens + 1, 1), Scalars.One)], 1);
        foreach (var block in blocks) y = block.forward(y);
        return norm.forward(y.narrow(1, 1, tokens));
    }
}
