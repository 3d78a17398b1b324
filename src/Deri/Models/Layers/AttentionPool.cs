using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Models.Layers;

/// <summary>
/// DERI's attention pooling (METHOD §2.3): tokens + <c>positional_embedding[1:-1]</c>, a learned
/// <c>sep_token</c> prepended (+pos[0]) and appended (+pos[−1]), one multi-head self-attention
/// (<c>mha</c>), separators dropped. (B, n, d) → (B, n, d). Positions initialised N(0,1)/d.
/// </summary>
public sealed class AttentionPool : nn.Module<Tensor, Tensor>
{
    private readonly Parameter positional_embedding;
    private readonly Parameter sep_token;
    private readonly MultiheadSelfAttention mha;
    private readonly long tokens;

    /// <summary>Pooling of <paramref name="tokens"/> tokens of width <paramref name="width"/> with <paramref name="heads"/> heads.</summary>
    public AttentionPool(string name, long tokens, long width, long heads) : base(name)
    {
        this.tokens = tokens;
        positional_embedding = nn.Parameter(randn(1, tokens + 2, width).div_(Scalars.Constant(width)));
        sep_token = nn.Parameter(randn(width));
        mha = new MultiheadSelfAttention("mha", width, heads);
        RegisterComponents();
    }

    /// <summary>x: (B, n, d) → (B, n, d).</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 3 || x.shape[1] != tokens)
            throw new ArgumentException($"{GetName()}: expected (B, {tokens}, C) tokens, got ({string.Join(", ", x.shape)})");
        using var scope = NewDisposeScope();
        long b = x.shape[0], d = x.shape[2];
        var sep = sep_token.view(1, 1, d).expand(b, 1, d);
        var y = cat([
            sep.add(positional_embedding.narrow(1, 0, 1), Scalars.One),
            x.add(positional_embedding.narrow(1, 1, tokens), Scalars.One),
            sep.add(positional_embedding.narrow(1, tokens + 1, 1), Scalars.One)], 1);
        return mha.forward(y).narrow(1, 1, tokens).MoveToOuterDisposeScope();
    }
}
