using Deri.Baselines;
using Deri.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Baselines;

/// <summary>
/// The contract every ECG-only method keeps, run for each name of <see cref="MethodNames.Ssl"/> as the registry
/// builds it: named scalar terms that match its default weights, a representation of <c>RepresentationDim</c> per
/// record that is deterministic and draws no random numbers, only online weights trained, a few steps that lower the
/// loss, and training steps that leave no tensors behind.
/// </summary>
[Collection("torch-global-generator")]
public class SslMethodContractTests
{
    public static TheoryData<string> Methods => new(MethodNames.Ssl);

    [Fact]
    public void TheRegistryBuildsExactlyTheMethodsTheConfigAccepts()
    {
        Assert.Equal(MethodNames.Ssl.Order(), SslMethodRegistry.BuilderNames.Order());
        var config = new SslConfig();
        foreach (var name in MethodNames.Ssl)
        {
            // Each method has its section, read from the key ssl.NAME.
            var section = config.Section(name);
            Assert.NotNull(section);
            var property = typeof(SslConfig).GetProperties().Single(p => ReferenceEquals(p.GetValue(config), section));
            Assert.Equal(name, ConfigLoader.KeyOf(property));
        }
        foreach (var name in MethodNames.EcgText) Assert.Null(config.Section(name));
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void TheMethodReturnsItsWeightedTermsAndARepresentationOfTheEncodersWidth(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var method = SslMethodRegistry.Create(SslMethodTests.Tiny(name), totalSteps: 10);
        method.train();
        var terms = method.Losses(new EcgBatch(SslMethodTests.Signals(6, 1), new string?[6]));
        Assert.Equal(method.DefaultLossWeights.Keys.Order(), terms.Terms.Select(t => t.Name).Order());
        foreach (var (term, value) in terms.Terms) Assert.True(double.IsFinite(value.item<float>()), $"{name}: {term} is not finite");
        method.eval();
        using (no_grad())
        {
            var r = method.Represent(SslMethodTests.Signals(5, 2));
            Assert.Equal(new long[] { 5, method.RepresentationDim }, r.shape);
            Assert.Equal(32, method.RepresentationDim);                // 8·width of ResNet18's last stage, or the transformer width
        }
        // Only online weights are optimised: momentum networks are frozen copies, and ST-MEM's sinusoidal position
        // tables are fixed (parameters only so that the release's state-dict keys exist).
        foreach (var (pname, p) in method.named_parameters())
            Assert.Equal(!pname.StartsWith("target_", StringComparison.Ordinal) && !pname.StartsWith("momentum_", StringComparison.Ordinal)
                         && !(name == "stmem" && (pname.EndsWith("pos_embed", StringComparison.Ordinal) || pname.EndsWith("pos_embedding", StringComparison.Ordinal))),
                         p.requires_grad);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void AFewTrainingStepsLowerTheLossOnTheSameAugmentedViews(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var config = SslMethodTests.Tiny(name);
        using var method = SslMethodRegistry.Create(config, totalSteps: 30);
        var weights = SslLossWeights.Apply(config, method).Trainer.LossWeights;
        var batch = new EcgBatch(SslMethodTests.Signals(8, 5), new string?[8]);
        double Loss()
        {
            // Same augmentation draws every time; train mode (batch statistics), as in training.
            manual_seed(99);
            using var _ = no_grad();
            using var s = NewDisposeScope();
            return method.Losses(batch).Weighted(weights).item<float>();
        }
        method.train();
        double before = Loss();
        using var optimizer = optim.AdamW(method.parameters().Where(p => p.requires_grad), lr: 1e-2);
        for (int step = 0; step < 30; step++)
        {
            using var s = NewDisposeScope();
            method.BeforeTrainStep();
            optimizer.zero_grad();
            // The same views as the measurement: a fixed objective, so the test checks that gradients descend and not
            // that 30 random augmentations happen to generalise (which depends on the CPU's kernels' rounding).
            manual_seed(99);
            method.Losses(batch).Weighted(weights).backward();
            optimizer.step();
        }
        double after = Loss();
        Assert.True(after < before, $"{name}: loss {before:F4} → {after:F4}");
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void RepresentIsDeterministicPerRecordAndDrawsNoRandomNumbers(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var method = SslMethodRegistry.Create(SslMethodTests.Tiny(name));
        method.eval();
        var ecg = SslMethodTests.Signals(4, 3);
        using var _ = no_grad();
        manual_seed(1);
        var a = method.Represent(ecg);
        var next = rand(1);
        manual_seed(1);
        var b = method.Represent(ecg);
        var nextAgain = rand(1);
        Assert.True(a.eq(b).all().ToBoolean(), $"{name}: two calls differ");
        Assert.True(next.eq(nextAgain).all().ToBoolean(), $"{name}: Represent drew from the generator");
        // One record's representation does not depend on the others in the batch.
        var single = method.Represent(ecg[1..2]);
        Assert.True(single.allclose(a[1..2], rtol: 1e-4, atol: 1e-5), $"{name}: a record's representation depends on its batch");
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void TrainingStepsLeaveNoTensorsBehind(string name)
    {
        manual_seed(4);
        using var method = SslMethodRegistry.Create(SslMethodTests.Tiny(name), totalSteps: 6);
        method.train();
        using var optimizer = optim.AdamW(method.parameters().Where(p => p.requires_grad), lr: 1e-2);
        using var data = SslMethodTests.Signals(4, 6);
        var live = new List<long>();
        for (int step = 0; step < 6; step++)
        {
            using (var scope = NewDisposeScope())
            {
                method.BeforeTrainStep();
                optimizer.zero_grad();
                using var batch = new EcgBatch(data.clone(), new string?[4]);
                method.Losses(batch).Weighted(method.DefaultLossWeights).backward();
                optimizer.step();
            }
            using (var scope = NewDisposeScope())
            using (no_grad())
                method.Represent(data);
            live.Add(DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
        }
        Assert.True(live.Skip(2).All(count => count == live[2]), $"{name}: live tensors per step: {string.Join(", ", live)}");
    }
}
