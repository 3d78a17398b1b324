using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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
        if (Epochs <= 0) throw new ArgumentException($"epochs must be positive, got {Epochs}");
        if (BatchSize <= 0) throw new ArgumentException($"batch size must be positive, got {BatchSize}");
        if (!(LearningRate > 0)) throw new ArgumentException($"learning rate must be positive, got {LearningRate}");
        if (WeightDecay < 0) throw new ArgumentException($"weight decay must be non-negative, got {WeightDecay}");
        if (WarmupEpochs < 0 || WarmupEpochs >= Epochs) throw new ArgumentException($"warm-up epochs must be in [0, {Epochs}), got {WarmupEpochs}");
    }
}

/// <summary>One split of cached features and labels.</summary>
/// <param name="Features">Features <c>(N, D)</c> (any float type, any device); not disposed by the probe.</param>
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
/// Linear probing on frozen, cached features (METHOD §4): one <c>Linear(D → C)</c> trained with
/// BCE-with-logits and AdamW on a seeded subset of the training split (<see cref="TrainingSubset"/>); after
/// every epoch the validation macro AUC is measured and the best epoch's weights are evaluated on test.
/// Features stay in memory as float32 on <c>device</c>, so 100 epochs take seconds.
/// </summary>
public static class LinearProbe
{
    /// <summary>Trains and evaluates one probe.</summary>
    /// <param name="train">Full training split (the subset is drawn from it).</param>
    /// <param name="validation">Validation split (model selection).</param>
    /// <param name="test">Test split (reported).</param>
    /// <param name="classNames">C class names.</param>
    /// <param name="ratioPercent">Training ratio in percent (1, 10, 100).</param>
    /// <param name="options">Hyper-parameters.</param>
    /// <param name="device">Where to train; CPU when null.</param>
    public static LinearProbeResult Run(ProbeSplit train, ProbeSplit validation, ProbeSplit test, IReadOnlyList<string> classNames,
        double ratioPercent, LinearProbeOptions? options = null, Device? device = null)
    {
        var o = options ?? new LinearProbeOptions();
        o.Validate();
        device ??= CPU;
        int c = classNames.Count;
        long d = CheckSplit(train, c, "training");
        if (CheckSplit(validation, c, "validation") != d || CheckSplit(test, c, "test") != d)
            throw new ArgumentException("training, validation and test features must have the same width D");
        var sw = Stopwatch.StartNew();

        int nTotal = (int)train.Features.shape[0];
        var subset = TrainingSubset.Indices(nTotal, ratioPercent, o.Seed);
        int n = subset.Length;
        var valLabels = validation.Labels;

        using var xTrain = Select(train.Features, subset, device);             // (n, D) float32
        using var yTrain = LabelsTensor(train.Labels, subset, device);         // (n, C) float32
        using var xVal = validation.Features.to(ScalarType.Float32, device);   // (Nv, D)
        using var xTest = test.Features.to(ScalarType.Float32, device);        // (Nt, D)

        torch.manual_seed(o.Seed);
        using var head = nn.Linear(d, c).to(device);
        using var optimizer = optim.AdamW(head.parameters(), lr: o.LearningRate, weight_decay: o.WeightDecay);
        var shuffle = new Random(unchecked((int)o.Seed));

        int stepsPerEpoch = (n + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)stepsPerEpoch * o.Epochs, warmSteps = (long)stepsPerEpoch * o.WarmupEpochs;
        long step = 0;
        var history = new List<double>(o.Epochs);
        double bestAuc = double.NegativeInfinity;
        int bestEpoch = 0;
        Tensor? bestWeight = null, bestBias = null;
        try
        {
            var order = Enumerable.Range(0, n).ToArray();
            for (int epoch = 1; epoch <= o.Epochs; epoch++)
            {
                head.train();
                shuffle.Shuffle(order);
                for (int b = 0; b < stepsPerEpoch; b++, step++)
                {
                    using var scope = NewDisposeScope();
                    SetLearningRate(optimizer, LearningRateAt(step, totalSteps, warmSteps, o.LearningRate));
                    int start = b * o.BatchSize, len = Math.Min(o.BatchSize, n - start);
                    var idx = tensor(order.AsSpan(start, len).ToArray().Select(i => (long)i).ToArray(), device: device);
                    var logits = head.forward(xTrain.index_select(0, idx));   // (B, C)
                    var loss = nn.functional.binary_cross_entropy_with_logits(logits, yTrain.index_select(0, idx));
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                }
                double auc = MultiLabelMetrics.MacroAuc(Predict(head, xVal), valLabels);
                if (double.IsNaN(auc))
                    throw new ArgumentException("every class is degenerate (all 0 or all 1) in the validation split: no checkpoint can be selected");
                history.Add(auc);
                if (auc > bestAuc)
                {
                    bestAuc = auc;
                    bestEpoch = epoch;
                    bestWeight?.Dispose();
                    bestBias?.Dispose();
                    bestWeight = head.weight!.detach().clone();
                    bestBias = head.bias!.detach().clone();
                }
            }
            using (no_grad())
            {
                head.weight!.copy_(bestWeight!);
                head.bias!.copy_(bestBias!);
            }
        }
        finally
        {
            bestWeight?.Dispose();
            bestBias?.Dispose();
        }
        var report = MultiLabelMetrics.Evaluate(Predict(head, xTest), test.Labels, classNames, "test");
        return new LinearProbeResult(ratioPercent, n, bestEpoch, bestAuc, report.MacroAuc, report, history, sw.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The learning rate at a 0-based optimiser step: <c>lr·(step+1)/warm</c> during warm-up, then
    /// <c>lr·(1 + cos(π·(step − warm)/(total − warm)))/2</c>.
    /// </summary>
    public static double LearningRateAt(long step, long totalSteps, long warmupSteps, double peak)
    {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    private static void SetLearningRate(OptimizerHelper optimizer, double lr)
    {
        foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
    }

    // Logits of a whole split (N, C) as doubles, in inference mode.
    private static double[,] Predict(Linear head, Tensor x)
    {
        head.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var logits = head.forward(x).to_type(ScalarType.Float64).cpu();
        var flat = logits.data<double>().ToArray();
        var m = new double[logits.shape[0], logits.shape[1]];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(double));
        return m;
    }

    private static Tensor Select(Tensor features, int[] rows, Device device)
    {
        using var scope = NewDisposeScope();
        var idx = tensor(rows.Select(i => (long)i).ToArray(), device: features.device);
        return features.index_select(0, idx).to(ScalarType.Float32, device).MoveToOuterDisposeScope();
    }

    private static Tensor LabelsTensor(int[,] labels, int[] rows, Device device)
    {
        int c = labels.GetLength(1);
        var flat = new float[rows.Length * c];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < c; j++) flat[i * c + j] = labels[rows[i], j];
        return tensor(flat, [rows.Length, c], device: device);
    }

    private static long CheckSplit(ProbeSplit s, int classes, string name)
    {
        if (s.Features.dim() != 2) throw new ArgumentException($"{name} features must be (N, D), got [{string.Join(",", s.Features.shape)}]");
        if (s.Features.shape[0] != s.Labels.GetLength(0))
            throw new ArgumentException($"{name} split: {s.Features.shape[0]} feature rows but {s.Labels.GetLength(0)} label rows");
        if (s.Labels.GetLength(1) != classes)
            throw new ArgumentException($"{name} split: {s.Labels.GetLength(1)} label columns for {classes} classes");
        foreach (int y in s.Labels)
            if (y is not (0 or 1)) throw new ArgumentException($"{name} split: label {y} is not 0 or 1");
        return s.Features.shape[1];
    }
}
