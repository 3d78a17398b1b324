using Deri.Runtime;
using Deri.Models.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Models.Inference;

/// <summary>One residual block of a <see cref="FoldedResNet1d"/>: two (basic) or three (bottleneck) folded convolutions, ReLU between them, and the shortcut.</summary>
/// <param name="Name">State-dict prefix of the block, e.g. <c>layer2.0</c>.</param>
/// <param name="Convs">The block's convolutions in order (conv1, conv2[, conv3]), batch norms folded in.</param>
/// <param name="Downsample">The folded 1×1 shortcut convolution, or null for the identity.</param>
public sealed record FoldedBlock(string Name, IReadOnlyList<FoldedConv> Convs, FoldedConv? Downsample);

/// <summary>
/// The eval-mode form of a <see cref="ResNet1d"/>: every batch norm folded into the convolution before it, so a
/// forward is convolutions, ReLUs and additions only. Same output as the source network in eval mode (to float32
/// rounding). The folded tensors are copies: later changes to the source network do not reach it.
/// </summary>
public sealed class FoldedResNet1d : IDisposable
{
    private FoldedResNet1d(FoldedConv stem, IReadOnlyList<FoldedBlock> blocks, long outputChannels, bool channelsLast)
    {
        Stem = stem;
        Blocks = blocks;
        OutputChannels = outputChannels;
        ChannelsLast = channelsLast;
    }

    /// <summary>The stem convolution (conv1 + bn1).</summary>
    public FoldedConv Stem { get; }

    /// <summary>The residual blocks, stage by stage.</summary>
    public IReadOnlyList<FoldedBlock> Blocks { get; }

    /// <summary>Channels of the output feature map.</summary>
    public long OutputChannels { get; }

    /// <summary>Whether the convolutions run as 1×k 2-D convolutions in channels-last memory (as <see cref="ResNet1d.ChannelsLast"/>).</summary>
    public bool ChannelsLast { get; }

    /// <summary>Folds the batch norms of <paramref name="encoder"/> (its current weights and running statistics).</summary>
    /// <exception cref="ArgumentException">The network does not have the module layout of <see cref="ResNet1d"/>.</exception>
    public static FoldedResNet1d Fold(ResNet1d encoder)
    {
        var modules = encoder.named_modules().ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        T Get<T>(string name) where T : nn.Module => modules.TryGetValue(name, out var m) && m is T t ? t
            : throw new ArgumentException($"{encoder.GetName()}: no {typeof(T).Name} '{name}' in the ResNet");
        var stem = FoldedConv.Fold(Get<Conv1d>("conv1"), Get<BatchNorm>("bn1"));
        var blocks = new List<FoldedBlock>();
        for (int stage = 1; stage <= 4; stage++)
        {
            for (int j = 0; modules.ContainsKey($"layer{stage}.{j}"); j++)
            {
                string p = $"layer{stage}.{j}";
                int convs = modules.ContainsKey($"{p}.conv3") ? 3 : 2;
                var folded = Enumerable.Range(1, convs)
                    .Select(i => FoldedConv.Fold(Get<Conv1d>($"{p}.conv{i}"), Get<BatchNorm>($"{p}.bn{i}"))).ToList();
                var down = modules.ContainsKey($"{p}.downsample")
                    ? FoldedConv.Fold(Get<Conv1d>($"{p}.downsample.0"), Get<BatchNorm>($"{p}.downsample.1"))
                    : null;
                blocks.Add(new FoldedBlock(p, folded, down));
            }
        }
        if (blocks.Count == 0) throw new ArgumentException($"{encoder.GetName()}: the ResNet has no residual blocks");
        return new FoldedResNet1d(stem, blocks, encoder.OutputChannels, encoder.ChannelsLast);
    }

    /// <summary>x: (B, leads, L) → (B, OutputChannels, ⌈L/16⌉), the source network's eval-mode feature map.</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Channels-last: (B, C, L) → (B, C, 1, L) laid out (B, L, C) in memory, where oneDNN needs no reorders.
        var y = ChannelsLast ? x.unsqueeze(2).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x;
        y = Stem.Forward(y).relu_();
        foreach (var block in Blocks)
        {
            var h = y;
            for (int i = 0; i < block.Convs.Count; i++)
            {
                h = block.Convs[i].Forward(h);
                if (i < block.Convs.Count - 1) h = h.relu_();
            }
            y = h.add_(block.Downsample is { } d ? d.Forward(y) : y, Scalars.One).relu_();
        }
        return (ChannelsLast ? y.squeeze(2) : y).MoveToOuterDisposeScope();
    }

    /// <summary>Releases the folded tensors.</summary>
    public void Dispose()
    {
        Stem.Dispose();
        foreach (var b in Blocks)
        {
            foreach (var c in b.Convs) c.Dispose();
            b.Downsample?.Dispose();
        }
    }
}
