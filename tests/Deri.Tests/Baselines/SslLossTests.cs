using Deri.Baselines;
using static TorchSharp.torch;

namespace Deri.Tests.Baselines;

/// <summary>Each baseline's objective on small inputs against the formula written out in plain double arithmetic.</summary>
public class SslLossTests
{
    private static readonly double[,] A = { { 1.0, 2.0, -0.5 }, { 0.3, -1.2, 0.8 }, { -0.7, 0.4, 1.5 } };
    private static readonly double[,] B = { { 0.9, 1.7, -0.2 }, { -0.4, -1.0, 1.1 }, { -0.2, 0.9, 1.3 } };

    private static Tensor T(double[,] m) => tensor(m, ScalarType.Float64);

    private static double[] Row(double[,] m, int i) => Enumerable.Range(0, m.GetLength(1)).Select(j => m[i, j]).ToArray();

    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

    private static double Cos(double[] a, double[] b) => Dot(a, b) / Math.Sqrt(Dot(a, a) * Dot(b, b));

    private static double Value(Tensor t) => t.to_type(ScalarType.Float64).item<double>();

    [Fact]
    public void NtXentIsTheCrossEntropyOfEachViewAgainstItsPairOverTheOther2BMinus2()
    {
        const double tau = 0.5;
        int n = A.GetLength(0);
        var u = Enumerable.Range(0, n).Select(i => Row(A, i)).Concat(Enumerable.Range(0, n).Select(i => Row(B, i))).ToArray();
        double total = 0;
        for (int i = 0; i < 2 * n; i++)
        {
            int pos = (i + n) % (2 * n);
            double denominator = 0;
            for (int j = 0; j < 2 * n; j++)
                if (j != i) denominator += Math.Exp(Cos(u[i], u[j]) / tau);
            total += -Math.Log(Math.Exp(Cos(u[i], u[pos]) / tau) / denominator);
        }
        Assert.Equal(total / (2 * n), Value(SimClr.NtXent(T(A), T(B), tau)), 10);
    }

    [Fact]
    public void ByolRegressionLossIsTwoMinusTwoCosineAndStopsTheTargetGradient()
    {
        int n = A.GetLength(0);
        double expected = Enumerable.Range(0, n).Select(i => 2 - 2 * Cos(Row(A, i), Row(B, i))).Average();
        var p = T(A).requires_grad_();
        var z = T(B).requires_grad_();
        var loss = Byol.RegressionLoss(p, z);
        Assert.Equal(expected, Value(loss), 10);
        // Equal to the normalised MSE of the paper.
        var mse = (nn.functional.normalize(T(A), dim: 1) - nn.functional.normalize(T(B), dim: 1)).pow(2).sum(1).mean();
        Assert.Equal(Value(mse), Value(loss), 10);
        loss.backward();
        Assert.NotNull(p.grad);
        Assert.Null(z.grad);
    }

    [Fact]
    public void BarlowTwinsSumsTheSquaredDeviationOfTheBatchCrossCorrelationFromIdentity()
    {
        int n = A.GetLength(0), d = A.GetLength(1);
        double[,] Standardise(double[,] m)
        {
            var r = new double[n, d];
            for (int j = 0; j < d; j++)
            {
                double mean = Enumerable.Range(0, n).Select(i => m[i, j]).Average();
                double variance = Enumerable.Range(0, n).Select(i => (m[i, j] - mean) * (m[i, j] - mean)).Average();
                for (int i = 0; i < n; i++) r[i, j] = (m[i, j] - mean) / Math.Sqrt(variance + 1e-5);
            }
            return r;
        }
        var (a, b) = (Standardise(A), Standardise(B));
        double on = 0, off = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double c = Enumerable.Range(0, n).Select(k => a[k, i] * b[k, j]).Sum() / n;
                if (i == j) on += (1 - c) * (1 - c);
                else off += c * c;
            }
        var (onT, offT) = BarlowTwins.CrossCorrelationSums(T(A), T(B));
        Assert.Equal(on, Value(onT), 9);
        Assert.Equal(off, Value(offT), 9);
        Assert.Equal(on + 5e-3 * off, Value(BarlowTwins.Loss(T(A), T(B), 5e-3)), 9);
        // Identical, decorrelated standardised columns give the identity: zero loss.
        var identity = tensor(new double[,] { { 1, 1 }, { 1, -1 }, { -1, 1 }, { -1, -1 } }, ScalarType.Float64);
        Assert.Equal(0, Value(BarlowTwins.Loss(identity, identity, 5e-3)), 4);
    }

    [Fact]
    public void MocoV3ContrastiveLossIsTwoTauTimesInfoNceWithTheDiagonalAsPositives()
    {
        const double tau = 0.2;
        int n = A.GetLength(0);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double denominator = Enumerable.Range(0, n).Sum(j => Math.Exp(Cos(Row(A, i), Row(B, j)) / tau));
            total += -Math.Log(Math.Exp(Cos(Row(A, i), Row(B, i)) / tau) / denominator);
        }
        var q = T(A).requires_grad_();
        var k = T(B).requires_grad_();
        var loss = MocoV3.ContrastiveLoss(q, k, tau);
        Assert.Equal(2 * tau * total / n, Value(loss), 10);
        loss.backward();
        Assert.NotNull(q.grad);
        Assert.Null(k.grad);
    }

    [Fact]
    public void SimSiamNegativeCosineIsMinusTheMeanCosineWithAStopGradient()
    {
        int n = A.GetLength(0);
        double expected = -Enumerable.Range(0, n).Select(i => Cos(Row(A, i), Row(B, i))).Average();
        var p = T(A).requires_grad_();
        var z = T(B).requires_grad_();
        var loss = SimSiam.NegativeCosine(p, z);
        Assert.Equal(expected, Value(loss), 10);
        loss.backward();
        Assert.NotNull(p.grad);
        Assert.Null(z.grad);
    }

    [Fact]
    public void TheMomentumRisesOnACosineFromItsBaseToOne()
    {
        Assert.Equal(0.99, SslHeads.CosineMomentum(0.99, 0, 100), 12);
        Assert.Equal(1 - 0.01 * (Math.Cos(Math.PI * 0.25) + 1) / 2, SslHeads.CosineMomentum(0.99, 25, 100), 12);
        Assert.Equal(0.995, SslHeads.CosineMomentum(0.99, 50, 100), 12);
        Assert.Equal(1.0, SslHeads.CosineMomentum(0.99, 100, 100), 12);
        Assert.Equal(0.99, SslHeads.CosineMomentum(0.99, 70, 0), 12);
    }
}
