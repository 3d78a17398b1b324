using Deri.Config;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Tests.Training;

/// <summary>A batch of the toy regression data: inputs (B, 4) and targets (B, 2).</summary>
public sealed class ToyBatch(Tensor x, Tensor y) : IDisposable
{
    public Tensor X { get; } = x;
    public Tensor Y { get; } = y;

    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
    }
}

/// <summary>In-memory toy data: y = A·x + noise, fixed by a seed (no torch generator involved).</summary>
public sealed class ToyData : ITrainingData<ToyBatch>
{
    private readonly float[] _x;
    private readonly float[] _y;

    public ToyData(int count, int seed)
    {
        Count = count;
        var rng = new Random(seed);
        _x = new float[count * 4];
        _y = new float[count * 2];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < 4; j++) _x[i * 4 + j] = (float)(rng.NextDouble() * 2 - 1);
            _y[i * 2] = _x[i * 4] - 2 * _x[i * 4 + 1] + 0.1f * (float)rng.NextDouble();
            _y[i * 2 + 1] = 0.5f * _x[i * 4 + 2] + _x[i * 4 + 3];
        }
    }

    public int Count { get; }

    /// <summary>When set, called before each load with the number of loads so far (tests throw from it to simulate a crash).</summary>
    public Action<int>? BeforeLoad { get; set; }

    public int Loads { get; private set; }

    public ToyBatch Load(ReadOnlySpan<int> indices)
    {
        BeforeLoad?.Invoke(Loads++);
        var x = new float[indices.Length * 4];
        var y = new float[indices.Length * 2];
        for (int b = 0; b < indices.Length; b++)
        {
            Array.Copy(_x, indices[b] * 4, x, b * 4, 4);
            Array.Copy(_y, indices[b] * 2, y, b * 2, 2);
        }
        // Copies into torch-allocated memory: a tensor over a managed array has arbitrary alignment, and
        // MKL's matmul results depend on alignment, which would break bitwise reproducibility.
        using var scope = NewDisposeScope();
        var xt = tensor(x).reshape(indices.Length, 4).clone();
        var yt = tensor(y).reshape(indices.Length, 2).clone();
        return new ToyBatch(xt.MoveToOuterDisposeScope(), yt.MoveToOuterDisposeScope());
    }
}

/// <summary>Linear(4→8) → ReLU → Dropout(0.3) → Linear(8→2); dropout makes the torch generator matter.</summary>
public sealed class ToyNet : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Dropout drop;
    private readonly Linear fc2;

    public ToyNet() : base(nameof(ToyNet))
    {
        fc1 = nn.Linear(4, 8);
        drop = nn.Dropout(0.3);
        fc2 = nn.Linear(8, 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(drop.forward(nn.functional.relu(fc1.forward(x)))).MoveToOuterDisposeScope();
    }
}

/// <summary>Three named terms: mse (weight 1), l1 (weight 0.5) and a logged-only term (weight 0).</summary>
public sealed class ToyTask(ToyNet net) : IPretrainingTask<ToyBatch>
{
    public nn.Module Module => net;

    /// <summary>When set, replaces the mse term (tests use NaN).</summary>
    public float? ForcedMse { get; set; }

    public LossTerms Step(ToyBatch batch, bool train)
    {
        var pred = net.forward(batch.X);
        var mse = nn.functional.mse_loss(pred, batch.Y);
        if (ForcedMse is { } forced) mse = mse * 0 + forced;
        return new LossTerms()
            .Add("mse", mse)
            .Add("l1", nn.functional.l1_loss(pred, batch.Y))
            .Add("pred_abs", pred.abs().mean());
    }
}

/// <summary>Builds toy models, configs and scratch folders for the training tests.</summary>
public static class Toy
{
    public static ToyTask Task(long initSeed)
    {
        torch.manual_seed(initSeed);
        return new ToyTask(new ToyNet());
    }

    public static DeriConfig Config(int batchSize = 8, int epochs = 3, int checkpointEvery = 3, int workers = 1) => new()
    {
        Trainer = new TrainerConfig
        {
            BatchSize = batchSize,
            ValBatchSize = 16,
            MaxEpochs = epochs,
            CheckpointEverySteps = checkpointEvery,
            CheckpointInterval = 0,
            NumWorkers = workers,
            Seed = 7,
            LogEverySteps = 2,
            GradClipNorm = 1.0,
            LossWeights = new() { ["mse"] = 1.0, ["l1"] = 0.5, ["pred_abs"] = 0.0 },
        },
        Optimizer = new OptimizerConfig
        {
            Params = new OptimizerParams { Lr = 0.01, WeightDecay = 1e-4 },
            Scheduler = new SchedulerConfig { T0 = 4, TMult = 2, EtaMin = 1e-8 },
        },
    };

    public static ITrainingProgress Quiet(StringWriter? sink = null) => new PlainProgress(sink ?? new StringWriter(), 1000);

    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "deri-training-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static float[] Parameters(nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
}
