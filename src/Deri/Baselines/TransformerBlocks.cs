using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>
/// The pre-norm transformer block of the vit-pytorch family that the ST-MEM and CRT releases use:
/// x + attn(norm(x)), then x + ff(norm(x)), with the releases' parameter names (<c>attn.norm</c>,
/// <c>attn.fn.to_qkv</c>, <c>attn.fn.to_out.0</c>, <c>ff.norm</c>, <c>ff.fn.net.0</c>, <c>ff.fn.net.3</c>).
/// Dropout and drop-path are left out: ST-MEM pretrains without them; CRT's encoder dropout is one of the
/// simplifications listed in README.ssl3.md.
/// </summary>
public sealed class PreNormTransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly PreNorm attn;
    private readonly PreNorm ff;

    /// <summary>A block over <paramref name="width"/>-wide tokens.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="width">Token width.</param>
    /// <param name="hidden">Hidden width of the GELU MLP.</param>
    /// <param name="heads">Attention heads.</param>
    /// <param name="headDim">Width of each head (heads·headDim need not equal width).</param>
    /// <param name="qkvBias">Whether the fused q/k/v projection has a bias (ST-MEM yes, CRT no).</param>
    public PreNormTransformerBlock(string name, long width, long hidden, long heads, long headDim, bool qkvBias) : base(name)
    {
        attn = new PreNorm("attn", width, new HeadAttention("fn", width, heads, headDim, qkvBias));
        ff = new PreNorm("ff", width, new FeedForward("fn", width, hidden));
        RegisterComponents();
    }

    /// <summary>x: (B, n, width) → (B, n, width).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = attn.forward(x).add(x, Scalars.One);
        x = ff.forward(x).add(x, Scalars.One);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>fn(norm(x)) with a layer norm over the last axis (<c>norm</c>, <c>fn</c>).</summary>
public sealed class PreNorm : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm;
    private readonly nn.Module<Tensor, Tensor> fn;

    /// <summary>Wraps <paramref name="fn"/>, whose module name must be <c>fn</c>.</summary>
    public PreNorm(string name, long width, nn.Module<Tensor, Tensor> fn) : base(name)
    {
        norm = LayerNorm(width);
        this.fn = fn;
        RegisterComponents();
    }

    /// <summary>x: (…, width) → fn(LayerNorm(x)).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fn.forward(norm.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Multi-head self-attention with a fused projection <c>to_qkv</c> (width → 3·heads·headDim, laid out q|k|v, each
/// head-major) and an output projection <c>to_out.0</c> (heads·headDim → width); softmax(q·kᵀ/√headDim)·v.
/// </summary>
public sealed class HeadAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear to_qkv;
    private readonly Sequential to_out;
    private readonly long heads, headDim;

    /// <summary>Attention over <paramref name="width"/>-wide tokens.</summary>
    public HeadAttention(string name, long width, long heads, long headDim, bool qkvBias) : base(name)
    {
        (this.heads, this.headDim) = (heads, headDim);
        to_qkv = Linear(width, 3 * heads * headDim, hasBias: qkvBias);
        to_out = Sequential(("0", Linear(heads * headDim, width)));
        RegisterComponents();
    }

    /// <summary>x: (B, n, width) → (B, n, width).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1];
        var qkv = to_qkv.forward(x).view(b, n, 3, heads, headDim).permute(2, 0, 3, 1, 4); // (3, B, heads, n, headDim)
        var a = functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
        return to_out.forward(a.transpose(1, 2).reshape(b, n, heads * headDim)).MoveToOuterDisposeScope();
    }
}

/// <summary>The GELU MLP <c>net.0</c> (width → hidden), GELU, <c>net.3</c> (hidden → width).</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Sequential net;

    /// <summary>MLP of hidden width <paramref name="hidden"/>.</summary>
    public FeedForward(string name, long width, long hidden) : base(name)
    {
        net = Sequential(("0", Linear(width, hidden)), ("1", GELU()), ("3", Linear(hidden, width)));
        RegisterComponents();
    }

    /// <summary>x: (…, width) → (…, width).</summary>
    public override Tensor forward(Tensor x) => net.forward(x);
}
