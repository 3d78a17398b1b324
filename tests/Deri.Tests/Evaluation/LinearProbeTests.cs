using Deri.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Evaluation;

public class LinearProbeTests
{
    private static readonly string[] Names = ["A", "B", "C"];

    // Features (n, 8) = labels·W + noise, with labels of three classes of different prevalence.
    private static ProbeSplit Synthetic(int n, int seed)
    {
        var rng = new Random(seed);
        var y = new int[n, 3];
        var x = new float[n * 8];
        double[] prevalence = [0.5, 0.3, 0.2];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < 3; c++) y[i, c] = rng.NextDouble() < prevalence[c] ? 1 : 0;
            for (int k = 0; k < 8; k++)
            {
                double v = 0.5 * (rng.NextDouble() - 0.5);
                if (k < 3) v += 1.5 * y[i, k];
                if (k == 3) v += y[i, 0] - y[i, 1];
                x[i * 8 + k] = (float)v;
            }
        }
        return new ProbeSplit(tensor(x, [n, 8]), y);
    }

    [Fact]
    public void SeparableFeaturesReachHighTestAucWithTheDefaultRecipe()
    {
        var (train, val, test) = (Synthetic(320, 1), Synthetic(120, 2), Synthetic(120, 3));
        var r = LinearProbe.Run(train, val, test, Names, 100);
        Assert.True(r.TestMacroAuc > 95, $"test macro AUC {r.TestMacroAuc}");
        Assert.Equal(320, r.TrainSamples);
        Assert.Equal(100, r.ValidationAucByEpoch.Count);
        Assert.Equal(r.ValidationAucByEpoch.Max(), r.ValidationMacroAuc);
        Assert.Equal(r.ValidationMacroAuc, r.ValidationAucByEpoch[r.BestEpoch - 1]);
        Assert.Equal(3, r.Test.Classes.Count);
        // The caller's cached features are untouched and still usable.
        Assert.Equal(320, train.Features.shape[0]);
        Assert.False(train.Features.IsInvalid);
    }

    [Fact]
    public void ProbingIsDeterministicForASeedAndUsesTheSeededSubset()
    {
        var (train, val, test) = (Synthetic(400, 4), Synthetic(80, 5), Synthetic(80, 6));
        var o = new LinearProbeOptions { Epochs = 8, WarmupEpochs = 2, Seed = 7 };
        var a = LinearProbe.Run(train, val, test, Names, 10, o);
        var b = LinearProbe.Run(train, val, test, Names, 10, o);
        Assert.Equal(40, a.TrainSamples);
        Assert.Equal(a.ValidationAucByEpoch, b.ValidationAucByEpoch);
        Assert.Equal(a.TestMacroAuc, b.TestMacroAuc);
        Assert.Equal(a.BestEpoch, b.BestEpoch);
        var c = LinearProbe.Run(train, val, test, Names, 10, o with { Seed = 8 });
        Assert.NotEqual(a.ValidationAucByEpoch, c.ValidationAucByEpoch);
    }

    [Fact]
    public void RatiosUseSubsetsOfOnePercentTenPercentAndAll()
    {
        var (train, val, test) = (Synthetic(400, 7), Synthetic(60, 8), Synthetic(60, 9));
        var rs = LinearProbe.RunRatios(train, val, test, Names, options: new LinearProbeOptions { Epochs = 3, WarmupEpochs = 1 });
        Assert.Equal([1.0, 10.0, 100.0], rs.Select(r => r.RatioPercent));
        Assert.Equal([4, 40, 400], rs.Select(r => r.TrainSamples));
        var table = ResultTable.ForLinearProbe([("synthetic", rs)]);
        Assert.Equal(["1%", "10%", "100%"], table.Columns);
        Assert.Equal(rs[2].TestMacroAuc, table.Rows[0].Values[2]);
    }

    [Fact]
    public void ScheduleWarmsUpLinearlyThenAnnealsByCosine()
    {
        // 10 steps per epoch, 100 epochs, 5 warm-up epochs: 50 warm-up steps out of 1000.
        Assert.Equal(0.01 / 50, LinearProbe.LearningRateAt(0, 1000, 50, 0.01), 1e-15);
        Assert.Equal(0.01 * 25 / 50, LinearProbe.LearningRateAt(24, 1000, 50, 0.01), 1e-15);
        Assert.Equal(0.01, LinearProbe.LearningRateAt(49, 1000, 50, 0.01), 1e-15);
        Assert.Equal(0.01, LinearProbe.LearningRateAt(50, 1000, 50, 0.01), 1e-15);
        Assert.Equal(0.005, LinearProbe.LearningRateAt(525, 1000, 50, 0.01), 1e-15);
        Assert.True(LinearProbe.LearningRateAt(999, 1000, 50, 0.01) < 1e-6);
    }

    [Fact]
    public void MismatchedSplitsAreRejected()
    {
        var train = Synthetic(50, 1);
        var bad = new ProbeSplit(train.Features, new int[49, 3]);
        Assert.Contains("50 feature rows but 49 label rows",
            Assert.Throws<ArgumentException>(() => LinearProbe.Run(bad, train, train, Names, 100)).Message);
        Assert.Contains("2 label columns for 3 classes",
            Assert.Throws<ArgumentException>(() => LinearProbe.Run(new ProbeSplit(train.Features, new int[50, 2]), train, train, Names, 100)).Message);
    }
}

public class LinearProbeLayerTests
{
    [Fact]
    public void StepsEqualPyTorchLinearBceWithLogitsAndAdamW()
    {
        using var doc = MetricFixtures.Json("probe_steps.json");
        var r = doc.RootElement;
        var x = MetricFixtures.Matrix(r.GetProperty("x"));
        var y = MetricFixtures.IntMatrix(r.GetProperty("y"));
        int n = x.GetLength(0), d = x.GetLength(1), c = y.GetLength(1);
        var xf = new double[n * d];
        var yf = new double[n * c];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < d; k++) xf[i * d + k] = x[i, k];
            for (int j = 0; j < c; j++) yf[i * c + j] = y[i, j];
        }
        static double[] Vec(System.Text.Json.JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var layer = new LinearProbeLayer(Vec(r.GetProperty("weight0")), Vec(r.GetProperty("bias0")));
        var lrs = Vec(r.GetProperty("lrs"));
        int s = 0;
        foreach (var batch in r.GetProperty("batches").EnumerateArray())
            layer.Step(xf, yf, batch.EnumerateArray().Select(v => v.GetInt32()).ToArray(), lrs[s++], r.GetProperty("weight_decay").GetDouble());
        Assert.Equal(30, s);
        var w = Vec(r.GetProperty("weight"));
        var b = Vec(r.GetProperty("bias"));
        for (int i = 0; i < w.Length; i++) Assert.Equal(w[i], layer.Weight[i], 1e-9);
        for (int i = 0; i < b.Length; i++) Assert.Equal(b[i], layer.Bias[i], 1e-9);
        var logits = MetricFixtures.Matrix(r.GetProperty("logits"));
        var z = layer.Predict(xf);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++) Assert.Equal(logits[i, j], z[i, j], 1e-9);
    }
}
