using Deri.Losses;
using Deri.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

/// <summary>Full training steps on a tiny model: native memory stays flat, and seeds make runs repeatable.</summary>
/// <remarks>Runs alone (no parallel tests): the heap check reads process-wide managed memory.</remarks>
[Collection("torch-global-generator")]
public class TrainingStepTests
{
    private static List<double> Train(int seed, int steps, Action<int>? afterStep = null)
    {
        manual_seed(seed);
        var config = TinyConfigs.Training();
        using var model = ModelFactory.Create(config);
        model.train();
        using var loss = new DeriLoss(config.Loss);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3, weight_decay: 1e-8);
        using var ecg = randn(4, 3, 200);
        using var pooled = randn(4, 20);
        using var hidden = randn(4, 6, 20);
        var losses = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                using var output = model.Forward(ecg, pooled, hidden);
                using var terms = loss.forward(output, pooled);
                using var total = loss.Total(terms);
                total.backward();
                optimizer.step();
                losses.Add(total.ToDouble());
            }
            afterStep?.Invoke(i);
        }
        return losses;
    }

    [Fact]
    public void NativeMemoryAndManagedHeapStayFlatOverManyTrainingSteps()
    {
        const int steps = 200, reference = 20;
        long liveAtReference = 0, heapAtReference = 0;
        var live = new List<long>();
        var losses = Train(5, steps, i =>
        {
            if (i < reference) return;
            long count = DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
            live.Add(count);
            if (i == reference) { liveAtReference = count; heapAtReference = GC.GetTotalMemory(true); }
        });
        long heapAtEnd = GC.GetTotalMemory(true);
        Assert.True(live.All(count => count == liveAtReference),
            $"live tensors drifted: {liveAtReference} after step {reference}, {live.Min()}–{live.Max()} later, {live[^1]} at the end");
        Assert.True(heapAtEnd - heapAtReference < 2_000_000, $"managed heap grew by {heapAtEnd - heapAtReference} bytes over {steps - reference} steps");
        Assert.True(losses.Last() < losses.First(), $"loss did not decrease: {losses.First()} → {losses.Last()}");
    }

    [Fact]
    public void SameSeedGivesIdenticalLossesOnCpu()
    {
        var a = Train(11, 4);
        var b = Train(11, 4);
        var c = Train(12, 4);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
