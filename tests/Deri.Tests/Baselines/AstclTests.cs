using Deri.Baselines;
using Deri.Config;
using Deri.Models;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Deri.Tests.Baselines;

// Seeded draws from the torch default generator: no other test may draw from it meanwhile.
[Collection("torch-global-generator")]
public class AstclTests(ITestOutputHelper output)
{
    private static Astcl Build(AstclConfig config, int length = 256)
    {
        int s = config.EffectiveSegmentLength(length);
        return new Astcl(ModelFactory.CreateEncoder(SslTestData.TinyResNet, s), s, 12, config);
    }

    [Fact]
    public void GradientReversalKeepsTheValueAndFlipsTheGradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        var x = randn(3, 4).requires_grad_();
        var w = randn(3, 4);
        var y = Astcl.GradientReversal(x, 0.5);
        Assert.True(y.equal(x.detach()).all().ToBoolean());
        (y * w).sum().backward();
        Assert.True(x.grad!.allclose(w * -0.5));
    }

    private static Dictionary<string, Tensor> Gradients(Astcl method, string prefix)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, p) in method.named_parameters())
            if (name.StartsWith(prefix, StringComparison.Ordinal) && p.grad is { } g) result[name] = g.clone();
        return result;
    }

    // ‖a − sign·b‖ ≤ 1e-3·‖a‖ over all named gradients: robust to the summation order of multi-threaded kernels.
    private static void AssertSameGradients(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b, double sign, string what)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        double diff = 0, norm = 0;
        foreach (var (name, g) in a)
        {
            diff += (g - b[name] * sign).pow(2).sum().ToDouble();
            norm += g.pow(2).sum().ToDouble();
        }
        Assert.True(norm > 0, $"{what}: no gradient");
        Assert.True(Math.Sqrt(diff) <= 1e-3 * Math.Sqrt(norm), $"{what}: relative difference {Math.Sqrt(diff / norm):E2}");
    }

    // Gradients of Σ weight·term after one Losses call with the random draws of seed 5.
    private static void Backward(Astcl method, Dictionary<string, double> weights)
    {
        using var batch = SslTestData.Batch(SslTestData.Signals(4, 256, 3), 256, [0, 1, 2, 3]);
        method.train();
        method.zero_grad();
        manual_seed(5);
        method.Losses(batch).Weighted(weights).backward();
    }

    [Fact]
    public void TheAdversaryAscendsTheContrastAndTheEncoderDescendsIt()
    {
        using var scope = NewDisposeScope();
        manual_seed(22);
        // λ = −1 turns the reversal into an identity: the gradient the adversary would get if it cooperated.
        using var reversed = Build(new AstclConfig { AdversaryLambda = 1 });
        using var plain = Build(new AstclConfig { AdversaryLambda = -1 });
        plain.load_state_dict(reversed.state_dict());
        var contrast = new Dictionary<string, double> { [Astcl.TemporalTerm] = 1, [Astcl.SpatialTerm] = 1, [Astcl.AdversarialTerm] = 0 };
        Backward(reversed, contrast);
        Backward(plain, contrast);
        var advR = Gradients(reversed, "perturbation.");
        Assert.Equal(4, advR.Count);
        AssertSameGradients(advR, Gradients(plain, "perturbation."), -1, "adversary");
        AssertSameGradients(Gradients(reversed, "ecg_encoder."), Gradients(plain, "ecg_encoder."), 1, "encoder");
    }

    [Fact]
    public void TheDiscriminatorsGradientIntoTheEncoderIsReversed()
    {
        using var scope = NewDisposeScope();
        manual_seed(23);
        using var reversed = Build(new AstclConfig { DiscriminatorLambda = 0.1 });
        using var plain = Build(new AstclConfig { DiscriminatorLambda = -0.1 });
        plain.load_state_dict(reversed.state_dict());
        var adv = new Dictionary<string, double> { [Astcl.TemporalTerm] = 0, [Astcl.SpatialTerm] = 0, [Astcl.AdversarialTerm] = 1 };
        Backward(reversed, adv);
        Backward(plain, adv);
        // The discriminator itself minimises its loss either way; the encoder gets the opposite gradient.
        AssertSameGradients(Gradients(reversed, "discriminator."), Gradients(plain, "discriminator."), 1, "discriminator");
        AssertSameGradients(Gradients(reversed, "ecg_encoder."), Gradients(plain, "ecg_encoder."), -1, "encoder");
    }

    [Fact]
    public void NoiseTypesAndDenoisingBehaveAsTheirPhysics()
    {
        using var scope = NewDisposeScope();
        manual_seed(24);
        using var method = Build(new AstclConfig());
        var x = rand(2, 12, 256);
        var amp = method.NoiseAmplitudes(x);
        Assert.Equal([2L, 12, 3], amp.shape);
        var max = tensor(new float[] { 0.1f, 0.05f, 0.05f });
        Assert.True((amp > 0).all().ToBoolean() && (amp < max).all().ToBoolean());
        Tensor Only(int k, float a)
        {
            var t = zeros(2, 12, 3);
            t[.., .., k] = tensor(a);
            return method.Noise(t, 1000);
        }
        // Baseline wander: a sinusoid of amplitude a and ≤ 0.5 Hz, so within 2 s (1000 samples) it moves slowly.
        var wander = Only(0, 0.1f);
        Assert.True(wander.abs().max().ToDouble() <= 0.1 + 1e-6);
        Assert.True(wander.diff(dim: 2).abs().max().ToDouble() < 2 * Math.PI * 0.5 * 0.1 / 500 + 1e-6);
        // Powerline: period 10 samples at 500 Hz.
        var line = Only(2, 0.05f);
        Assert.True(line[.., .., 10..].allclose(line[.., .., ..990], atol: 1e-4));
        Assert.Equal(0.05, line.abs().max().ToDouble(), 3);
        // EMG: white noise of standard deviation a.
        Assert.Equal(0.05, Only(1, 0.05f).std().ToDouble(), 2);
        // Denoising removes an offset exactly and a 50 Hz hum in the interior.
        var signal = x[.., .., ..1].expand(2, 12, 1000).contiguous() + line;
        using var shortBaseline = Build(new AstclConfig { BaselineSeconds = 0.1 });
        var clean = shortBaseline.Denoise(signal);
        Assert.True(clean[.., .., 40..960].abs().max().ToDouble() < 1e-4);
    }

    [Fact]
    public void LossesAndRepresentationHaveTheContractShapes()
    {
        using var scope = NewDisposeScope();
        manual_seed(25);
        using var method = Astcl.Create(SslTestData.TinyResNet, 256, new AstclConfig());
        Assert.Equal(128, method.SegmentLength);
        using var batch = SslTestData.Batch(SslTestData.Signals(4, 256, 1), 256, [0, 1, 2, 3], ["a", "a", "b", null]);
        var terms = method.Losses(batch);
        Assert.Equal([Astcl.TemporalTerm, Astcl.SpatialTerm, Astcl.AdversarialTerm], terms.Terms.Select(t => t.Name));
        Assert.All(terms.Terms, t => Assert.True(double.IsFinite(t.Value.ToDouble()) && t.Value.ToDouble() > 0));
        method.eval();
        using (no_grad())
            Assert.Equal([4L, 64], method.Represent(batch.Ecg).shape);
        Assert.Contains("astcl.lead_groups", Assert.Throws<ConfigException>(
            () => Astcl.Create(SslTestData.TinyResNet, 256, new AstclConfig { LeadGroups = [[0, 1]] })).Message);
        Assert.Contains("astcl.baseline_wander_hz", Assert.Throws<ConfigException>(
            () => Astcl.Create(SslTestData.TinyResNet, 256, new AstclConfig { BaselineWanderHz = [1, 0.5] })).Message);
    }

    [Fact]
    public void ShortTrainingReducesTheContrastiveLoss()
    {
        manual_seed(26);
        using var method = Astcl.Create(SslTestData.TinyResNet, 256, new AstclConfig());
        var contrast = new Dictionary<string, double> { [Astcl.TemporalTerm] = 1, [Astcl.SpatialTerm] = 1, [Astcl.AdversarialTerm] = 0 };
        var (before, after) = SslTestData.Train(method, count: 32, length: 256, batchSize: 8, epochs: 4, probeWeights: contrast, lr: 3e-3);
        output.WriteLine($"probe loss {before:F4} → {after:F4}");
        Assert.True(after < before * 0.9, $"temporal + spatial {before:F4} → {after:F4}");
    }
}
