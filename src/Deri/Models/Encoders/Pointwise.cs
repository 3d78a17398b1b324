using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Encoders;

/// <summary>
/// Kernel-size-1 convolutions computed as matrix products over the channel axis: the same parameters
/// (<c>weight</c> (O, I, 1), optional <c>bias</c>) and the same result as <see cref="TorchSharp.Modules.Conv1d"/>, up to float rounding.
/// </summary>
/// <remarks>
/// Why: on LibTorch's own convolution path (what <see cref="Runtime.OneDnnGuard"/> selects on AMD processors with
/// AVX-512) a 1×1 convolution goes through im2col + GEMM, while a strided slice and one matrix product is all it is; the
/// training step of <c>deri bench train</c> ran 4.49 → 5.08 samples/s with this change alone. Where a user turns oneDNN
/// back on (<c>ONEDNN_MAX_CPU_ISA=ALL</c>), it also keeps training off oneDNN's 1×1 backward-weights kernel, the one that
/// corrupted the heap on those processors.
/// </remarks>
public static class Pointwise
{
    /// <summary>
    /// x (B, I, L) or (B, I, 1, L) (channels-last strides, as inside <see cref="ResNet1d"/>) → (B, O, ⌈L/s⌉) or
    /// (B, O, 1, ⌈L/s⌉) with channels-last strides, for a kernel-size-1 <paramref name="conv"/> of stride s, no padding.
    /// </summary>
    /// <exception cref="ArgumentException">The convolution's kernel is not 1, or it pads, dilates or groups.</exception>
    public static Tensor Conv(Conv1d conv, Tensor x)
    {
        if (conv.kernel_size![0] != 1 || conv.padding is { } p && p[0] != 0 || conv.groups != 1 || conv.dilation is { } d && d[0] != 1)
            throw new ArgumentException("Pointwise.Conv needs an unpadded, undilated, ungrouped convolution with kernel size 1");
        long stride = conv.stride![0];
        var weight = conv.weight!.squeeze(-1);                          // (O, I)
        using var scope = NewDisposeScope();
        int axis = (int)x.dim() - 1;
        var picked = stride == 1 ? x : x.slice(axis, 0, x.shape[axis], stride);   // (B, I, [1,] L')
        Tensor y;
        if (x.dim() == 3)
        {
            // (B, L', I) · Wᵀ → (B, L', O) → (B, O, L') as a view.
            y = functional.linear(picked.transpose(1, 2), weight, conv.bias).transpose(1, 2);
        }
        else
        {
            // (B, 1, L', I) · Wᵀ → (B, 1, L', O), contiguous, which is (B, O, 1, L') in channels-last memory.
            y = functional.linear(picked.permute(0, 2, 3, 1), weight, conv.bias).permute(0, 3, 1, 2);
        }
        return y.MoveToOuterDisposeScope();
    }
}
