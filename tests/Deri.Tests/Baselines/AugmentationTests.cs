using Deri.Baselines;
using Deri.Config;
using static TorchSharp.torch;

namespace Deri.Tests.Baselines;

/// <summary>The ECG augmentations: exact primitives, and the random pipeline's probabilities and reproducibility.</summary>
[Collection("torch-global-generator")]
public class AugmentationTests
{
    private static readonly AugmentConfig Off = new()
    {
        Crop = new CropAugment { P = 0 }, Scale = new ScaleAugment { P = 0 }, BaselineWander = new WanderAugment { P = 0 },
        Noise = new NoiseAugment { P = 0 }, LeadMask = new LeadMaskAugment { P = 0 }, TimeMask = new TimeMaskAugment { P = 0 },
    };

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    [Fact]
    public void ResizedCropStretchesTheWindowOverTheRecordByLinearInterpolation()
    {
        var x = tensor(new float[] { 0, 10, 20, 30, 40, 1, 2, 3, 4, 5 }).view(1, 2, 5);
        var y = EcgAugmentation.ResizedCrop(x, tensor(new float[] { 2 }), tensor(new float[] { 3 }));
        // Positions 2, 2.5, 3, 3.5, 4.
        Assert.Equal(new float[] { 20, 25, 30, 35, 40, 3, 3.5f, 4, 4.5f, 5 }, Values(y));
        var same = EcgAugmentation.ResizedCrop(x, tensor(new float[] { 0 }), tensor(new float[] { 5 }));
        Assert.Equal(Values(x), Values(same));
    }

    [Fact]
    public void MasksZeroExactlyTheirSegmentsAndWanderAddsTheSinusoid()
    {
        var x = ones(2, 1, 6);
        var kept = EcgAugmentation.ZeroOutside(x, tensor(new float[] { 1, 0 }), tensor(new float[] { 3, 6 }));
        Assert.Equal(new float[] { 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 }, Values(kept));
        var masked = EcgAugmentation.TimeMask(x, tensor(new float[] { 4, 0 }), tensor(new float[] { 2, 0 }));
        Assert.Equal(new float[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 }, Values(masked));
        var wander = EcgAugmentation.Wander(zeros(1, 1, 4), tensor(0.5f), tensor(1f), tensor(0f), samplingRate: 4);
        var expected = Enumerable.Range(0, 4).Select(t => (float)(0.5 * Math.Sin(2 * Math.PI * t / 4))).ToArray();
        var actual = Values(wander);
        for (int t = 0; t < 4; t++) Assert.Equal(expected[t], actual[t], 5);
    }

    [Fact]
    public void WithEveryProbabilityZeroTheViewIsTheInput()
    {
        var x = randn(3, 2, 50);
        var y = new EcgAugmentation(Off, 100).Apply(x);
        Assert.Equal(Values(x), Values(y));
        Assert.NotEqual(x.Handle, y.Handle);
    }

    [Fact]
    public void EachAugmentationChangesTheSignalAsConfiguredAndTheSeedRepeatsTheDraws()
    {
        var x = rand(8, 4, 100) + 0.5f;
        var lead = new EcgAugmentation(Off with { LeadMask = new LeadMaskAugment { P = 1, Ratio = 0.5 } }, 100);
        manual_seed(1);
        var y = lead.Apply(x);
        var zeroLeads = (y.abs().sum(-1) == 0).sum().item<long>();
        Assert.InRange(zeroLeads, 4, 28);                       // about half of 32 leads
        Assert.Equal(0L, ((y - x).abs().sum(-1) * (y.abs().sum(-1) > 0)).gt(1e-6).sum().item<long>()); // the others are untouched

        var time = new EcgAugmentation(Off with { TimeMask = new TimeMaskAugment { P = 1, Ratio = 0.1 } }, 100);
        var zeros = (time.Apply(x) == 0).sum(-1);              // (B, leads): 10 zeroed samples per lead
        Assert.True(zeros.eq(10).all().item<bool>());

        var scale = new EcgAugmentation(Off with { Scale = new ScaleAugment { P = 1, Min = 2, Max = 3 } }, 100);
        var ratio = scale.Apply(x) / x;
        Assert.True(ratio.ge(2 - 1e-5).all().item<bool>() && ratio.le(3 + 1e-5).all().item<bool>());
        Assert.True((ratio.amax(new long[] { 1, 2 }) - ratio.amin(new long[] { 1, 2 })).lt(1e-4).all().item<bool>()); // one factor per record

        var all = new EcgAugmentation(new AugmentConfig(), 100);
        manual_seed(7);
        var (a1, a2) = all.TwoViews(x);
        manual_seed(7);
        var (b1, b2) = all.TwoViews(x);
        Assert.Equal(Values(a1), Values(b1));
        Assert.Equal(Values(a2), Values(b2));
        Assert.NotEqual(Values(a1), Values(a2));
        Assert.Equal(x.shape, a1.shape);
    }

    [Fact]
    public void OutOfRangeSettingsAreRejectedWithTheirKeys()
    {
        var e = Assert.Throws<ConfigException>(() => new EcgAugmentation(Off with { Crop = new CropAugment { P = 1.5 } }, 100));
        Assert.Contains("ssl.augment.crop.p", e.Message);
        var c = Assert.Throws<ConfigException>(() => DeriConfig.Parse("ssl:\n  augment:\n    noise:\n      std: -1\n", "test.yaml"));
        Assert.Contains("ssl.augment.noise.std", c.Message);
    }
}
