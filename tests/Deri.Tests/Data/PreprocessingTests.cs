using Deri.Data.Preprocessing;
using Deri.Signals;

namespace Deri.Tests.Data;

public class PreprocessingTests
{
    /// <summary>A 12-lead record in PTB-XL order (aVL before aVF) whose channel c holds f(c, t) in mV at gain 1000.</summary>
    internal static EcgRecord Synthetic(Func<int, int, double> f, int samples = 5000, double rate = 500, IReadOnlyList<string>? leads = null)
    {
        leads ??= LeadOrder.Standard;
        var digital = new int[leads.Count][];
        for (int c = 0; c < leads.Count; c++)
        {
            digital[c] = new int[samples];
            for (int t = 0; t < samples; t++)
            {
                double v = f(c, t);
                digital[c][t] = double.IsNaN(v) ? int.MinValue : (int)Math.Round(v * 1000);
            }
        }
        return new EcgRecord
        {
            Id = "synthetic", SamplingRate = rate, Leads = leads, Digital = digital,
            Gain = Enumerable.Repeat(1000.0, leads.Count).ToArray(), Baseline = new int[leads.Count], Units = Enumerable.Repeat("mV", leads.Count).ToArray(),
        };
    }

    [Fact]
    public void ReorderSwapsAvlAndAvfOfPtbXlOrder()
    {
        var rec = Synthetic((c, t) => c + 1);
        var y = new EcgPreprocessor(new PreprocessConfig { Normalization = Normalization.None }).Process(rec);
        // Stored order I, II, III, aVR, aVL(5), aVF(6) … → model order I, II, III, aVR, aVF, aVL.
        float[] expected = [1, 2, 3, 4, 6, 5, 7, 8, 9, 10, 11, 12];
        for (int l = 0; l < 12; l++)
        {
            Assert.Equal(expected[l], y[l * 5000]);
            Assert.Equal(expected[l], y[l * 5000 + 4999]);
        }
        var kept = new EcgPreprocessor(new PreprocessConfig { Normalization = Normalization.None, ReorderLeads = false }).Process(rec);
        Assert.Equal(5, kept[4 * 5000]);
    }

    [Fact]
    public void MissingLeadIsAClearError()
    {
        var rec = Synthetic((c, t) => 0, leads: ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "X"]);
        var ex = Assert.Throws<EcgFormatException>(() => new EcgPreprocessor().Process(rec));
        Assert.Contains("V6", ex.Message);
    }

    [Fact]
    public void MinMaxIsGlobalOverTheWholeRecord()
    {
        var rec = Synthetic((c, t) => c == 0 ? -2 + 4.0 * t / 4999 : 0.5 * Math.Sin(t * 0.01) + c * 0.1);
        var y = new EcgPreprocessor().Process(rec);
        Assert.Equal(0f, y.Min(), 6);
        Assert.Equal(1f, y.Max(), 5);
        // Lead I spans the global range; a constant 0 mV sample maps to (0 − (−2)) / 4 = 0.5 (up to 1e−8).
        Assert.Equal(0f, y[0], 6);
        Assert.Equal(1f, y[4999], 5);
        var zero = Synthetic((c, t) => c == 0 ? -2 + 4.0 * t / 4999 : 0);
        Assert.Equal(0.5f, new EcgPreprocessor().Process(zero)[5 * 5000 + 7], 5);
    }

    [Fact]
    public void ZScoreIsPerLead()
    {
        var rec = Synthetic((c, t) => (c + 1) * Math.Sin(t * 0.05) + c);
        var y = new EcgPreprocessor(new PreprocessConfig { Normalization = Normalization.ZScorePerLead }).Process(rec);
        for (int l = 0; l < 12; l++)
        {
            var row = y.AsSpan(l * 5000, 5000).ToArray();
            double mean = row.Average(v => (double)v);
            double std = Math.Sqrt(row.Average(v => (v - mean) * (v - mean)));
            Assert.True(Math.Abs(mean) < 1e-4, $"lead {l} mean {mean}");
            Assert.True(Math.Abs(std - 1) < 1e-3, $"lead {l} std {std}");
        }
    }

    [Fact]
    public void NanRepairIsTheMeanOfTheFiniteNeighboursWithinSix()
    {
        double[] x = [1, 2, 3, 4, 5, 6, 7, double.NaN, 9, 10, 11, 12, 13, 14, 15, 16];
        var y = new double[x.Length];
        EcgPreprocessor.RepairNonFinite(x, y);
        // t = 7: neighbours t = 1..13 except 7 → (2+…+7 + 9+…+14) / 12.
        Assert.Equal((2 + 3 + 4 + 5 + 6 + 7 + 9 + 10 + 11 + 12 + 13 + 14) / 12.0, y[7], 12);
        Assert.Equal(x[6], y[6]);

        double[] edge = [double.PositiveInfinity, 2, double.NaN, 4, 8, 8, 8, 8, 8, 8];
        var e = new double[edge.Length];
        EcgPreprocessor.RepairNonFinite(edge, e);
        Assert.Equal((2 + 4 + 8 + 8 + 8) / 5.0, e[0], 12); // t = 0: t = 1..6, the NaN at 2 excluded
        Assert.Equal((2 + 4 + 8 * 5) / 7.0, e[2], 12); // t = 2: t = 0..8 finite, Inf excluded

        double[] allBad = [double.NaN, double.NaN];
        var z = new double[2];
        EcgPreprocessor.RepairNonFinite(allBad, z);
        Assert.Equal([0.0, 0.0], z);
    }

    [Fact]
    public void MissingSamplesInARecordAreRepairedBeforeNormalisation()
    {
        var rec = Synthetic((c, t) => t == 100 && c == 2 ? double.NaN : 1.0);
        var y = new EcgPreprocessor(new PreprocessConfig { Normalization = Normalization.None }).Process(rec);
        Assert.Equal(1f, y[2 * 5000 + 100], 6);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        var strict = new EcgPreprocessor(new PreprocessConfig { RepairNonFinite = false });
        Assert.Throws<InputFormatException>(() => strict.Process(rec));
    }

    [Fact]
    public void CpscKeepsTheFirst2500SamplesAndZeroPadsTo5000()
    {
        var rec = Synthetic((c, t) => 0.001 * t + c, samples: 7000);
        var y = new EcgPreprocessor(PreprocessConfig.Cpsc2018).Process(rec);
        Assert.Equal(12 * 5000, y.Length);
        for (int l = 0; l < 12; l++)
        {
            Assert.All(y.AsSpan(l * 5000 + 2500, 2500).ToArray(), v => Assert.Equal(0f, v));
            Assert.True(y[l * 5000 + 2499] > 0);
        }
        // Normalised over the 2500 kept samples only: lead aVF (stored 5, model 4) at t = 2499 is the maximum.
        Assert.Equal(1f, y[11 * 5000 + 2499], 5);

        // With the padding in the statistics, a record of 1–2 mV maps its zero padding to 0 and its minimum above 0.
        var positive = Synthetic((c, t) => 1 + 0.0002 * t, samples: 5000);
        var padded = new EcgPreprocessor(PreprocessConfig.Cpsc2018 with { NormalizeAfterPadding = true }).Process(positive);
        Assert.Equal(0f, padded[3000], 6);
        Assert.Equal(1 / 1.4999f, padded[0], 3);
        Assert.Equal(1f, padded[2499], 4);

        var shortRec = Synthetic((c, t) => 1 + c, samples: 1500);
        var s = new EcgPreprocessor(PreprocessConfig.Cpsc2018 with { Normalization = Normalization.None }).Process(shortRec);
        Assert.Equal(1f, s[1499]);
        Assert.Equal(0f, s[1500]);
    }

    [Fact]
    public void CropStartSelectsTheWindow()
    {
        var rec = Synthetic((c, t) => t / 1000.0, samples: 6000);
        var y = new EcgPreprocessor(new PreprocessConfig { CropStart = 1000, Normalization = Normalization.None }).Process(rec);
        Assert.Equal(1.0f, y[0], 6);
        Assert.Equal(5.999f, y[4999], 6);
        Assert.Throws<InputFormatException>(() => new EcgPreprocessor(new PreprocessConfig { CropStart = 6000 }).Process(rec));
    }

    [Fact]
    public void ResamplesOtherRatesTo500Hz()
    {
        var rec = Synthetic((c, t) => Math.Sin(2 * Math.PI * 1.0 * t / 100.0), samples: 1000, rate: 100);
        var y = new EcgPreprocessor(new PreprocessConfig { Normalization = Normalization.None }).Process(rec);
        for (int t = 200; t < 4800; t += 37)
            Assert.True(Math.Abs(y[t] - Math.Sin(2 * Math.PI * t / 500.0)) < 0.01, $"t={t}: {y[t]}");
    }

    [Fact]
    public void InvalidConfigIsRejected()
    {
        Assert.Throws<InputValueException>(() => new EcgPreprocessor(new PreprocessConfig { CropLength = 6000 }));
        Assert.Throws<InputValueException>(() => new EcgPreprocessor(new PreprocessConfig { TargetRate = 0 }));
        Assert.Throws<InputValueException>(() => new EcgPreprocessor(new PreprocessConfig { RepairRadius = 0 }));
    }
}
