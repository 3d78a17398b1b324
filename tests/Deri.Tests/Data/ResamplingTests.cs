using System.Text.Json;
using Deri.Data.Preprocessing;

namespace Deri.Tests.Data;

public class ResamplingTests
{
    private static JsonElement Fixtures()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Data", "resample_poly.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    [Fact]
    public void MatchesScipyResamplePolyWithin1e5()
    {
        var cases = Fixtures().GetProperty("cases");
        Assert.True(cases.GetArrayLength() >= 8);
        foreach (var c in cases.EnumerateArray())
        {
            int from = c.GetProperty("from").GetInt32(), to = c.GetProperty("to").GetInt32();
            double beta = c.TryGetProperty("beta", out var b) ? b.GetDouble() : 5.0;
            var x = c.GetProperty("input").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var expected = c.GetProperty("expected").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var r = new PolyphaseResampler(to, from, beta);
            var y = r.Resample(x);
            Assert.Equal(expected.Length, y.Length);
            double maxErr = expected.Zip(y, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(maxErr <= 1e-5, $"{from}→{to} Hz (β={beta}): max |error| {maxErr:E2}");
        }
    }

    [Fact]
    public void ReducesTheRatioAndComputesTheOutputLength()
    {
        var r = PolyphaseResampler.For(1000, 500);
        Assert.Equal((1, 2), (r.Up, r.Down));
        Assert.Equal(2500, r.OutputLength(5000));
        Assert.Equal(3, r.OutputLength(5)); // ceil(5/2)
        var r2 = PolyphaseResampler.For(257, 500);
        Assert.Equal((500, 257), (r2.Up, r2.Down));
        Assert.Same(r2, PolyphaseResampler.For(257.0, 500.0));
        Assert.Equal(5000, PolyphaseResampler.For(100, 500).OutputLength(1000));
    }

    [Fact]
    public void KeepsAConstantSignalAwayFromTheEdges()
    {
        // Each polyphase branch has unit DC gain up to the Kaiser (β = 5) passband ripple, about 0.1 %.
        var y = PolyphaseResampler.For(100, 500).Resample(Enumerable.Repeat(2.0, 1000).ToArray());
        for (int t = 500; t < 4500; t++) Assert.InRange(y[t], 1.995, 2.005);
        var down = PolyphaseResampler.For(1000, 500).Resample(Enumerable.Repeat(2.0, 1000).ToArray());
        for (int t = 50; t < 450; t++) Assert.InRange(down[t], 1.995, 2.005);
    }

    [Fact]
    public void AWindowEqualsTheSameSamplesOfTheWholeOutput()
    {
        var x = Enumerable.Range(0, 3000).Select(t => Math.Sin(t * 0.037) + 0.1 * Math.Cos(t * 0.9)).ToArray();
        foreach (var (from, to) in new[] { (1000, 500), (257, 500), (100, 500), (500, 500) })
        {
            var r = PolyphaseResampler.For(from, to);
            var all = r.Resample(x);
            var window = new double[Math.Min(700, all.Length - 123)];
            r.ResampleWindow(x, 123, window);
            Assert.Equal(all.AsSpan(123, window.Length).ToArray(), window);
            Assert.Throws<ArgumentOutOfRangeException>(() => r.ResampleWindow(x, all.Length - 5, new double[10]));
        }
    }

    [Fact]
    public void ResamplesFractionalRatesAndRejectsNonPositiveOnes()
    {
        // WFDB allows fractional rates (e.g. "00009_hr 12 499.5 5000"): 499.5 → 500 Hz is the exact ratio 1000/999.
        var r = PolyphaseResampler.For(499.5, 500);
        Assert.Equal((1000, 999), (r.Up, r.Down));
        Assert.Equal(5000, r.OutputLength(4995));
        var y = r.Resample(Enumerable.Repeat(2.0, 4995).ToArray());
        for (int t = 500; t < 4500; t++) Assert.InRange(y[t], 1.995, 2.005);
        Assert.Equal((2, 1), PolyphaseResampler.Ratio(250.25, 500.5));
        // A ratio whose exact factors would make a filter of millions of taps uses the closest one within MaxFactor.
        var (up, down) = PolyphaseResampler.Ratio(8000.123, 500);
        Assert.True(up <= PolyphaseResampler.MaxFactor && down <= PolyphaseResampler.MaxFactor, $"{up}/{down}");
        Assert.InRange((double)up / down / (500 / 8000.123), 1 - 1e-4, 1 + 1e-4);
        Assert.Equal((1, PolyphaseResampler.MaxFactor), PolyphaseResampler.Ratio(1e9, 1));
        var ex = Assert.Throws<ArgumentException>(() => PolyphaseResampler.For(-3, 500));
        Assert.Contains("-3", ex.Message);
        Assert.Throws<ArgumentException>(() => PolyphaseResampler.For(double.NaN, 500));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PolyphaseResampler(0, 3));
    }

    [Fact]
    public void TheCacheKeepsOnlyTheMostRecentlyUsedResamplers()
    {
        // A service that sees a new rate per request (the tester's 150 CSV uploads at 8001–8150 Hz added 590 MB) must not
        // keep a filter per rate.
        for (int rate = 8001; rate <= 8150; rate++)
        {
            PolyphaseResampler.For(rate, 500);
            Assert.InRange(PolyphaseResampler.CachedCount, 1, PolyphaseResampler.CacheCapacity);
        }
        var last = PolyphaseResampler.For(8150, 500);
        Assert.Same(last, PolyphaseResampler.For(8150, 500));
    }
}
