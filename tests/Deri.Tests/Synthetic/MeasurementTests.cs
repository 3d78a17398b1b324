using Deri.Synthetic;
using Xunit.Abstractions;

namespace Deri.Tests.Synthetic;

public class MeasurementTests(ITestOutputHelper output)
{
    [Fact]
    public void HeartRateMeasuredFromNoisySignalsMatchesTheDrawnRate()
    {
        var worst = 0.0;
        foreach (var r in SyntheticSamples.Noisy)
        {
            var beats = EcgMeasure.DetectBeats(r);
            double hr = EcgMeasure.HeartRate(beats, r.SamplingRate);
            double err = Math.Abs(hr - r.Truth.HeartRate);
            worst = Math.Max(worst, err);
            Assert.True(err <= 5, $"record {r.Index} [{string.Join(',', r.Conditions)}]: measured {hr:F1} bpm, drawn {r.Truth.HeartRate:F1} bpm");
        }
        output.WriteLine($"worst heart-rate error {worst:F2} bpm over {SyntheticSamples.Noisy.Length} records");
    }

    [Fact]
    public void RrIrregularityIsClearlyHigherInAtrialFibrillation()
    {
        var sinusRecords = SyntheticSamples.Noisy.Where(r => r.Truth.Pr is not null && !r.Conditions.Contains(EcgCondition.PrematureVentricularComplexes)).ToList();
        var afRecords = SyntheticSamples.Noisy.With(EcgCondition.AtrialFibrillation).ToList();
        var sinus = sinusRecords.Select(r => EcgMeasure.RrCv(EcgMeasure.DetectBeats(r))).ToList();
        var af = afRecords.Select(r => EcgMeasure.RrCv(EcgMeasure.DetectBeats(r))).ToList();
        output.WriteLine($"sinus CV max {sinus.Max():F3} (n={sinus.Count}); AF CV min {af.Min():F3} mean {af.Average():F3} (n={af.Count})");
        Assert.True(sinus.Count >= 20 && af.Count >= 10);
        double sinusMax = sinus.Max(), afMedian = af.OrderBy(x => x).ElementAt(af.Count / 2);
        Assert.True(sinusMax < 0.06, $"sinus RR CV up to {sinusMax:F3}");
        Assert.True(afMedian > 0.15, $"median AF RR CV only {afMedian:F3}");
        // A short AF strip can look regular by chance, but hardly ever as regular as sinus rhythm.
        Assert.True(af.Count(x => x > sinusMax) >= 0.9 * af.Count, $"{af.Count(x => x <= sinusMax)} of {af.Count} AF records are as regular as sinus rhythm");
    }

    [Fact]
    public void QrsIsWideInBundleBranchBlockAndNarrowOtherwise()
    {
        double maxNarrow = 0, minWide = 1000;
        foreach (var r in SyntheticSamples.Clean)
        {
            var slope = EcgMeasure.Smooth(EcgMeasure.SpatialSlope(r), 4);
            var widths = r.ConductedOnsets().Select(on =>
            {
                var (a, b) = EcgMeasure.QrsBounds(r, slope, on + (int)(0.4 * r.Truth.Qrs / 1000 * r.SamplingRate));
                return EcgMeasure.Ms(r, b - a);
            }).ToList();
            double w = widths.OrderBy(x => x).ElementAt(widths.Count / 2);
            if (r.HasBbb())
            {
                minWide = Math.Min(minWide, w);
                Assert.True(w >= 120, $"record {r.Index} [{string.Join(',', r.Conditions)}]: QRS {w:F0} ms (drawn {r.Truth.Qrs:F0})");
            }
            else
            {
                maxNarrow = Math.Max(maxNarrow, w);
                Assert.True(w < 110, $"record {r.Index} [{string.Join(',', r.Conditions)}]: QRS {w:F0} ms (drawn {r.Truth.Qrs:F0})");
            }
        }
        output.WriteLine($"narrow QRS up to {maxNarrow:F0} ms, wide QRS from {minWide:F0} ms");
    }

    [Fact]
    public void PrIsProlongedInFirstDegreeAvBlock()
    {
        double minBlock = 1000, maxNormal = 0;
        int blocks = 0;
        // Only records whose P wave stands clear of the preceding T wave (TP segment ≥ 80 ms), where PR is well defined.
        foreach (var r in SyntheticSamples.Clean.Where(r => r.Truth.Pr is { } pr && r.Truth.MeanRr - r.Truth.Qt - pr >= 80))
        {
            var slope = EcgMeasure.Smooth(EcgMeasure.SpatialSlope(r), 4);
            var prs = r.ConductedOnsets().Select(on =>
            {
                var (qon, _) = EcgMeasure.QrsBounds(r, slope, on + (int)(0.4 * r.Truth.Qrs / 1000 * r.SamplingRate));
                return EcgMeasure.Ms(r, qon - EcgMeasure.POnset(r, qon));
            }).OrderBy(x => x).ToList();
            double pr = prs[prs.Count / 2];
            if (r.Conditions.Contains(EcgCondition.FirstDegreeAvBlock))
            {
                blocks++;
                minBlock = Math.Min(minBlock, pr);
                Assert.True(pr > 200, $"record {r.Index}: PR {pr:F0} ms (drawn {r.Truth.Pr:F0})");
            }
            else
            {
                maxNormal = Math.Max(maxNormal, pr);
                Assert.True(pr <= 200, $"record {r.Index} [{string.Join(',', r.Conditions)}]: PR {pr:F0} ms (drawn {r.Truth.Pr:F0})");
            }
        }
        output.WriteLine($"normal PR up to {maxNormal:F0} ms, first-degree block PR from {minBlock:F0} ms ({blocks} records)");
        Assert.True(blocks >= 5);
    }
}
