using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Runtime;

/// <summary>TorchSharp loads on this machine and computes exactly what hand calculation says.</summary>
public class TorchSharpTests
{
    [Fact]
    public void Conv1dForwardMatchesHandComputedValues()
    {
        using var scope = NewDisposeScope();
        // x: (1, 1, 5), w: (1, 1, 3), b: (1) — small integers so float32 is exact.
        var x = tensor(new float[] { 1, 2, 3, 4, 5 }).reshape(1, 1, 5);
        var w = tensor(new float[] { 1, 0, -1 }).reshape(1, 1, 3);
        var b = tensor(new float[] { 0.5f });
        var y = nn.functional.conv1d(x, w, b, padding: 1);
        // y[i] = x[i-1] - x[i+1] + 0.5 with zero padding.
        Assert.Equal(new float[] { -1.5f, -1.5f, -1.5f, -1.5f, 4.5f }, y.data<float>().ToArray());
    }

    [Fact]
    public void BackwardGivesAnalyticGradient()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, -2, 3 }, requires_grad: true);
        // L = sum(x^3) / 3  =>  dL/dx = x^2
        var loss = x.pow(3).sum() / 3;
        loss.backward();
        Assert.Equal(new float[] { 1, 4, 9 }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void AdamWStepMatchesTheUpdateRule()
    {
        using var scope = NewDisposeScope();
        var p = nn.Parameter(tensor(new float[] { 1.0f, -2.0f }));
        var opt = optim.AdamW([p], lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01);
        opt.zero_grad();
        (p * tensor(new float[] { 3.0f, -4.0f })).sum().backward();
        opt.step();
        // First step: m̂ = g, v̂ = g², update = lr·g/(|g|+eps); decoupled decay p·(1 − lr·wd).
        double[] g = [3.0, -4.0], p0 = [1.0, -2.0];
        var got = p.data<float>().ToArray();
        for (int i = 0; i < 2; i++)
        {
            double expected = p0[i] * (1 - 0.1 * 0.01) - 0.1 * g[i] / (Math.Sqrt(g[i] * g[i]) + 1e-8);
            Assert.Equal(expected, got[i], 6);
        }
    }

    [Fact]
    public void MatmulAgreesWithDoubleLoop()
    {
        using var scope = NewDisposeScope();
        var gen = new Random(1);
        float[] a = Enumerable.Range(0, 64 * 32).Select(_ => (float)gen.NextDouble()).ToArray();
        float[] b = Enumerable.Range(0, 32 * 16).Select(_ => (float)gen.NextDouble()).ToArray();
        var c = matmul(tensor(a).reshape(64, 32), tensor(b).reshape(32, 16)).data<float>().ToArray();
        for (int i = 0; i < 64; i += 7)
            for (int j = 0; j < 16; j += 3)
            {
                double s = 0;
                for (int k = 0; k < 32; k++) s += (double)a[i * 32 + k] * b[k * 16 + j];
                Assert.True(Math.Abs(s - c[i * 16 + j]) <= 1e-5 * Math.Abs(s), $"c[{i},{j}] = {c[i * 16 + j]}, expected {s}");
            }
    }
}
