using Deri.Runtime;
using static TorchSharp.torch;

namespace Deri.Models.Layers;

/// <summary>Stochastic depth: drops a whole residual branch per sample.</summary>
public static class DropPath
{
    /// <summary>
    /// In training with <paramref name="rate"/> &gt; 0, multiplies each sample of <paramref name="x"/> (B, …)
    /// by 0 with probability rate and by 1/(1−rate) otherwise; else returns <paramref name="x"/>.
    /// </summary>
    public static Tensor Apply(Tensor x, double rate, bool training)
    {
        if (rate <= 0 || !training) return x;
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        shape[0] = x.shape[0];
        using var keep = rand(shape, dtype: x.dtype, device: x.device).lt_(Scalars.Constant(1 - rate)).to(x.dtype).div_(Scalars.Constant(1 - rate));
        return x.mul(keep);
    }
}
