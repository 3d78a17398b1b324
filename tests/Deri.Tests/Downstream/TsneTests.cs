using Deri.Downstream;

namespace Deri.Tests.Downstream;

public class TsneTests
{
    // Two Gaussian blobs in 20 dimensions, unit spread, centres 10 apart; labels 0 and 1, interleaved.
    private static (List<double[]> X, int[] Y) Blobs(int perBlob, int seed)
    {
        var rng = new Random(seed);
        var x = new List<double[]>();
        var y = new List<int>();
        for (int i = 0; i < 2 * perBlob; i++)
        {
            int c = i % 2;
            var v = new double[20];
            for (int j = 0; j < v.Length; j++)
            {
                double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                v[j] = g + (c == 1 && j < 4 ? 5 : 0);
            }
            x.Add(v);
            y.Add(c);
        }
        return (x, y.ToArray());
    }

    private static double NearestNeighbourAgreement(double[,] e, int[] y)
    {
        int n = y.Length, same = 0;
        for (int i = 0; i < n; i++)
        {
            int best = -1;
            double bestD = double.PositiveInfinity;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double a = e[i, 0] - e[j, 0], b = e[i, 1] - e[j, 1], d = a * a + b * b;
                if (d < bestD) { bestD = d; best = j; }
            }
            if (y[best] == y[i]) same++;
        }
        return (double)same / n;
    }

    [Fact]
    public void SeparatesTwoGaussianBlobs()
    {
        var (x, y) = Blobs(100, 3);
        var e = Tsne.Embed(x, new TsneOptions { Perplexity = 20, Seed = 1 });
        Assert.True(NearestNeighbourAgreement(e, y) > 0.95, $"1-NN agreement {NearestNeighbourAgreement(e, y)}");
        // The blobs end up apart: the centroids are further from each other than the average spread of a blob.
        double[] Centroid(int c) => [Enumerable.Range(0, y.Length).Where(i => y[i] == c).Average(i => e[i, 0]),
                                     Enumerable.Range(0, y.Length).Where(i => y[i] == c).Average(i => e[i, 1])];
        var (c0, c1) = (Centroid(0), Centroid(1));
        double between = Math.Sqrt(Math.Pow(c0[0] - c1[0], 2) + Math.Pow(c0[1] - c1[1], 2));
        double spread = Enumerable.Range(0, y.Length).Average(i =>
        {
            var c = y[i] == 0 ? c0 : c1;
            return Math.Sqrt(Math.Pow(e[i, 0] - c[0], 2) + Math.Pow(e[i, 1] - c[1], 2));
        });
        Assert.True(between > 2 * spread, $"centroids {between:F2} apart, spread {spread:F2}");
    }

    [Fact]
    public void IsDeterministicForASeed()
    {
        var (x, _) = Blobs(30, 5);
        var o = new TsneOptions { Perplexity = 10, Iterations = 300, Seed = 7 };
        var a = Tsne.Embed(x, o);
        var b = Tsne.Embed(x, o);
        Assert.Equal(a.Cast<double>().ToArray(), b.Cast<double>().ToArray());
        var c = Tsne.Embed(x, o with { Seed = 8 });
        Assert.NotEqual(a.Cast<double>().ToArray(), c.Cast<double>().ToArray());
    }

    [Fact]
    public void AffinitiesMatchThePerplexity()
    {
        // Each conditional row has entropy log(perplexity); the symmetric P sums to 1 and is symmetric.
        var (x, _) = Blobs(25, 9);
        int n = x.Count;
        var flat = x.SelectMany(v => v).ToArray();
        var p = Tsne.Affinities(flat, n, 20, 8);
        Assert.Equal(1.0, p.Sum(), 6);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) Assert.Equal(p[i * n + j], p[j * n + i], 15);
        // Row sums of the symmetric P are (1/n)(1 + Σ_j p_{i|j})/2 on average; each row is positive.
        for (int i = 0; i < n; i++) Assert.True(Enumerable.Range(0, n).Sum(j => p[i * n + j]) > 0.1 / n);
    }

    [Fact]
    public void PcaKeepsTheLargestVarianceDirections()
    {
        // Points on a line along (1, 1, 0) plus tiny noise in z: the first component carries all the spread.
        var rng = new Random(2);
        var x = Enumerable.Range(0, 50).Select(i => new[] { i * 1.0, i * 1.0, 1e-3 * rng.NextDouble() }).ToList();
        var y = Tsne.Pca(x, 2, out int k);
        Assert.Equal(2, k);
        double var0 = Enumerable.Range(0, 50).Select(i => y[2 * i] * y[2 * i]).Average();
        double var1 = Enumerable.Range(0, 50).Select(i => y[2 * i + 1] * y[2 * i + 1]).Average();
        Assert.True(var0 > 1e6 * var1);
        Assert.Equal(Math.Sqrt(2) * (0 - 24.5), y[0], 3);   // centred, projected on (1, 1)/√2 with a positive largest component
    }

    [Fact]
    public void RejectsBadInput()
    {
        Assert.Throws<InputValueException>(() => Tsne.Embed([[1.0], [2.0]]));
        var (x, _) = Blobs(5, 1);
        Assert.Contains("perplexity", Assert.Throws<InputValueException>(() => Tsne.Embed(x, new TsneOptions { Perplexity = 30 })).Message);
        x[3] = [.. x[3].Take(5)];
        Assert.Contains("widths", Assert.Throws<ArgumentException>(() => Tsne.Embed(x, new TsneOptions { Perplexity = 3 })).Message);
    }
}
