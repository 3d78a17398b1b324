using System.Globalization;
using System.Text.Json.Nodes;
using Deri.Training;

namespace Deri.Tests.Training;

/// <summary>The learning-rate schedule against PyTorch, and the epoch order.</summary>
public sealed class ScheduleTests
{
    /// <summary>Parses Python's float.hex() output, e.g. 0x1.0624dd2f1a9fcp-10.</summary>
    private static double FromPythonHex(string hex)
    {
        bool negative = hex.StartsWith('-');
        if (negative) hex = hex[1..];
        if (hex == "0x0.0p+0") return negative ? -0.0 : 0.0;
        int p = hex.IndexOf('p');
        string mantissa = hex[2..p];
        int exponent = int.Parse(hex[(p + 1)..], CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.');
        string intPart = dot < 0 ? mantissa : mantissa[..dot];
        string frac = dot < 0 ? "" : mantissa[(dot + 1)..];
        ulong bits = Convert.ToUInt64(intPart + frac, 16);
        double value = Math.ScaleB(bits, exponent - 4 * frac.Length);
        return negative ? -value : value;
    }

    [Fact]
    public void CosineWarmRestartsMatchesPyTorchBitwise()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "Training", "cosine_warm_restarts.json");
        var cases = JsonNode.Parse(File.ReadAllText(path))!["cases"]!.AsArray();
        Assert.Equal(4, cases.Count);
        foreach (var c in cases)
        {
            var s = new CosineWarmRestarts(c!["lr"]!.GetValue<double>(), c["t_0"]!.GetValue<int>(), c["t_mult"]!.GetValue<int>(),
                c["eta_min"]!.GetValue<double>());
            var lrs = c["lrs"]!.AsArray();
            for (int i = 0; i < lrs.Count; i++)
            {
                double expected = FromPythonHex(lrs[i]!.GetValue<string>());
                Assert.True(expected == s.LearningRate, $"case T_0={s.T0} T_mult={s.TMult}: step {i}: PyTorch {expected:R}, ours {s.LearningRate:R}");
                s.Step();
            }
        }
    }

    [Fact]
    public void ScheduleStateRestoresMidCycle()
    {
        var a = new CosineWarmRestarts(1e-3, 5, 2, 1e-8);
        for (int i = 0; i < 12; i++) a.Step();
        var b = new CosineWarmRestarts(1e-3, 5, 2, 1e-8);
        b.Restore(a.State);
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(a.LearningRate, b.LearningRate);
            a.Step();
            b.Step();
        }
        Assert.Throws<InputFormatException>(() => b.Restore((3, 7, 5)));
    }

    [Fact]
    public void EpochOrderIsASeededPermutationPerEpoch()
    {
        int[] e0 = EpochOrder.Permutation(1000, 42, 0);
        Assert.Equal(Enumerable.Range(0, 1000), e0.Order());
        Assert.Equal(e0, EpochOrder.Permutation(1000, 42, 0));
        Assert.NotEqual(e0, EpochOrder.Permutation(1000, 42, 1));
        Assert.NotEqual(e0, EpochOrder.Permutation(1000, 43, 0));
        Assert.NotEqual(Enumerable.Range(0, 1000), e0);
        // Pinned values: the order must never change between versions, or old checkpoints would resume on other data.
        Assert.Equal("0,2,1,8,6,9,4,3,5,7", string.Join(",", EpochOrder.Permutation(10, 1, 0)));
        Assert.Equal("5,4,6,8,0,9,7,3,1,2", string.Join(",", EpochOrder.Permutation(10, 1, 3)));
        Assert.Equal(3, EpochOrder.BatchCount(10, 3, dropLast: true));
        Assert.Equal(4, EpochOrder.BatchCount(10, 3, dropLast: false));
    }
}
