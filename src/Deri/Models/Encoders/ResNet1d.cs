using Deri.Models.Layers;
using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Encoders;

/// <summary>
/// 1-D ResNet (METHOD §2.1): conv(leads→w, k7, s2, p3, no bias) → BN → ReLU, no max-pool, then four
/// stages of <see cref="BasicBlock1d"/> (ResNet18/34) or <see cref="Bottleneck1d"/> (ResNet50/101)
/// with widths w, 2w, 4w, 8w, stages 2–4 downsampling by 2. Output <c>(B, 8w·expansion, ⌈L/16⌉)</c>
/// (w = 64: <c>(B, 512, 313)</c> for ResNet18 on 5000 samples). State-dict keys as torchvision's:
/// <c>conv1</c>, <c>bn1</c>, <c>layer1.0.conv1</c> …
/// </summary>
public sealed class ResNet1d : EcgEncoder
{
    private readonly Conv1d conv1;
    private readonly OwnedBatchNorm1d bn1;
    private readonly Sequential layer1, layer2, layer3, layer4;
    private readonly long outputChannels;

    /// <summary>Builds a ResNet with <paramref name="blocks"/> blocks per stage.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="blocks">Blocks in each of the four stages, e.g. [2, 2, 2, 2] for ResNet18.</param>
    /// <param name="bottleneck">Bottleneck blocks (expansion 4) instead of basic blocks.</param>
    /// <param name="leads">Input channels.</param>
    /// <param name="width">Stem width w (64 in the release).</param>
    public ResNet1d(string name, IReadOnlyList<int> blocks, bool bottleneck, long leads = 12, long width = 64) : base(name)
    {
        if (blocks.Count != 4) throw new ArgumentException($"a ResNet has 4 stages, got {blocks.Count}", nameof(blocks));
        conv1 = Conv1d(leads, width, 7, stride: 2, padding: 3, bias: false);
        bn1 = new OwnedBatchNorm1d(width);
        long inp = width;
        var stages = new Sequential[4];
        for (int i = 0; i < 4; i++)
        {
            long planes = width << i;
            var modules = new List<(string, Module<Tensor, Tensor>)>();
            for (int j = 0; j < blocks[i]; j++)
            {
                long stride = i > 0 && j == 0 ? 2 : 1;
                Module<Tensor, Tensor> block = bottleneck
                    ? new Bottleneck1d($"{j}", inp, planes, stride)
                    : new BasicBlock1d($"{j}", inp, planes, stride);
                modules.Add(($"{j}", block));
                inp = planes * (bottleneck ? Bottleneck1d.Expansion : 1);
            }
            stages[i] = Sequential(modules);
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        outputChannels = inp;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override long OutputChannels => outputChannels;

    /// <inheritdoc/>
    public override long OutputLength(long inputLength)
    {
        // The stem and the first block of stages 2–4 each map L to ⌈L/2⌉ (k7 p3 s2 and k3 p1 s2 / k1 s2).
        long l = inputLength;
        for (int i = 0; i < 4; i++) l = (l + 1) / 2;
        return l;
    }

    /// <summary>
    /// Run the convolutions as 2-D convolutions over (B, C, 1, L) tensors in channels-last memory
    /// (B, L, C), where oneDNN needs no layout reorders (≈1.3–1.7× faster convolutions on CPU than 1-D
    /// ones in NCL); false runs plain Conv1d/BatchNorm1d. Same parameters and results either way.
    /// </summary>
    public bool ChannelsLast { get; set; } = true;

    /// <summary>x: (B, leads, L) → (B, OutputChannels, OutputLength(L)).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = ChannelsLast ? ChannelsLast1d.From1d(x) : x;
        y = ChannelsLast1d.Norm(bn1, ChannelsLast1d.Conv(conv1, y), training).relu_();
        y = layer4.forward(layer3.forward(layer2.forward(layer1.forward(y))));
        return (ChannelsLast ? y.squeeze(2) : y).MoveToOuterDisposeScope();
    }
}

/// <summary>ResNet basic block: two k3 convolutions with BN, 1×1 conv + BN shortcut when the shape changes.</summary>
public sealed class BasicBlock1d : nn.Module<Tensor, Tensor>
{
    private readonly Conv1d conv1, conv2;
    private readonly OwnedBatchNorm1d bn1, bn2;
    private readonly Sequential? downsample;

    /// <summary>Block from <paramref name="inp"/> to <paramref name="planes"/> channels, downsampling by <paramref name="stride"/>.</summary>
    public BasicBlock1d(string name, long inp, long planes, long stride) : base(name)
    {
        conv1 = Conv1d(inp, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = new OwnedBatchNorm1d(planes);
        conv2 = Conv1d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = new OwnedBatchNorm1d(planes);
        if (stride != 1 || inp != planes)
            downsample = Sequential(Conv1d(inp, planes, 1, stride: stride, bias: false), new OwnedBatchNorm1d(planes));
        RegisterComponents();
    }

    /// <summary>x: (B, inp, L) → (B, planes, ⌈L/stride⌉); also (B, inp, 1, L) channels-last inside <see cref="ResNet1d"/>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = ChannelsLast1d.Norm(bn1, ChannelsLast1d.Conv(conv1, x), training).relu_();
        y = ChannelsLast1d.Norm(bn2, ChannelsLast1d.Conv(conv2, y), training);
        y = y.add_(ChannelsLast1d.Shortcut(downsample, x, training), Scalars.One).relu_();
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>ResNet bottleneck block (torchvision v1.5: the stride sits on the k3 convolution), expansion 4.</summary>
public sealed class Bottleneck1d : nn.Module<Tensor, Tensor>
{
    /// <summary>Output channels per planes.</summary>
    public const int Expansion = 4;

    private readonly Conv1d conv1, conv2, conv3;
    private readonly OwnedBatchNorm1d bn1, bn2, bn3;
    private readonly Sequential? downsample;

    /// <summary>Block from <paramref name="inp"/> to 4·<paramref name="planes"/> channels, downsampling by <paramref name="stride"/>.</summary>
    public Bottleneck1d(string name, long inp, long planes, long stride) : base(name)
    {
        long output = planes * Expansion;
        conv1 = Conv1d(inp, planes, 1, bias: false);
        bn1 = new OwnedBatchNorm1d(planes);
        conv2 = Conv1d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn2 = new OwnedBatchNorm1d(planes);
        conv3 = Conv1d(planes, output, 1, bias: false);
        bn3 = new OwnedBatchNorm1d(output);
        if (stride != 1 || inp != output)
            downsample = Sequential(Conv1d(inp, output, 1, stride: stride, bias: false), new OwnedBatchNorm1d(output));
        RegisterComponents();
    }

    /// <summary>x: (B, inp, L) → (B, 4·planes, ⌈L/stride⌉); also (B, inp, 1, L) channels-last inside <see cref="ResNet1d"/>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = ChannelsLast1d.Norm(bn1, ChannelsLast1d.Conv(conv1, x), training).relu_();
        y = ChannelsLast1d.Norm(bn2, ChannelsLast1d.Conv(conv2, y), training).relu_();
        y = ChannelsLast1d.Norm(bn3, ChannelsLast1d.Conv(conv3, y), training);
        y = y.add_(ChannelsLast1d.Shortcut(downsample, x, training), Scalars.One).relu_();
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Convolution and batch norm of the 1-D ResNet on either (B, C, L) tensors or (B, C, 1, L) tensors
/// whose memory is laid out (B, L, C) ("channels-last", which TorchSharp has no API for but LibTorch
/// recognises from the strides). The parameters stay those of Conv1d/BatchNorm1d.
/// </summary>
internal static class ChannelsLast1d
{
    /// <summary>(B, C, L) → (B, C, 1, L) with channels-last strides.</summary>
    public static Tensor From1d(Tensor x) => x.unsqueeze(2).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    public static Tensor Conv(Conv1d conv, Tensor x)
    {
        if (conv.kernel_size![0] == 1) return Pointwise.Conv(conv, x);
        if (x.dim() == 3) return conv.forward(x);
        // weight (O, I, k) → (O, I, 1, k): a 1×k 2-D kernel.
        return functional.conv2d(x, conv.weight!.unsqueeze(2), conv.bias, strides: [1, conv.stride![0]], padding: [0, conv.padding![0]]);
    }

    public static Tensor Norm(BatchNorm bn, Tensor x, bool training)
    {
        if (training && bn.num_batches_tracked is { } tracked)
        {
            // Both the increment and add_'s alpha are owned (Scalars): add_(Scalar) alone would make its alpha
            // implicitly, which the GC may finalise during the native call ("Scalar.h:140 toLong").
            using (no_grad()) tracked.add_(Scalars.One, Scalars.One);
        }
        return functional.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, training, bn.momentum ?? 0.1, bn.eps);
    }

    public static Tensor Shortcut(Sequential? downsample, Tensor x, bool training)
    {
        if (downsample is null) return x;
        var modules = downsample.children().ToArray();
        return Norm((BatchNorm)modules[1], Conv((Conv1d)modules[0], x), training);
    }
}
