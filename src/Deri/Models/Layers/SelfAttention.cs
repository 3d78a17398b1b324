using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Layers;

/// <summary>
/// Multi-head self-attention with one fused qkv projection (<c>qkv</c>: width → 3·heads·headDim, with
/// bias) and an output projection (<c>proj</c>: heads·headDim → width); softmax(q·kᵀ/√headDim).
/// </summary>
public sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly long heads, headDim;

    /// <summary>Attention over <paramref name="width"/>-wide tokens with <paramref name="heads"/> heads of <paramref name="headDim"/>.</summary>
    public SelfAttention(string name, long width, long heads, long headDim) : base(name)
    {
        this.heads = heads;
        this.headDim = headDim;
        qkv = Linear(width, 3 * heads * headDim);
        proj = Linear(heads * headDim, width);
        RegisterComponents();
    }

    /// <summary>x: (B, n, width) → (B, n, width).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1];
        var t = qkv.forward(x).view(b, n, 3, heads, headDim).permute(2, 0, 3, 1, 4); // (3, B, heads, n, headDim)
        var a = functional.scaled_dot_product_attention(t[0], t[1], t[2]);
        return proj.forward(a.transpose(1, 2).reshape(b, n, heads * headDim)).MoveToOuterDisposeScope();
    }
}
