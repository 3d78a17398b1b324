using Deri.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Losses;

/// <summary>
/// Symmetric CLIP loss (METHOD §3): L2-normalise the rows of x and y (B, D), logits x·yᵀ / temperature,
/// cross-entropy with the diagonal as target in both directions, summed. Returns a scalar.
/// </summary>
public sealed class ClipLoss : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly double temperature;

    /// <summary>Loss with the given temperature (0.07 in the release).</summary>
    public ClipLoss(double temperature = 0.07) : base("clip_loss")
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be positive");
        this.temperature = temperature;
    }

    /// <summary>x (B, D), y (B, D) → scalar.</summary>
    public override Tensor forward(Tensor x, Tensor y)
    {
        if (x.dim() != 2 || y.dim() != 2 || x.shape[0] != y.shape[0])
            throw new ArgumentException($"clip loss: expected two (B, D) tensors with the same B, got ({string.Join(", ", x.shape)}) and ({string.Join(", ", y.shape)})");
        using var scope = NewDisposeScope();
        var logits = functional.normalize(x, dim: -1).mm(functional.normalize(y, dim: -1).t()).div_(Scalars.Constant(temperature));
        using var batch = x.shape[0].ToScalar();
        var labels = arange(Scalars.Zero, batch, Scalars.One, dtype: ScalarType.Int64, device: x.device);
        var loss = functional.cross_entropy(logits, labels).add(functional.cross_entropy(logits.t(), labels), Scalars.One);
        return loss.MoveToOuterDisposeScope();
    }
}
