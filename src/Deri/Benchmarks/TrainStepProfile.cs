using System.Diagnostics;
using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Benchmarks;

/// <summary>
/// Time and counted work of one part of the training step, measured alone on the input shape it sees in the step.
/// </summary>
/// <param name="Name">Part (a module by its state-dict name) or operator (e.g. <c>conv k3 s1 64→64 L2500</c>).</param>
/// <param name="Kind"><c>part</c> (a module of the model) or <c>op</c> (one convolution shape of the encoder).</param>
/// <param name="Count">How often the step runs it (convolution shapes repeat across blocks).</param>
/// <param name="ForwardMs">Forward time per step (all <paramref name="Count"/> runs), ms.</param>
/// <param name="BackwardMs">Backward time per step (input and weight gradients), ms.</param>
/// <param name="ForwardGflop">Counted forward work per step, GFLOP (2 per multiply-add).</param>
public sealed record ProfileRow(string Name, string Kind, int Count, double ForwardMs, double BackwardMs, double ForwardGflop)
{
    /// <summary>Forward + backward time per step, ms.</summary>
    public double TotalMs => ForwardMs + BackwardMs;

    /// <summary>Achieved rate over forward and backward, GFLOP/s, counting backward as twice the forward work.</summary>
    public double Gflops => TotalMs > 0 ? 3 * ForwardGflop / (TotalMs / 1000) : 0;
}

/// <summary>Per-part and per-operator profile of a training step (see <see cref="TrainStepProfile.Run"/>).</summary>
/// <param name="Rows">Parts of the model, then the encoder's convolution shapes.</param>
/// <param name="MatmulGflops">Measured float32 matrix-product rate on this machine and thread count, GFLOP/s: the roof.</param>
/// <param name="StepForwardGflop">Counted forward work of the whole model per step, GFLOP.</param>
public sealed record TrainProfileResult(IReadOnlyList<ProfileRow> Rows, double MatmulGflops, double StepForwardGflop)
{
    /// <summary>Samples/s the step would reach if all its counted work (forward + 2 × forward for backward) ran at the matmul rate.</summary>
    public double RoofSamplesPerSecond(int batch) => MatmulGflops * batch / (3 * StepForwardGflop);
}

/// <summary>
/// Times each part of a DERI training step on its own: the encoder stem and stages, the 1×1 down-projection, the attention
/// poolings, the text projection, the two cross-modal decoders, and every distinct convolution shape of the encoder. Each
/// part runs forward and backward (with parameter gradients, and the input gradient wherever the real step needs it)
/// on random inputs of the shape it gets in the step. LibTorch exposes no per-operator profiler through TorchSharp, so
/// this is "timing by module"; the rows' sum next to the measured step shows what the isolation leaves out (losses,
/// normalisations, gathers, the optimizer).
/// </summary>
public static class TrainStepProfile
{
    /// <summary>Profiles the step of <paramref name="options"/> on <paramref name="device"/> (ResNet backbones only).</summary>
    /// <param name="options">The benchmark's shapes (batch, length, text length, backbone, seed).</param>
    /// <param name="device">Where to run.</param>
    /// <param name="repeats">Timed repeats per row (after one untimed run).</param>
    /// <exception cref="ArgumentException">A backbone other than a 1-D ResNet.</exception>
    public static TrainProfileResult Run(TrainBenchOptions options, Device device, int repeats = 3)
    {
        manual_seed(options.Seed);
        var config = options.ModelConfig();
        using var model = ModelFactory.Create(config);
        model.to(device).train();
        if (model.Encoder is not ResNet1d) throw new InputValueException($"the profile covers 1-D ResNet backbones, not {options.EcgModel}");
        var parts = model.named_children().ToDictionary(c => c.name, c => c.module);
        var encoderParts = model.Encoder.named_children().ToDictionary(c => c.name, c => c.module);
        long b = options.Batch, d = model.Width, text = model.TextDim, n = model.Tokens;
        var rows = new List<ProfileRow>();

        // Encoder: stem (conv1 → bn1 → ReLU) and the four stages, each on the activation of the previous one.
        Tensor x;
        using (no_grad()) x = ChannelsLast1d.From1d(randn(b, model.Leads, options.Length, device: device));   // (B, 12, 1, L)
        var convs = new List<(Conv1d Conv, long[] Input)>();
        var stem = (Conv1d)encoderParts["conv1"];
        var bn1 = (BatchNorm)encoderParts["bn1"];
        convs.Add((stem, x.shape));
        Tensor Stem(Tensor t) => ChannelsLast1d.Norm(bn1, ChannelsLast1d.Conv(stem, t), true).relu_();
        rows.Add(Time("ecg_encoder.stem", x, inputGrad: false, Stem, stem.parameters().Concat(bn1.parameters()), repeats, ConvGflop(stem, x.shape)));
        Tensor act;
        using (no_grad()) act = Stem(x);
        foreach (string stage in new[] { "layer1", "layer2", "layer3", "layer4" })
        {
            var seq = (Sequential)encoderParts[stage];
            double gflop = CollectConvs(seq, act.shape, convs);
            rows.Add(Time($"ecg_encoder.{stage}", act, inputGrad: true, seq.forward, seq.parameters(), repeats, gflop));
            Tensor next;
            using (no_grad()) next = seq.forward(act);
            act.Dispose();
            act = next;
        }

        // Heads, on the shapes Forward gives them: F (B, C, n'), tokens (B, n, d), text hidden (B, T, text dim).
        using var map = act.squeeze(2);
        var downconv = (Conv1d)parts["downconv"];
        rows.Add(Time("downconv", map, true, t => Pointwise.Conv(downconv, t), downconv.parameters(), repeats, ConvGflop(downconv, map.shape)));
        using var tokens = randn(b, n, d, device: device);
        rows.Add(TimeModule("att_pool_head", parts, tokens, repeats, n));
        var projT = (nn.Module<Tensor, Tensor>)parts["proj_t"];
        using var hidden = randn(b, options.TextLength, text, device: device);
        using var pooled = randn(b, text, device: device);
        rows.Add(Time("proj_t (pooled + hidden + decoded text)", hidden, false,
            t => cat([projT.forward(t), projT.forward(pooled).unsqueeze(1), projT.forward(pooled).unsqueeze(1)], 1), projT.parameters(), repeats,
            MatrixGflop(projT, b * (options.TextLength + 2))));
        if (model.Method == PretrainingMethod.Deri)
        {
            using var kept = randn(b, model.Keep, d, device: device);
            rows.Add(TimeModule("rme_pool1", parts, kept, repeats, model.Keep));
            rows.Add(TimeModule("rme_pool2", parts, kept, repeats, model.Keep));
            using var projected = randn(b, options.TextLength, d, device: device);
            rows.Add(TimeModule("ecg_decoder", parts, projected, repeats, options.TextLength + 2));
            using var separated = randn(b, n + 1, d, device: device);
            rows.Add(TimeModule("text_decoder", parts, separated, repeats, n + 3));
        }

        // Operators: each distinct convolution shape of the encoder, alone.
        foreach (var group in convs.GroupBy(c => Signature(c.Conv, c.Input)))
        {
            var (conv, shape) = group.First();
            using Tensor input = ChannelsLast1d.From1d(randn(shape[0], shape[1], shape[3], device: device));
            bool inputGrad = !ReferenceEquals(conv, stem);
            var one = Time(group.Key, input, inputGrad, t => ChannelsLast1d.Conv(conv, t), conv.parameters(), repeats, ConvGflop(conv, shape));
            int count = group.Count();
            rows.Add(one with { Kind = "op", Count = count, ForwardMs = one.ForwardMs * count, BackwardMs = one.BackwardMs * count, ForwardGflop = one.ForwardGflop * count });
        }
        act.Dispose();
        x.Dispose();

        double stepGflop = rows.Where(r => r.Kind == "part").Sum(r => r.ForwardGflop);
        return new TrainProfileResult(rows, MatmulGflops(device), stepGflop);
    }

    /// <summary>Measured float32 matrix-product rate, GFLOP/s (2048² · 2048 products, best of 5).</summary>
    public static double MatmulGflops(Device device)
    {
        using var scope = NewDisposeScope();
        const long m = 2048;
        var a = randn(m, m, device: device);
        var c = randn(m, m, device: device);
        mm(a, c).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            mm(a, c).Dispose();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return Math.Round(2.0 * m * m * m / best / 1e9, 1);
    }

    private static ProfileRow TimeModule(string name, Dictionary<string, nn.Module> parts, Tensor input, int repeats, long tokens)
    {
        var module = (nn.Module<Tensor, Tensor>)parts[name];
        // Counted: every weight matrix once per token, plus the attention products (QKᵀ and AV, 2·T²·width each) per block.
        double attention = module.named_parameters()
            .Where(p => p.name.EndsWith("in_proj_weight", StringComparison.Ordinal) || p.name.EndsWith("qkv.weight", StringComparison.Ordinal))
            .Sum(p => 4.0 * input.shape[0] * tokens * tokens * (p.parameter.shape[0] / 3) / 1e9);   // inner width = rows / 3
        return Time(name, input, true, module.forward, module.parameters(), repeats, MatrixGflop(module, input.shape[0] * tokens) + attention);
    }

    // Forward and backward of each repeat timed separately (the gradient seed's allocation between them untimed), after one untimed run.
    private static ProfileRow Time(string name, Tensor input, bool inputGrad, Func<Tensor, Tensor> forward, IEnumerable<Parameter> parameters,
        int repeats, double gflop)
    {
        var ps = parameters.ToArray();
        double fwd = 0, bwd = 0;
        for (int i = 0; i <= repeats; i++)
        {
            using var scope = NewDisposeScope();
            foreach (var p in ps) p.grad = null;
            var x = inputGrad ? input.detach().requires_grad_(true) : input;
            long t0 = Stopwatch.GetTimestamp();
            var y = forward(x);
            long t1 = Stopwatch.GetTimestamp();
            var g = ones_like(y);
            long t2 = Stopwatch.GetTimestamp();
            autograd.backward([y], [g]);
            long t3 = Stopwatch.GetTimestamp();
            if (i == 0) continue;
            fwd += Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
            bwd += Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds;
        }
        foreach (var p in ps) p.grad = null;
        return new ProfileRow(name, "part", 1, Math.Round(fwd / repeats, 1), Math.Round(bwd / repeats, 1), gflop);
    }

    // Convolutions of a stage in order, with their input shapes (B, C, 1, L); returns their forward GFLOP.
    private static double CollectConvs(Sequential stage, long[] input, List<(Conv1d, long[])> convs)
    {
        double gflop = 0;
        long[] shape = input;
        foreach (var block in stage.children())
        {
            var blockConvs = block.named_children().Where(c => c.module is Conv1d).Select(c => (Conv1d)c.module).ToList();
            var shortcut = block.named_children().Where(c => c.name == "downsample").SelectMany(c => c.module.children()).OfType<Conv1d>().ToList();
            long[] s = shape;
            foreach (var conv in blockConvs)
            {
                convs.Add((conv, s));
                gflop += ConvGflop(conv, s);
                s = [s[0], conv.out_channels, 1, (s[3] + 2 * conv.padding![0] - conv.kernel_size![0]) / conv.stride![0] + 1];
            }
            foreach (var conv in shortcut)
            {
                convs.Add((conv, shape));
                gflop += ConvGflop(conv, shape);
            }
            shape = s;
        }
        return gflop;
    }

    // 2 · B · O · L_out · I · k for input (B, I, [1,] L).
    private static double ConvGflop(Conv1d conv, long[] input)
    {
        long l = input[^1];
        long k = conv.kernel_size![0], s = conv.stride![0], p = conv.padding![0];
        long lout = (l + 2 * p - k) / s + 1;
        return 2.0 * input[0] * conv.out_channels * lout * conv.in_channels * k / 1e9;
    }

    // 2 · rows · (entries of every weight matrix): the linear layers' work when each runs once per row.
    private static double MatrixGflop(nn.Module module, long rows) =>
        2.0 * rows * module.parameters().Where(p => p.dim() == 2).Sum(p => (double)p.numel()) / 1e9;

    private static string Signature(Conv1d conv, long[] input) =>
        $"conv k{conv.kernel_size![0]} s{conv.stride![0]} {conv.in_channels}→{conv.out_channels} L{input[^1]}";
}
