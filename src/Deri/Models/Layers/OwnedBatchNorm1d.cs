using Deri.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Models.Layers;

/// <summary>
/// <c>torch.nn.BatchNorm1d</c> whose forward owns its Scalars. TorchSharp 0.107's <c>BatchNorm.forward</c> counts batches
/// with <c>num_batches_tracked.add_(1)</c>, an implicit Scalar (and an implicit alpha) that the garbage collector may
/// finalise during the native call: MoCo v3 and SimSiam pretraining died with "Unknown scalar type" in
/// <c>THSTensor_add_scalar_</c> under <c>shared/tools/gcstress</c> (see <see cref="Scalars"/>). This class derives from
/// TorchSharp's <see cref="TorchSharp.Modules.BatchNorm"/> (so its parameters and buffers — <c>weight</c>, <c>bias</c>,
/// <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c> — keep PyTorch's state-dict names) and repeats its
/// forward with the counter's increment owned. Input <c>(B, C)</c> or <c>(B, C, L)</c>.
/// </summary>
public sealed class OwnedBatchNorm1d : TorchSharp.Modules.BatchNorm
{
    /// <summary>Creates the layer as <c>nn.BatchNorm1d(features, eps, momentum, affine, track_running_stats)</c>.</summary>
    /// <param name="features">Channels C.</param>
    /// <param name="eps">Added to the variance.</param>
    /// <param name="momentum">Running-statistics momentum.</param>
    /// <param name="affine">Learnable weight and bias.</param>
    /// <param name="trackRunningStats">Keep running mean and variance.</param>
    public OwnedBatchNorm1d(long features, double eps = 1e-5, double momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base(features, eps, momentum, affine, trackRunningStats, null, null, "BatchNorm1d")
    {
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        double factor = momentum ?? 0.0;
        if (training && track_running_stats && num_batches_tracked is { } tracked)
        {
            using (no_grad()) tracked.add_(Scalars.One, Scalars.One);
            // Without a momentum the running statistics are a cumulative average: 1 / batches seen.
            if (momentum is null) factor = 1.0 / tracked.item<long>();
        }
        bool useBatchStats = training || (running_mean is null && running_var is null);
        bool useRunning = !training || track_running_stats;
        return nn.functional.batch_norm(input, useRunning ? running_mean : null, useRunning ? running_var : null,
            weight, bias, useBatchStats, factor, eps);
    }

    /// <inheritdoc />
    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != 2 && input.ndim != 3)
            throw new ArgumentException($"expected 2D or 3D input (B, C) or (B, C, L), got {input.ndim}D input");
    }
}
