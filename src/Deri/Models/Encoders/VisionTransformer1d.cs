using Deri.Runtime;
using Deri.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Encoders;

/// <summary>
/// 1-D ViT (sizes as ST-MEM/MERL: tiny 192/12/3, small 384/12/6, middle 512/12/8, base 768/12/12):
/// <c>to_patch_embedding</c> Conv1d(leads→width, k = s = patch) turns (B, leads, L) into ⌊L/patch⌋ tokens,
/// + <c>pos_embedding</c> (1, tokens, width), pre-norm blocks (<see cref="PreNormBlock.Vit"/>: attention, GELU MLP ×4), final <c>norm</c>.
/// Output <c>(B, width, ⌊L/patch⌋)</c>, a feature map like the ResNets'.
/// </summary>
public sealed class VisionTransformer1d : EcgEncoder
{
    private readonly Conv1d to_patch_embedding;
    private readonly Parameter pos_embedding;
    private readonly ModuleList<PreNormBlock> blocks;
    private readonly LayerNorm norm;
    private readonly long width, patch, tokens, heads;

    /// <summary>ViT for inputs of <paramref name="length"/> samples.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="leads">Input channels.</param>
    /// <param name="length">Input samples; the token count ⌊length/patch⌋ follows it.</param>
    /// <param name="patch">Samples per token.</param>
    /// <param name="width">Token width.</param>
    /// <param name="depth">Transformer blocks.</param>
    /// <param name="heads">Attention heads (width/heads per head).</param>
    /// <param name="dropPath">Drop-path rate of the last block, rising linearly from 0.</param>
    public VisionTransformer1d(string name, long leads, long length, long patch, long width, int depth, long heads,
        double dropPath = 0) : base(name)
    {
        if (length < patch) throw new Deri.Config.ConfigException($"input length {length} is shorter than one patch ({patch} samples)");
        if (width % heads != 0) throw new Deri.Config.ConfigException($"ViT width {width} is not divisible by {heads} heads");
        (this.width, this.patch, tokens, this.heads) = (width, patch, length / patch, heads);
        to_patch_embedding = Conv1d(leads, width, patch, stride: patch);
        pos_embedding = Parameter(randn(1, tokens, width).mul_(Scalars.Constant(0.02)));
        blocks = new ModuleList<PreNormBlock>();
        for (int i = 0; i < depth; i++)
            blocks.Add(PreNormBlock.Vit($"{i}", width, heads, depth > 1 ? dropPath * i / (depth - 1) : 0));
        norm = LayerNorm(width);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override long OutputChannels => width;

    /// <summary>Attention heads of every block (exporters read it here rather than from the architecture name).</summary>
    public long Heads => heads;

    /// <inheritdoc/>
    public override long OutputLength(long inputLength) => inputLength / patch;

    /// <summary>x: (B, leads, L) → (B, width, ⌊L/patch⌋); L must be the length the model was built for.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 3 || x.shape[2] / patch != tokens)
            throw new ArgumentException($"{GetName()}: built for {tokens} tokens of {patch} samples, got input ({string.Join(", ", x.shape)})");
        using var scope = NewDisposeScope();
        var y = to_patch_embedding.forward(x).transpose(1, 2).add(pos_embedding, Scalars.One); // (B, tokens, width)
        foreach (var block in blocks) y = block.forward(y);
        return norm.forward(y).transpose(1, 2).MoveToOuterDisposeScope();
    }
}
