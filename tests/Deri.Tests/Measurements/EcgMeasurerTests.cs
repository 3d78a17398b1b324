using Deri.Tests.Signals;
using Deri.Measurements;
using Deri.Signals;
using Deri.Synthetic;

namespace Deri.Tests.Measurements;

/// <summary>
/// <see cref="EcgMeasurer"/> against synthetic records whose true intervals the generator drew, against constructed
/// vectors and edge cases, and against a handful of real PTB-XL records whose cardiologist labels imply an interval.
/// </summary>
public sealed class EcgMeasurerTests
{
    private static EcgMeasurements Measure(SyntheticEcg e, float scale = 1, bool millivolts = true) =>
        EcgMeasurer.Measure(e.Signal.Select(v => v * scale).ToArray(), e.Samples, e.SamplingRate, millivolts, $"synthetic {e.Index}");

    private static IEnumerable<SyntheticEcg> Records(double rate, Func<SyntheticEcg, bool> keep, int count, NoiseLevel noise = NoiseLevel.Low)
    {
        var gen = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 7, SamplingRate: rate, Noise: noise));
        return Enumerable.Range(0, 400).Select(gen.Generate).Where(keep).Take(count);
    }

    // Tolerances: every record's heart rate within 2 bpm; the median absolute error of PR and QRS within 15 ms and of QT
    // within 25 ms (the synthetic waves are Gaussians, whose "true" ends are a convention of the generator).
    [Theory]
    [InlineData(100)]
    [InlineData(250)]
    [InlineData(257.5)]
    [InlineData(500)]
    [InlineData(1000)]
    public void SyntheticSinusIntervalsMatchTheTruth(double rate)
    {
        var pr = new List<double>();
        var qrs = new List<double>();
        var qt = new List<double>();
        foreach (var e in Records(rate, x => x.Truth.Pr is not null && !x.Conditions.Contains(EcgCondition.PrematureVentricularComplexes), 12))
        {
            var m = Measure(e);
            Assert.True(Math.Abs(m.HeartRateBpm!.Value - e.Truth.HeartRate) <= 2, $"record {e.Index} at {rate} Hz: HR {m.HeartRateBpm} vs {e.Truth.HeartRate:0.0}");
            Assert.NotNull(m.PrMs);
            pr.Add(Math.Abs(m.PrMs!.Value - e.Truth.Pr!.Value));
            qrs.Add(Math.Abs(m.QrsMs!.Value - e.Truth.Qrs));
            qt.Add(Math.Abs(m.QtMs!.Value - e.Truth.Qt));
            Assert.Equal(12, m.MedianBeats.Count);
            Assert.All(m.MedianBeats, b => Assert.Equal(rate, b.SamplingRate));
        }
        Assert.True(Median(pr) <= 15, $"median |PR error| {Median(pr):0.0} ms at {rate} Hz");
        Assert.True(Median(qrs) <= 15, $"median |QRS error| {Median(qrs):0.0} ms at {rate} Hz");
        Assert.True(Median(qt) <= 25, $"median |QT error| {Median(qt):0.0} ms at {rate} Hz");
    }

    // First-degree AV block with a long PR (≥ 280 ms, up to the generator's 340 ms): the P wave sits far from the QRS,
    // close to the previous T wave, and must still be found, with PR above 200 ms and within 40 ms of the truth. Records
    // whose P wave begins more than 50 ms before the previous T end (RR − QT − PR < −50 ms: P inside the previous T wave,
    // as at 127 bpm with PR 333 ms) are left out — the method does not separate those (Measurements README, limits).
    [Theory]
    [InlineData(100)]
    [InlineData(500)]
    public void LongPrOfFirstDegreeBlockIsFound(double rate)
    {
        var block = Records(rate, x => x.Conditions.Contains(EcgCondition.FirstDegreeAvBlock) && x.Truth.Pr >= 280
            && x.Truth.MeanRr - x.Truth.Qt - x.Truth.Pr >= -50 && !x.Conditions.Contains(EcgCondition.PrematureVentricularComplexes), 6).ToList();
        Assert.True(block.Count >= 3, $"only {block.Count} synthetic records with PR >= 280 ms");
        foreach (var e in block)
        {
            var m = Measure(e);
            Assert.True(m.PrMs is not null, $"record {e.Index} (PR {e.Truth.Pr:0} ms, HR {e.Truth.HeartRate:0}) has no PR: {string.Join("; ", m.Notes)}");
            Assert.True(m.PrMs > 200 && Math.Abs(m.PrMs.Value - e.Truth.Pr!.Value) <= 40,
                $"record {e.Index} at {rate} Hz: PR {m.PrMs} vs {e.Truth.Pr:0} ms");
        }
    }

    // P wave on the end of the previous T wave: first-degree block records (seed 7, low noise) whose P wave begins 62–84 ms
    // before the previous beat's T end (PR 320–336 ms at 84–113 bpm). The first P search finds no distinct hump there
    // (PR was null before the second search); the second, on the high-passed leads, must find the P wave.
    [Theory]
    [InlineData(100)]
    [InlineData(500)]
    public void PWaveOnThePreviousTWaveIsFound(double rate)
    {
        var gen = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 7, SamplingRate: rate, Noise: NoiseLevel.Low));
        foreach (int index in new[] { 351, 1084, 1377, 2525 })
        {
            var e = gen.Generate(index);
            double gap = e.Truth.MeanRr - e.Truth.Qt - e.Truth.Pr!.Value;
            Assert.InRange(gap, -90, -60); // the generator still draws the case this test is about
            var m = Measure(e);
            Assert.True(m.PrMs is not null, $"record {index} at {rate} Hz (PR {e.Truth.Pr:0} ms) has no PR: {string.Join("; ", m.Notes)}");
            Assert.True(Math.Abs(m.PrMs.Value - e.Truth.Pr.Value) <= 40, $"record {index} at {rate} Hz: PR {m.PrMs} vs {e.Truth.Pr:0} ms");
        }
    }

    [Fact]
    public void AtrialFibrillationHasNoPr()
    {
        var af = Records(500, x => x.Conditions.Contains(EcgCondition.AtrialFibrillation), 5).ToList();
        Assert.Equal(5, af.Count);
        foreach (var e in af)
        {
            var m = Measure(e);
            Assert.True(m.PrMs is null, $"record {e.Index} (AF) has PR {m.PrMs}");
            Assert.Null(m.PAxisDeg);
            Assert.Contains(m.Notes, n => n.Contains("PR", StringComparison.Ordinal));
            Assert.All(m.MedianBeats, b => Assert.Null(b.Fiducials.POnset));
            Assert.NotNull(m.HeartRateBpm);
        }
    }

    [Theory]
    [InlineData(0.01f)]
    [InlineData(100f)]
    public void IntervalsDoNotDependOnAmplitude(float scale)
    {
        foreach (var e in Records(500, x => x.Truth.Pr is not null, 3))
        {
            var a = Measure(e);
            var b = Measure(e, scale, millivolts: false);
            Assert.Equal(a.Beats, b.Beats);
            Assert.Equal(a.HeartRateBpm, b.HeartRateBpm);
            Near(a.PrMs, b.PrMs);
            Near(a.QrsMs, b.QrsMs);
            Near(a.QtMs, b.QtMs);
        }
    }

    [Fact]
    public void UnitlessRecordHasNoAxes()
    {
        var e = Records(500, x => x.Truth.Pr is not null, 1).Single();
        var m = Measure(e, millivolts: false);
        Assert.NotNull(m.QrsMs);
        Assert.Null(m.PAxisDeg);
        Assert.Null(m.QrsAxisDeg);
        Assert.Null(m.TAxisDeg);
        Assert.Contains(m.Notes, n => n.Contains("axes need millivolts", StringComparison.Ordinal));
        var withAxes = Measure(e);
        Assert.True(Math.Abs(Math.IEEERemainder(withAxes.QrsAxisDeg!.Value - e.Truth.QrsAxis, 360)) <= 15,
            $"QRS axis {withAxes.QrsAxisDeg} vs {e.Truth.QrsAxis}");
    }

    [Fact]
    public void ZScoredSharedRecordHasIntervalsButNoAxes()
    {
        string dir = SignalData.File("ptbxl-zscore", "records100", "00000");
        string hea = Directory.GetFiles(dir, "*.hea").Order().First();
        var m = EcgMeasurer.Measure(RecordReader.Read(hea));
        Assert.NotNull(m.HeartRateBpm);
        Assert.NotNull(m.QrsMs);
        Assert.Null(m.QrsAxisDeg);
        Assert.Contains(m.Notes, n => n.Contains("'z'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(0, 1, 90)]
    [InlineData(-1, 0, 180)]
    [InlineData(0, -1, -90)]
    public void AxesOfConstructedVectors(double leadI, double avf, double expected) =>
        Assert.Equal(expected, EcgMeasurer.FrontalAxis(leadI, avf), 6);

    [Theory]
    [InlineData(60)]
    [InlineData(-30)]
    [InlineData(120)]
    public void AxisOfADipoleProjectedOnTheLimbLeads(double degrees)
    {
        // A frontal dipole at θ projects on lead I as cos θ and on aVF as (√3/2)·sin θ (Einthoven's triangle).
        double th = degrees * Math.PI / 180;
        Assert.Equal(degrees, EcgMeasurer.FrontalAxis(Math.Cos(th), Math.Sqrt(3) / 2 * Math.Sin(th)), 6);
    }

    [Fact]
    public void NaNSamplesAreAClearError()
    {
        var e = Records(500, _ => true, 1).Single();
        var x = e.Signal.ToArray();
        x[3 * e.Samples + 100] = float.NaN;
        var ex = Assert.Throws<EcgFormatException>(() => EcgMeasurer.Measure(x, e.Samples, 500, true, "rec.hea"));
        Assert.Contains("rec.hea", ex.Message);
        Assert.Contains("lead aVR", ex.Message);
    }

    [Fact]
    public void FlatAndShortRecordsAreClearErrors()
    {
        var flat = Assert.Throws<EcgFormatException>(() => EcgMeasurer.Measure(new float[12 * 5000], 5000, 500, true, "flat.hea"));
        Assert.Contains("flat", flat.Message);
        var e = Records(500, _ => true, 1).Single();
        var shortOne = new float[12 * 500];
        for (int l = 0; l < 12; l++) Array.Copy(e.Signal, l * e.Samples, shortOne, l * 500, 500);
        var ex = Assert.Throws<EcgFormatException>(() => EcgMeasurer.Measure(shortOne, 500, 500, true, "short.hea"));
        Assert.Contains("at least 2 s", ex.Message);
    }

    [Fact]
    public void ASingleSpikeGivesNullsWithANote()
    {
        // A record with one lead carrying a single spike: fewer than two QRS complexes, so nothing but the count.
        int n = 5000;
        var x = new float[12 * n];
        x[2500] = 1;
        var m = EcgMeasurer.Measure(x, n, 500, true, "spike");
        Assert.True(m.Beats < 2);
        Assert.Null(m.HeartRateBpm);
        Assert.Null(m.QrsMs);
        Assert.Empty(m.MedianBeats);
        Assert.NotEmpty(m.Notes);
    }

    // PTB-XL records (500 Hz, mV) whose labels imply an interval: SBRAD, STACH, 1AVB, CLBBB, CRBBB, and a normal ECG.
    [Theory]
    [InlineData("00001", "NORM")]
    [InlineData("00002", "SBRAD")]
    [InlineData("00108", "STACH")]
    [InlineData("00102", "1AVB")]
    [InlineData("00209", "1AVB")]
    [InlineData("00141", "1AVB")] // P wave right after the previous T wave at 89 bpm: found by the second search
    [InlineData("00346", "1AVB")] // the same at 98 bpm, with LBBB
    [InlineData("00256", "CLBBB")]
    [InlineData("00338", "CLBBB")]
    [InlineData("00195", "CRBBB")]
    [InlineData("00455", "CRBBB")]
    public void RealRecordsAgreeWithTheirLabels(string id, string label)
    {
        var m = EcgMeasurer.Measure(RecordReader.Read(SignalData.File("ptbxl", "records500", "00000", id + "_hr.hea")));
        switch (label)
        {
            case "NORM":
                Assert.InRange(m.HeartRateBpm!.Value, 60, 100);
                Assert.InRange(m.PrMs!.Value, 120, 200);
                Assert.InRange(m.QrsMs!.Value, 60, 110);
                Assert.InRange(m.QtcBazettMs!.Value, 350, 450);
                Assert.InRange(m.QrsAxisDeg!.Value, -30, 90);
                break;
            case "SBRAD": Assert.True(m.HeartRateBpm < 60, $"HR {m.HeartRateBpm}"); break;
            case "STACH": Assert.True(m.HeartRateBpm > 100, $"HR {m.HeartRateBpm}"); break;
            case "1AVB": Assert.True(m.PrMs > 200, $"PR {m.PrMs}"); break;
            default: Assert.True(m.QrsMs >= 120, $"QRS {m.QrsMs}"); break;
        }
    }

    private static void Near(double? a, double? b)
    {
        Assert.Equal(a is null, b is null);
        if (a is { } x && b is { } y) Assert.True(Math.Abs(x - y) <= 1, $"{x} vs {y}");
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
