using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Layers;

/// <summary>
/// Pre-norm transformer block: x + dp(attn(norm1 x)), then x + dp(mlp(norm2 x)), dp being drop-path. The ViT
/// encoder's blocks (<see cref="Vit"/>: GELU MLP width → 4·width → width) and the cross-modal decoders' blocks
/// (<see cref="Decoder"/>: a gated MLP) differ only in the MLP. State-dict keys: <c>norm1</c>, <c>attn</c>,
/// <c>norm2</c>, <c>mlp</c>.
/// </summary>
public sealed class PreNormBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly SelfAttention attn;
    private readonly nn.Module<Tensor, Tensor> mlp;
    private readonly double dropPath;

    /// <summary>Block over <paramref name="width"/>-wide tokens around <paramref name="mlp"/> (width → width).</summary>
    /// <param name="name">Module name.</param>
    /// <param name="width">Token width.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="headDim">Width of each head.</param>
    /// <param name="mlp">The feed-forward part, (B, n, width) → (B, n, width).</param>
    /// <param name="dropPath">Drop-path rate of both residual branches.</param>
    public PreNormBlock(string name, long width, long heads, long headDim, nn.Module<Tensor, Tensor> mlp, double dropPath) : base(name)
    {
        norm1 = LayerNorm(width);
        attn = new SelfAttention("attn", width, heads, headDim);
        norm2 = LayerNorm(width);
        this.mlp = mlp;
        this.dropPath = dropPath;
        RegisterComponents();
    }

    /// <summary>A ViT block: <paramref name="heads"/> heads of width/heads, MLP <c>fc1</c> (width → 4·width), GELU, <c>fc2</c>.</summary>
    public static PreNormBlock Vit(string name, long width, long heads, double dropPath) =>
        new(name, width, heads, width / heads,
            Sequential(("fc1", Linear(width, 4 * width)), ("act", GELU()), ("fc2", Linear(4 * width, width))), dropPath);

    /// <summary>A block of the cross-modal decoders: a gated MLP of <paramref name="mlpHidden"/> hidden units, no dropout inside.</summary>
    public static PreNormBlock Decoder(string name, long width, long mlpHidden, long heads, long headDim, double dropPath) =>
        new(name, width, heads, headDim, new GatedMlp("mlp", width, mlpHidden, width), dropPath);

    /// <summary>x: (B, n, width) → (B, n, width).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x.add(DropPath.Apply(attn.forward(norm1.forward(x)), dropPath, training), Scalars.One);
        x = x.add(DropPath.Apply(mlp.forward(norm2.forward(x)), dropPath, training), Scalars.One);
        return x.MoveToOuterDisposeScope();
    }
}
