using System.Diagnostics;
using System.Numerics;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Evaluation;

/// <summary>
/// Linear-probing hyper-parameters (METHOD §4, supplementary Table 2). The learning rate follows a per-step
/// schedule: linear warm-up over the steps of the first <see cref="WarmupEpochs"/> epochs (from lr/warm-up
/// steps up to lr), then cosine annealing to 0 over the remaining steps.
/// </summary>
public sealed record LinearProbeOptions
{
    /// <summary>Training epochs (100).</summary>
    public int Epochs { get; init; } = 100;
    /// <summary>Mini-batch size (16); the last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Peak AdamW learning rate (0.01).</summary>
    public double LearningRate { get; init; } = 0.01;
    /// <summary>AdamW weight decay; the paper gives none, so PyTorch's AdamW default 0.01.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Warm-up epochs (5).</summary>
    public int WarmupEpochs { get; init; } = 5;
    /// <summary>Seed of the training subset, the layer's initialisation and the shuffling (42, as the release).</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Throws on values that cannot train.</summary>
    public void Validate()
    {
        if (Epochs <= 0) throw new InputValueException($"epochs must be positive, got {Epochs}");
        if (BatchSize <= 0) throw new InputValueException($"batch size must be positive, got {BatchSize}");
        if (!(LearningRate > 0)) throw new InputValueException($"learning rate must be positive, got {LearningRate}");
        if (WeightDecay < 0) throw new InputValueException($"weight decay must be non-negative, got {WeightDecay}");
        if (WarmupEpochs < 0 || WarmupEpochs >= Epochs) throw new InputValueException($"warm-up epochs must be in [0, {Epochs}), got {WarmupEpochs}");
    }
}

/// <summary>One split of cached features and labels.</summary>
/// <param name="Features">Features <c>(N, D)</c> (any float type, any device), read once; not disposed by the probe.</param>
/// <param name="Labels">0/1 labels <c>(N, C)</c>.</param>
public sealed record ProbeSplit(Tensor Features, int[,] Labels);

/// <summary>The outcome of probing one training ratio.</summary>
/// <param name="RatioPercent">Training ratio in percent.</param>
/// <param name="TrainSamples">Samples in the training subset.</param>
/// <param name="BestEpoch">1-based epoch with the best validation macro AUC (the checkpoint evaluated on test).</param>
/// <param name="ValidationMacroAuc">That best validation macro AUC ×100.</param>
/// <param name="TestMacroAuc">Test macro AUC ×100 of that checkpoint.</param>
/// <param name="Test">Test metrics of that checkpoint (paper protocol; degenerate classes excluded).</param>
/// <param name="ValidationAucByEpoch">Validation macro AUC ×100 after each epoch.</param>
/// <param name="Seconds">Wall time of training and evaluation.</param>
public sealed record LinearProbeResult(double RatioPercent, int TrainSamples, int BestEpoch, double ValidationMacroAuc, double TestMacroAuc,
    MetricsReport Test, IReadOnlyList<double> ValidationAucByEpoch, double Seconds);

/// <summary>
/// Linear probing on frozen, cached features (METHOD §4): one linear layer <c>D → C</c> trained with
/// BCE-with-logits and AdamW on a seeded subset of the training split (<see cref="TrainingSubset"/>); after
/// every epoch the validation macro AUC is measured and the best epoch's weights are evaluated on test.
/// </summary>
/// <remarks>
/// The layer is tiny (a 16 × D by D × C product per step), so the optimiser steps run in managed double
/// precision rather than as LibTorch calls: a LibTorch step costs tens of native calls whose overhead (and,
/// on a busy machine, intra-op thread contention) exceeds the arithmetic by orders of magnitude. The math is
/// PyTorch's: <c>nn.Linear</c> default initialisation U(−1/√D, 1/√D) for weight and bias,
/// <c>BCEWithLogitsLoss</c> (mean over B × C), <c>torch.optim.AdamW</c> (β = 0.9, 0.999, ε = 1e-8, decoupled
/// weight decay on weight and bias). Single-threaded, so results are bit-identical for a seed.
/// </remarks>
public static class LinearProbe
{
    /// <summary>Trains and evaluates one probe.</summary>
    /// <param name="train">Full training split (the subset is drawn from it).</param>
    /// <param name="validation">Validation split (model selection).</param>
    /// <param name="test">Test split (reported).</param>
    /// <param name="classNames">C class names.</param>
    /// <param name="ratioPercent">Training ratio in percent (1, 10, 100).</param>
    /// <param name="options">Hyper-parameters.</param>
    public static LinearProbeResult Run(ProbeSplit train, ProbeSplit validation, ProbeSplit test, IReadOnlyList<string> classNames,
        double ratioPercent, LinearProbeOptions? options = null)
    {
        var o = options ?? new LinearProbeOptions();
        o.Validate();
        int c = classNames.Count;
        int d = CheckSplit(train, c, "training");
        if (CheckSplit(validation, c, "validation") != d || CheckSplit(test, c, "test") != d)
            throw new ArgumentException("training, validation and test features must have the same width D");
        var sw = Stopwatch.StartNew();

        int nTotal = (int)train.Features.shape[0];
        var subset = TrainingSubset.Indices(nTotal, ratioPercent, o.Seed);
        int n = subset.Length;
        double[] xAll = Flat(train.Features);                        // (N, D) row-major
        var xTrain = new double[n * d];                              // (n, D)
        var yTrain = new double[n * c];                              // (n, C)
        for (int i = 0; i < n; i++)
        {
            Array.Copy(xAll, (long)subset[i] * d, xTrain, (long)i * d, d);
            for (int j = 0; j < c; j++) yTrain[i * c + j] = train.Labels[subset[i], j];
        }
        double[] xVal = Flat(validation.Features), xTest = Flat(test.Features);

        var rng = new Random(unchecked((int)o.Seed));
        var layer = new LinearProbeLayer(d, c, rng);
        int stepsPerEpoch = (n + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)stepsPerEpoch * o.Epochs, warmSteps = (long)stepsPerEpoch * o.WarmupEpochs;
        long step = 0;
        var history = new List<double>(o.Epochs);
        double bestAuc = double.NegativeInfinity;
        int bestEpoch = 0;
        LinearProbeLayer? best = null;
        var order = Enumerable.Range(0, n).ToArray();
        for (int epoch = 1; epoch <= o.Epochs; epoch++)
        {
            rng.Shuffle(order);
            for (int b = 0; b < stepsPerEpoch; b++, step++)
            {
                int start = b * o.BatchSize, len = Math.Min(o.BatchSize, n - start);
                layer.Step(xTrain, yTrain, order.AsSpan(start, len), LearningRateAt(step, totalSteps, warmSteps, o.LearningRate), o.WeightDecay);
            }
            double auc = MultiLabelMetrics.MacroAuc(layer.Predict(xVal), validation.Labels);
            if (double.IsNaN(auc))
                throw new InputValueException("every class is degenerate (all 0 or all 1) in the validation split: no checkpoint can be selected");
            history.Add(auc);
            if (auc > bestAuc)
            {
                bestAuc = auc;
                bestEpoch = epoch;
                best = layer.Copy();
            }
        }
        var report = MultiLabelMetrics.Evaluate(best!.Predict(xTest), test.Labels, classNames, "test");
        return new LinearProbeResult(ratioPercent, n, bestEpoch, bestAuc, report.MacroAuc, report, history, sw.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Probes every ratio (default 1 %, 10 %, 100 %) with the same options, so each ratio's subset depends only
    /// on (seed, ratio, N).
    /// </summary>
    public static IReadOnlyList<LinearProbeResult> RunRatios(ProbeSplit train, ProbeSplit validation, ProbeSplit test, IReadOnlyList<string> classNames,
        IReadOnlyList<double>? ratiosPercent = null, LinearProbeOptions? options = null) =>
        (ratiosPercent ?? [1, 10, 100]).Select(r => Run(train, validation, test, classNames, r, options)).ToList();

    /// <summary>
    /// The learning rate at a 0-based optimiser step (the schedule advances every step):
    /// <c>lr·(step+1)/warm</c> during warm-up, then <c>lr·(1 + cos(π·(step − warm)/(total − warm)))/2</c>.
    /// </summary>
    public static double LearningRateAt(long step, long totalSteps, long warmupSteps, double peak)
    {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    // Features (N, D) of any float type and device as a row-major double array.
    private static double[] Flat(Tensor features)
    {
        using var scope = NewDisposeScope();
        return features.detach().to_type(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
    }

    private static int CheckSplit(ProbeSplit s, int classes, string name)
    {
        if (s.Features.dim() != 2) throw new ArgumentException($"{name} features must be (N, D), got [{string.Join(",", s.Features.shape)}]");
        if (s.Features.shape[0] != s.Labels.GetLength(0))
            throw new ArgumentException($"{name} split: {s.Features.shape[0]} feature rows but {s.Labels.GetLength(0)} label rows");
        if (s.Labels.GetLength(1) != classes)
            throw new ArgumentException($"{name} split: {s.Labels.GetLength(1)} label columns for {classes} classes");
        foreach (int y in s.Labels)
            if (y is not (0 or 1)) throw new ArgumentException($"{name} split: label {y} is not 0 or 1");
        return (int)s.Features.shape[1];
    }
}

/// <summary>
/// The probe's linear layer <c>z = W x + b</c> (<c>W</c>: <c>(C, D)</c>) with its AdamW state, in double precision,
/// computing what <c>nn.Linear</c> + <c>BCEWithLogitsLoss</c> + <c>torch.optim.AdamW</c> compute.
/// </summary>
public sealed class LinearProbeLayer
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;
    private readonly int _d, _c;
    private readonly double[] _w, _b;              // (C, D), (C)
    private readonly double[] _mw, _vw, _mb, _vb;  // AdamW first and second moments
    private readonly double[] _gw, _gb;            // gradients of the current step
    private int _t;

    /// <summary>PyTorch's default initialisation: weight and bias uniform in (−1/√D, 1/√D), drawn from <paramref name="rng"/>.</summary>
    public LinearProbeLayer(int d, int c, Random rng)
        : this(Uniform(c * d, 1 / Math.Sqrt(d), rng), Uniform(c, 1 / Math.Sqrt(d), rng))
    {
    }

    /// <summary>A layer with the given weight <c>(C, D)</c> (row-major) and bias <c>(C)</c>, and fresh optimiser state.</summary>
    public LinearProbeLayer(double[] weight, double[] bias)
    {
        _c = bias.Length;
        _d = _c == 0 ? 0 : weight.Length / _c;
        if (_c == 0 || _d == 0 || _d * _c != weight.Length)
            throw new ArgumentException($"a weight of {weight.Length} values does not match a bias of {bias.Length}");
        (_w, _b) = ((double[])weight.Clone(), (double[])bias.Clone());
        (_mw, _vw, _gw) = (new double[_c * _d], new double[_c * _d], new double[_c * _d]);
        (_mb, _vb, _gb) = (new double[_c], new double[_c], new double[_c]);
    }

    private LinearProbeLayer(LinearProbeLayer o) : this(o._w, o._b)
    {
        _t = o._t;
        Array.Copy(o._mw, _mw, _mw.Length);
        Array.Copy(o._vw, _vw, _vw.Length);
        Array.Copy(o._mb, _mb, _mb.Length);
        Array.Copy(o._vb, _vb, _vb.Length);
    }

    /// <summary>Weight <c>(C, D)</c>, row-major (a copy).</summary>
    public double[] Weight => (double[])_w.Clone();

    /// <summary>Bias <c>(C)</c> (a copy).</summary>
    public double[] Bias => (double[])_b.Clone();

    /// <summary>A deep copy, optimiser state included.</summary>
    public LinearProbeLayer Copy() => new(this);

    /// <summary>One AdamW step on the BCE-with-logits loss (mean over B × C) of the rows <paramref name="batch"/>.</summary>
    /// <param name="x">Features <c>(N, D)</c>, row-major.</param>
    /// <param name="y">0/1 targets <c>(N, C)</c>, row-major.</param>
    /// <param name="batch">Row indices of the mini-batch.</param>
    /// <param name="lr">Learning rate of this step.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    public void Step(double[] x, double[] y, ReadOnlySpan<int> batch, double lr, double weightDecay)
    {
        Array.Clear(_gw);
        Array.Clear(_gb);
        double scale = 1.0 / (batch.Length * _c);
        foreach (int r in batch)
        {
            var xr = x.AsSpan(r * _d, _d);
            for (int j = 0; j < _c; j++)
            {
                double z = Dot(xr, _w.AsSpan(j * _d, _d)) + _b[j];
                // d/dz of max(z, 0) − z·y + log(1 + e^−|z|) is sigmoid(z) − y.
                double g = (Sigmoid(z) - y[r * _c + j]) * scale;
                _gb[j] += g;
                Axpy(g, xr, _gw.AsSpan(j * _d, _d));
            }
        }
        _t++;
        double bc1 = 1 - Math.Pow(Beta1, _t), bc2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, _t));
        AdamW(_w, _gw, _mw, _vw, lr, weightDecay, bc1, bc2Sqrt);
        AdamW(_b, _gb, _mb, _vb, lr, weightDecay, bc1, bc2Sqrt);
    }

    /// <summary>Logits <c>(N, C)</c> of rows <c>(N, D)</c> given row-major.</summary>
    public double[,] Predict(double[] x)
    {
        int n = x.Length / _d;
        var z = new double[n, _c];
        for (int i = 0; i < n; i++)
        {
            var xr = x.AsSpan(i * _d, _d);
            for (int j = 0; j < _c; j++) z[i, j] = Dot(xr, _w.AsSpan(j * _d, _d)) + _b[j];
        }
        return z;
    }

    private static double[] Uniform(int count, double bound, Random rng)
    {
        var a = new double[count];
        for (int i = 0; i < count; i++) a[i] = (2 * rng.NextDouble() - 1) * bound;
        return a;
    }

    // torch.optim.AdamW (single-tensor): p ← p(1 − lr·wd); m, v updated; p ← p − (lr/bc1)·m/(√v/√bc2 + ε).
    // Vectorised element-wise; each element sees the same IEEE operations as the scalar tail.
    private static void AdamW(double[] p, double[] g, double[] m, double[] v, double lr, double wd, double bc1, double bc2Sqrt)
    {
        double decay = 1 - lr * wd, stepSize = lr / bc1;
        int i = 0, w = Vector<double>.Count;
        var (vDecay, vStep, vB1, vB1c, vB2, vB2c, vBc2, vEps) = (new Vector<double>(decay), new Vector<double>(stepSize),
            new Vector<double>(Beta1), new Vector<double>(1 - Beta1), new Vector<double>(Beta2), new Vector<double>(1 - Beta2),
            new Vector<double>(bc2Sqrt), new Vector<double>(Eps));
        for (; i <= p.Length - w; i += w)
        {
            var gi = new Vector<double>(g, i);
            var mi = vB1 * new Vector<double>(m, i) + vB1c * gi;
            var vi = vB2 * new Vector<double>(v, i) + vB2c * gi * gi;
            var pi = new Vector<double>(p, i) * vDecay;
            (pi - vStep * mi / (Vector.SquareRoot(vi) / vBc2 + vEps)).CopyTo(p, i);
            mi.CopyTo(m, i);
            vi.CopyTo(v, i);
        }
        for (; i < p.Length; i++)
        {
            p[i] *= decay;
            m[i] = Beta1 * m[i] + (1 - Beta1) * g[i];
            v[i] = Beta2 * v[i] + (1 - Beta2) * g[i] * g[i];
            p[i] -= stepSize * m[i] / (Math.Sqrt(v[i]) / bc2Sqrt + Eps);
        }
    }

    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int k = 0;
        var acc = Vector<double>.Zero;
        for (; k <= a.Length - Vector<double>.Count; k += Vector<double>.Count)
            acc += new Vector<double>(a[k..]) * new Vector<double>(b[k..]);
        double s = Vector.Sum(acc);
        for (; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }

    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int k = 0;
        var a = new Vector<double>(alpha);
        for (; k <= x.Length - Vector<double>.Count; k += Vector<double>.Count)
            (new Vector<double>(y[k..]) + a * new Vector<double>(x[k..])).CopyTo(y[k..]);
        for (; k < x.Length; k++) y[k] += alpha * x[k];
    }
}
