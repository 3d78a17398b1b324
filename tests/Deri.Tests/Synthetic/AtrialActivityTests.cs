using Deri.Synthetic;
using Xunit.Abstractions;

namespace Deri.Tests.Synthetic;

public class AtrialActivityTests(ITestOutputHelper output)
{
    /// <summary>
    /// The electrically quiet stretches between beats on a noise-free record: from T end + 40 ms to 40 ms
    /// before the next P onset (or QRS onset without P waves). Returns the samples of one lead per window.
    /// </summary>
    private static List<float[]> QuietWindows(SyntheticEcg r, int lead)
    {
        double fs = r.SamplingRate, qt = r.Truth.Qt / 1000, pr = (r.Truth.Pr ?? 0) / 1000;
        var beats = r.Truth.Beats;
        var windows = new List<float[]>();
        for (int i = 0; i + 1 < beats.Count; i++)
        {
            double tailEnd = beats[i].QrsOnset + (beats[i].Kind == BeatKind.Ventricular ? 0.6 : qt) + 0.04;
            double next = beats[i + 1].QrsOnset - pr - 0.06;
            int a = (int)(tailEnd * fs), b = (int)(next * fs);
            if (a < 0 || b > r.Samples || b - a < (int)(0.15 * fs)) continue;
            windows.Add(r.Lead(lead).Slice(a, b - a).ToArray());
        }
        return windows;
    }

    private static double Rms(IEnumerable<float[]> windows) =>
        Math.Sqrt(windows.SelectMany(w => { double m = w.Average(); return w.Select(v => (v - m) * (v - m)); }).DefaultIfEmpty(0).Average());

    [Fact]
    public void FibrillatoryAndFlutterWavesFillTheBaselineWhereSinusRhythmIsFlat()
    {
        int aVF = 4, v1 = 6;
        var clean = SyntheticSamples.Clean;
        var sinus = clean.Where(r => r.Truth.Pr is not null).Select(r => Rms(QuietWindows(r, v1).Concat(QuietWindows(r, aVF)))).Where(x => x > 0).ToList();
        var af = clean.With(EcgCondition.AtrialFibrillation).Select(r => Rms(QuietWindows(r, v1))).Where(x => x > 0).ToList();
        var flutter = clean.With(EcgCondition.AtrialFlutter).Select(r => Rms(QuietWindows(r, aVF))).Where(x => x > 0).ToList();
        output.WriteLine($"baseline RMS: sinus max {sinus.Max():F4}, AF min {af.Min():F4}, flutter min {flutter.Min():F4} mV");
        Assert.True(sinus.Count > 50 && af.Count > 20 && flutter.Count > 10);
        Assert.True(sinus.Max() < 0.003, $"sinus baseline RMS up to {sinus.Max():F4} mV");
        Assert.True(af.Min() > 0.005, $"AF baseline RMS as low as {af.Min():F4} mV");
        Assert.True(flutter.Min() > 0.02, $"flutter baseline RMS as low as {flutter.Min():F4} mV");
    }

    [Fact]
    public void FlutterWavesRunNearThreeHundredPerMinute()
    {
        int measured = 0;
        foreach (var r in SyntheticSamples.Clean.With(EcgCondition.AtrialFlutter))
        {
            // Upward zero crossings of the sawtooth in lead aVF: one per flutter cycle.
            var windows = QuietWindows(r, 4);
            double seconds = 0;
            int crossings = 0;
            foreach (var w in windows)
            {
                double m = w.Average();
                int first = -1, last = -1, count = 0;
                for (int t = 1; t < w.Length; t++)
                    if (w[t - 1] < m && w[t] >= m) { if (first < 0) first = t; last = t; count++; }
                if (count >= 2) { crossings += count - 1; seconds += (last - first) / r.SamplingRate; }
            }
            if (crossings < 3) continue;
            double rate = 60 * crossings / seconds;
            Assert.True(Math.Abs(rate - r.Truth.AtrialRate) < 0.15 * r.Truth.AtrialRate, $"record {r.Index}: flutter waves at {rate:F0}/min, drawn {r.Truth.AtrialRate:F0}/min");
            Assert.InRange(rate, 210, 390);
            measured++;
        }
        Assert.True(measured >= 10, $"flutter rate measured in only {measured} records");
    }
}
