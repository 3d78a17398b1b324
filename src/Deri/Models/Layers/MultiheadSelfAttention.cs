using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Layers;

/// <summary>
/// Self-attention equivalent to PyTorch's <c>nn.MultiheadAttention(embed, heads, batch_first=True)</c>
/// called as <c>mha(x, x, x)</c>, with the same parameter names (<c>in_proj_weight</c> (3E, E),
/// <c>in_proj_bias</c> (3E), <c>out_proj.weight</c>, <c>out_proj.bias</c>) and initialisation, so
/// its state dict transfers to and from PyTorch.
/// </summary>
public sealed class MultiheadSelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Parameter in_proj_weight;
    private readonly Parameter in_proj_bias;
    private readonly Linear out_proj;
    private readonly long heads;

    /// <summary>Attention over width <paramref name="embed"/> split into <paramref name="heads"/> heads.</summary>
    public MultiheadSelfAttention(string name, long embed, long heads) : base(name)
    {
        if (heads <= 0 || embed % heads != 0)
            throw new Deri.Config.ConfigException($"embed width {embed} is not divisible by {heads} heads");
        this.heads = heads;
        in_proj_weight = Parameter(empty(3 * embed, embed));
        in_proj_bias = Parameter(zeros(3 * embed));
        out_proj = Linear(embed, embed);
        using (no_grad())
        {
            init.xavier_uniform_(in_proj_weight);
            out_proj.bias!.zero_();
        }
        RegisterComponents();
    }

    /// <summary>x: (B, n, E) → (B, n, E).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], e = x.shape[2];
        // (B, n, 3E) → (3, B, heads, n, E/heads)
        var qkv = functional.linear(x, in_proj_weight, in_proj_bias).view(b, n, 3, heads, e / heads).permute(2, 0, 3, 1, 4);
        var a = functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
        return out_proj.forward(a.transpose(1, 2).reshape(b, n, e)).MoveToOuterDisposeScope();
    }
}
