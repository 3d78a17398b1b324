using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Inference;

/// <summary>
/// A 1-D convolution with the eval-mode batch norm that follows it folded in:
/// BN(conv(x)) = conv'(x) with W' = W·γ/√(σ²+ε) per output channel and b' = β + (b − μ)·γ/√(σ²+ε).
/// </summary>
/// <param name="Weight">Folded kernel <c>(O, I, k)</c>, float32.</param>
/// <param name="Bias">Folded bias <c>(O)</c>, float32.</param>
/// <param name="Stride">Convolution stride.</param>
/// <param name="Padding">Zero padding on each side.</param>
public sealed record FoldedConv(Tensor Weight, Tensor Bias, long Stride, long Padding) : IDisposable
{
    /// <summary>Folds <paramref name="bn"/> (its running statistics, affine parameters and ε) into <paramref name="conv"/>.</summary>
    /// <exception cref="ArgumentException">The batch norm has no running statistics or its width differs from the convolution's output.</exception>
    public static FoldedConv Fold(Conv1d conv, BatchNorm bn)
    {
        if (bn.running_mean is null || bn.running_var is null)
            throw new ArgumentException($"{bn.GetName()}: batch norm without running statistics cannot be folded");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = conv.weight!.detach().to_type(ScalarType.Float64);                           // (O, I, k)
        long o = w.shape[0];
        if (bn.running_mean.shape[0] != o)
            throw new ArgumentException($"{bn.GetName()}: {bn.running_mean.shape[0]} channels after a convolution with {o} outputs");
        var gamma = bn.weight is null ? ones(o, ScalarType.Float64, w.device) : bn.weight.detach().to_type(ScalarType.Float64);
        var beta = bn.bias is null ? zeros(o, ScalarType.Float64, w.device) : bn.bias.detach().to_type(ScalarType.Float64);
        var scale = gamma / bn.running_var.to_type(ScalarType.Float64).add(Scalars.Constant(bn.eps), Scalars.One).sqrt();    // (O)
        var b0 = conv.bias is null ? zeros(o, ScalarType.Float64, w.device) : conv.bias.detach().to_type(ScalarType.Float64);
        var weight = (w * scale.view(o, 1, 1)).to_type(ScalarType.Float32);
        var bias = beta.add((b0 - bn.running_mean.to_type(ScalarType.Float64)) * scale, Scalars.One).to_type(ScalarType.Float32);
        return new FoldedConv(weight.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope(), conv.stride![0], conv.padding![0]);
    }

    /// <summary>A convolution without batch norm, copied as it is.</summary>
    public static FoldedConv Copy(Conv1d conv)
    {
        using var _ = no_grad();
        long o = conv.weight!.shape[0];
        var bias = conv.bias is null ? zeros(o, ScalarType.Float32, conv.weight.device) : conv.bias.detach().to_type(ScalarType.Float32).clone();
        return new FoldedConv(conv.weight.detach().to_type(ScalarType.Float32).clone(), bias, conv.stride![0], conv.padding![0]);
    }

    /// <summary>
    /// x: <c>(B, I, L)</c>, or <c>(B, I, 1, L)</c> in channels-last memory (run as a 1×k 2-D convolution, as
    /// <see cref="Encoders.ResNet1d.ChannelsLast"/> does) → <c>(B, O, L')</c> or <c>(B, O, 1, L')</c>.
    /// </summary>
    public Tensor Forward(Tensor x) => x.dim() == 3
        ? functional.conv1d(x, Weight, Bias, stride: Stride, padding: Padding)
        : functional.conv2d(x, Weight.unsqueeze(2), Bias, strides: [1, Stride], padding: [0, Padding]);

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}
