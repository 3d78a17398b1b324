using Deri.Synthetic;
using Xunit.Abstractions;

namespace Deri.Tests.Synthetic;

public class GeneratorTests(ITestOutputHelper output)
{
    private static int L(string lead) => SyntheticEcgGenerator.Leads.ToList().IndexOf(lead);

    [Fact]
    public void EinthovenAndAugmentedLeadIdentitiesHoldWithNoise()
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 3, Noise: NoiseLevel.High));
        for (int i = 0; i < 10; i++)
        {
            var e = g.Generate(i);
            var (I, II, III, aVR, aVF, aVL) = (e.Lead(0).ToArray(), e.Lead(1).ToArray(), e.Lead(2).ToArray(), e.Lead(3).ToArray(), e.Lead(4).ToArray(), e.Lead(5).ToArray());
            for (int t = 0; t < e.Samples; t++)
            {
                Assert.Equal(II[t], I[t] + III[t], 1e-5f);
                Assert.Equal(-(I[t] + II[t]) / 2, aVR[t], 1e-5f);
                Assert.Equal(I[t] - II[t] / 2, aVL[t], 1e-5f);
                Assert.Equal(II[t] - I[t] / 2, aVF[t], 1e-5f);
            }
        }
    }

    [Fact]
    public void LeadOrderSizeAndRateFollowTheConfiguration()
    {
        Assert.Equal(["I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6"], SyntheticEcgGenerator.Leads);
        var e = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 1, SamplingRate: 250, DurationSeconds: 8)).Generate(5);
        Assert.Equal(2000, e.Samples);
        Assert.Equal(12 * 2000, e.Signal.Length);
        Assert.All(e.Signal, v => Assert.True(float.IsFinite(v) && Math.Abs(v) < 15));
        Assert.Throws<ArgumentException>(() => new SyntheticEcgGenerator(new SyntheticEcgConfig(SamplingRate: 0)));
        Assert.Throws<ArgumentException>(() => new SyntheticEcgGenerator(new SyntheticEcgConfig(DurationSeconds: double.NaN)));
        Assert.Throws<ArgumentException>(() => SyntheticEcgConfig.ParseNoise("loud"));
    }

    [Theory]
    [InlineData(100, 2)]
    [InlineData(1000, 30)]
    public void ShortLongSlowAndFastRecordsAreValid(double rate, double seconds)
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 8, SamplingRate: rate, DurationSeconds: seconds, Noise: NoiseLevel.High));
        for (int i = 0; i < 40; i++)
        {
            var e = g.Generate(i);
            Assert.Equal((int)(rate * seconds), e.Samples);
            Assert.All(e.Signal, v => Assert.True(float.IsFinite(v)));
            Assert.NotEmpty(e.Conditions);
            Assert.InRange(e.Truth.HeartRate, 30, 200);
            // A PVC label always has a PVC in the record.
            Assert.Equal(e.Conditions.Contains(EcgCondition.PrematureVentricularComplexes), e.Truth.Beats.Any(b => b.Kind == BeatKind.Ventricular));
        }
    }

    [Fact]
    public void SameSeedAndIndexGiveTheSameRecordAndOthersDiffer()
    {
        var cfg = new SyntheticEcgConfig(Seed: 11);
        var a = new SyntheticEcgGenerator(cfg).Generate(42);
        var b = new SyntheticEcgGenerator(cfg).Generate(42);
        Assert.Equal(a.Signal, b.Signal);
        Assert.Equal(a.Statements, b.Statements);
        Assert.Equal(a.Age, b.Age);
        Assert.NotEqual(a.Signal, new SyntheticEcgGenerator(cfg).Generate(43).Signal);
        Assert.NotEqual(a.Signal, new SyntheticEcgGenerator(cfg with { Seed = 12 }).Generate(42).Signal);
    }

    /// <summary>ST level at J+20 ms (before the T wave rises at fast rates) relative to the PR segment, median over conducted beats, per lead.</summary>
    private static double[] StLevels(SyntheticEcg r)
    {
        var slope = EcgMeasure.Smooth(EcgMeasure.SpatialSlope(r), 4);
        var perBeat = r.ConductedOnsets().Select(on =>
        {
            var (a, b) = EcgMeasure.QrsBounds(r, slope, on + (int)(0.4 * r.Truth.Qrs / 1000 * r.SamplingRate));
            int j20 = b + (int)(0.02 * r.SamplingRate), pr = a - (int)(0.015 * r.SamplingRate);
            return Enumerable.Range(0, 12).Select(c => (double)(r.Lead(c)[j20] - r.Lead(c)[pr])).ToArray();
        }).ToList();
        return Enumerable.Range(0, 12).Select(c => perBeat.Select(x => x[c]).OrderBy(v => v).ElementAt(perBeat.Count / 2)).ToArray();
    }

    [Fact]
    public void StElevationIsVisibleInTheTerritoryLeads()
    {
        string[] inferior = ["II", "III", "aVF"], anterior = ["V1", "V2", "V3", "V4"];
        var clean = SyntheticSamples.Clean;
        // Flutter waves leave no isoelectric PR segment to measure from, and above 120 bpm the T wave swallows the ST segment.
        var measurable = clean.Where(r => !r.Conditions.Contains(EcgCondition.AtrialFlutter) && r.Truth.HeartRate < 120).ToList();
        var inf = measurable.With(EcgCondition.InferiorStElevation).ToList();
        var ant = measurable.With(EcgCondition.AnteriorStElevation).ToList();
        Assert.True(inf.Count >= 5 && ant.Count >= 5);
        foreach (var r in inf)
        {
            var st = StLevels(r);
            Assert.True(inferior.Average(l => st[L(l)]) >= 0.1, $"record {r.Index}: inferior ST {string.Join(' ', inferior.Select(l => st[L(l)].ToString("F2")))}");
            Assert.True(st[L("aVL")] < 0, $"record {r.Index}: no reciprocal depression in aVL ({st[L("aVL")]:F2})");
        }
        foreach (var r in ant)
        {
            var st = StLevels(r);
            Assert.True(new[] { "V2", "V3" }.Average(l => st[L(l)]) >= 0.1, $"record {r.Index}: anterior ST {string.Join(' ', anterior.Select(l => st[L(l)].ToString("F2")))}");
        }
        // Without ST findings the ST segment stays near the baseline in those leads.
        var plain = clean.Where(r => r.Conditions.Contains(EcgCondition.Normal)).Take(40).ToList();
        foreach (var r in plain)
        {
            var st = StLevels(r);
            Assert.True(inferior.Concat(anterior).All(l => st[L(l)] < 0.1), $"normal record {r.Index}: ST {string.Join(' ', st.Select(v => v.ToString("F2")))}");
        }
        var std = measurable.With(EcgCondition.StDepression).ToList();
        Assert.True(std.Count >= 5);
        foreach (var r in std)
        {
            var st = StLevels(r);
            Assert.True(new[] { "V5", "V6" }.Average(l => st[L(l)]) <= -0.05 && st[L("aVR")] > 0, $"record {r.Index}: ST {string.Join(' ', st.Select(v => v.ToString("F2")))}");
        }
    }

    [Fact]
    public void BundleBranchBlockMorphologies()
    {
        foreach (var r in SyntheticSamples.Clean.With(EcgCondition.RightBundleBranchBlock))
        {
            // The last quarter of the QRS: R' in V1, wide S in I and V6.
            var late = r.ConductedOnsets().Select(on => on + (int)(0.78 * r.Truth.Qrs / 1000 * r.SamplingRate)).ToList();
            double v1 = late.Average(t => r.Lead(L("V1"))[t]), i = late.Average(t => r.Lead(L("I"))[t]), v6 = late.Average(t => r.Lead(L("V6"))[t]);
            Assert.True(v1 > 0.15 && i < -0.1 && v6 < -0.1, $"RBBB record {r.Index}: late QRS V1 {v1:F2}, I {i:F2}, V6 {v6:F2}");
        }
        foreach (var r in SyntheticSamples.Clean.With(EcgCondition.LeftBundleBranchBlock))
        {
            double MaxMin(string lead, bool max) => r.ConductedOnsets().Average(on =>
            {
                var seg = r.Lead(L(lead)).Slice(on, (int)(r.Truth.Qrs / 1000 * r.SamplingRate)).ToArray();
                return (double)(max ? seg.Max() : seg.Min());
            });
            Assert.True(-MaxMin("V1", false) > 2 * MaxMin("V1", true), $"LBBB record {r.Index}: V1 not predominantly negative");
            foreach (string lead in new[] { "I", "V6" })
                Assert.True(MaxMin(lead, true) > 2 * -MaxMin(lead, false), $"LBBB record {r.Index}: {lead} not predominantly positive");
        }
    }

    [Fact]
    public void VoltageCriteriaSeparateLvhAndLowVoltage()
    {
        (double Sokolow, double LimbPeakToPeak, double PrecordialPeakToPeak) Voltages(SyntheticEcg r)
        {
            var onsets = r.ConductedOnsets().ToList();
            int len = (int)(r.Truth.Qrs / 1000 * r.SamplingRate) + 2;
            double Pp(int lead, Func<float[], double> f) => onsets.Average(on => f(r.Lead(lead).Slice(on - 2, len).ToArray()));
            double sV1 = -Pp(L("V1"), s => s.Min()), rV5 = Pp(L("V5"), s => s.Max()), rV6 = Pp(L("V6"), s => s.Max());
            double limb = Enumerable.Range(0, 6).Max(c => Pp(c, s => s.Max() - s.Min()));
            double prec = Enumerable.Range(6, 6).Max(c => Pp(c, s => s.Max() - s.Min()));
            return (sV1 + Math.Max(rV5, rV6), limb, prec);
        }
        var clean = SyntheticSamples.Clean.Where(r => !r.HasBbb() && !r.Conditions.Contains(EcgCondition.PrematureVentricularComplexes)).ToList();
        var lvh = clean.With(EcgCondition.LeftVentricularHypertrophy).Select(Voltages).ToList();
        var norm = clean.With(EcgCondition.Normal).Select(Voltages).ToList();
        var low = clean.With(EcgCondition.LowQrsVoltage).Select(Voltages).ToList();
        output.WriteLine($"Sokolow–Lyon: LVH min {lvh.Min(v => v.Sokolow):F2} mV, normal max {norm.Max(v => v.Sokolow):F2} mV");
        Assert.True(lvh.Count >= 5 && low.Count >= 5);
        Assert.All(lvh, v => Assert.True(v.Sokolow >= 3.5, $"LVH Sokolow–Lyon {v.Sokolow:F2} mV"));
        Assert.True(norm.Count(v => v.Sokolow >= 3.5) <= norm.Count / 10);
        Assert.All(low, v => Assert.True(v.LimbPeakToPeak < 0.5 && v.PrecordialPeakToPeak < 1.0, $"low voltage record: limb {v.LimbPeakToPeak:F2}, precordial {v.PrecordialPeakToPeak:F2} mV"));
        Assert.True(norm.All(v => v.LimbPeakToPeak >= 0.5));
    }

    [Fact]
    public void PvcsAreWideEarlyAndFollowedByACompensatoryPause()
    {
        int checkedPvcs = 0;
        foreach (var r in SyntheticSamples.Clean.With(EcgCondition.PrematureVentricularComplexes).Where(r => r.Truth.Pr is not null))
        {
            var beats = r.Truth.Beats;
            var detected = EcgMeasure.DetectBeats(r);
            double dur = r.Samples / r.SamplingRate;
            for (int i = 1; i < beats.Count - 1; i++)
            {
                if (beats[i].Kind != BeatKind.Ventricular || beats[i - 1].QrsOnset < 0.3 || beats[i + 1].QrsOnset > dur - 0.4) continue;
                int Near(double t) => detected.MinBy(d => Math.Abs(d - t * r.SamplingRate));
                int prev = Near(beats[i - 1].QrsOnset), pvc = Near(beats[i].QrsOnset), next = Near(beats[i + 1].QrsOnset);
                double rr = r.Truth.MeanRr / 1000 * r.SamplingRate;
                Assert.True(pvc - prev < 0.8 * rr, $"record {r.Index}: PVC not premature");
                Assert.InRange((next - prev) / rr, 1.8, 2.2);
                var slope = EcgMeasure.Smooth(EcgMeasure.SpatialSlope(r), 4);
                var (a, b) = EcgMeasure.QrsBounds(r, slope, pvc);
                Assert.True(EcgMeasure.Ms(r, b - a) >= 120, $"record {r.Index}: PVC QRS {EcgMeasure.Ms(r, b - a):F0} ms");
                checkedPvcs++;
            }
        }
        Assert.True(checkedPvcs >= 10, $"only {checkedPvcs} PVCs checked");
    }
}

public class NoiseTests
{
    [Fact]
    public void NoiseLevelsAddIncreasingNoiseWithMainsOnTopOfTheSameCardiacSignal()
    {
        double Rms(NoiseLevel level, int index, out SyntheticEcg noisy, out SyntheticEcg clean)
        {
            clean = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 2, Noise: NoiseLevel.None)).Generate(index);
            noisy = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 2, Noise: level)).Generate(index);
            double s = 0;
            for (int i = 0; i < clean.Signal.Length; i++) s += Math.Pow(noisy.Signal[i] - clean.Signal[i], 2);
            return Math.Sqrt(s / clean.Signal.Length);
        }
        double[] low = new double[20], medium = new double[20], high = new double[20];
        for (int i = 0; i < 20; i++)
        {
            low[i] = Rms(NoiseLevel.Low, i, out _, out _);
            medium[i] = Rms(NoiseLevel.Medium, i, out var m, out var c);
            high[i] = Rms(NoiseLevel.High, i, out _, out _);
            // Same record underneath: labels and report do not depend on the noise level.
            Assert.Equal(c.Conditions.OrderBy(x => x), m.Conditions.OrderBy(x => x));
            Assert.Equal(c.Statements, m.Statements);
            Assert.Equal(c.Truth.HeartRate, m.Truth.HeartRate);

            // Mains interference: the noise's spectrum at the drawn mains frequency stands out of its neighbours.
            int n = m.Samples, f = m.Truth.MainsFrequency;
            double Power(double hz)
            {
                double p = 0;
                for (int lead = 0; lead < 12; lead++)
                {
                    double re = 0, im = 0;
                    for (int t = 0; t < n; t++)
                    {
                        double d = m.Signal[lead * n + t] - c.Signal[lead * n + t], a = 2 * Math.PI * hz * t / m.SamplingRate;
                        re += d * Math.Cos(a); im += d * Math.Sin(a);
                    }
                    p += re * re + im * im;
                }
                return p;
            }
            Assert.True(Power(f) > 20 * Power(f + 7.3), $"record {i}: no {f} Hz mains component");
        }
        Assert.True(low.Average() < medium.Average() && medium.Average() < high.Average(), $"RMS noise {low.Average():F3} / {medium.Average():F3} / {high.Average():F3} mV");
        Assert.InRange(low.Average(), 0.005, 0.08);
        Assert.InRange(high.Average(), 0.1, 0.8);
    }
}
