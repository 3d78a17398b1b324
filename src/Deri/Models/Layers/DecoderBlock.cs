using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Layers;

/// <summary>
/// Pre-norm transformer block of the cross-modal decoders: x + dp(attn(norm1 x)), then
/// x + dp(mlp(norm2 x)) with a gated MLP and no dropout inside.
/// </summary>
public sealed class DecoderBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly SelfAttention attn;
    private readonly GatedMlp mlp;
    private readonly double dropPath;

    /// <summary>Block over <paramref name="width"/>-wide tokens.</summary>
    public DecoderBlock(string name, long width, long mlpHidden, long heads, long headDim, double dropPath) : base(name)
    {
        norm1 = LayerNorm(width);
        attn = new SelfAttention("attn", width, heads, headDim);
        norm2 = LayerNorm(width);
        mlp = new GatedMlp("mlp", width, mlpHidden, width);
        this.dropPath = dropPath;
        RegisterComponents();
    }

    /// <summary>x: (B, n, width) → (B, n, width).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x + DropPath.Apply(attn.forward(norm1.forward(x)), dropPath, training);
        x = x + DropPath.Apply(mlp.forward(norm2.forward(x)), dropPath, training);
        return x.MoveToOuterDisposeScope();
    }
}
