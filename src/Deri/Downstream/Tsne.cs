using Deri.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Downstream;

/// <summary>t-SNE settings (the defaults are van der Maaten's with scikit-learn's exaggeration schedule).</summary>
public sealed record TsneOptions
{
    /// <summary>Perplexity (effective neighbours) of the input affinities.</summary>
    public double Perplexity { get; init; } = 30;
    /// <summary>Dimensions kept by PCA before t-SNE (fewer when the input has fewer).</summary>
    public int PcaDimensions { get; init; } = 50;
    /// <summary>Gradient-descent iterations in all.</summary>
    public int Iterations { get; init; } = 1000;
    /// <summary>Iterations with exaggerated input affinities and momentum <see cref="InitialMomentum"/>.</summary>
    public int ExaggerationIterations { get; init; } = 250;
    /// <summary>Factor on the input affinities during the first iterations.</summary>
    public double Exaggeration { get; init; } = 12;
    /// <summary>Momentum during early exaggeration.</summary>
    public double InitialMomentum { get; init; } = 0.5;
    /// <summary>Momentum afterwards.</summary>
    public double FinalMomentum { get; init; } = 0.8;
    /// <summary>Learning rate.</summary>
    public double LearningRate { get; init; } = 200;
    /// <summary>Seed of the initial layout.</summary>
    public int Seed { get; init; }
    /// <summary>Largest input handled (the exact gradient costs N² per iteration and N² doubles of memory).</summary>
    public int MaxPoints { get; init; } = 5000;

    /// <summary>Throws on unusable settings.</summary>
    public void Validate()
    {
        if (!(Perplexity > 0)) throw new InputValueException($"perplexity must be positive, got {Perplexity}");
        if (PcaDimensions <= 0) throw new InputValueException($"PCA dimensions must be positive, got {PcaDimensions}");
        if (Iterations <= 0 || ExaggerationIterations < 0 || ExaggerationIterations > Iterations)
            throw new InputValueException($"need 0 <= exaggeration iterations ({ExaggerationIterations}) <= iterations ({Iterations}), iterations > 0");
        if (!(LearningRate > 0)) throw new InputValueException($"learning rate must be positive, got {LearningRate}");
    }
}

/// <summary>
/// Exact t-SNE (van der Maaten and Hinton, 2008) in two dimensions: PCA, Gaussian input affinities whose
/// bandwidths are found by binary search on the perplexity, symmetrised; Student-t output affinities; gradient
/// descent with momentum, per-parameter gains and early exaggeration. The exact O(N²) gradient is used, computed
/// row-parallel; sums are reduced in a fixed order, so the result depends only on the input and the seed.
/// </summary>
public static class Tsne
{
    /// <summary>Embeds the rows of <paramref name="x"/> (N × D) in 2-D; returns N × 2.</summary>
    /// <exception cref="ArgumentException">Fewer than 4 points, more than <see cref="TsneOptions.MaxPoints"/>, rows of different widths, non-finite values, or a perplexity too large for N.</exception>
    public static double[,] Embed(IReadOnlyList<double[]> x, TsneOptions? options = null)
    {
        var o = options ?? new TsneOptions();
        o.Validate();
        int n = x.Count;
        if (n < 4) throw new InputValueException($"t-SNE needs at least 4 points, got {n}");
        if (n > o.MaxPoints) throw new InputValueException($"{n} points: exact t-SNE is limited to {o.MaxPoints} (sample fewer records)");
        if (o.Perplexity >= n - 1) throw new InputValueException($"perplexity {o.Perplexity} must be below the number of points minus one ({n - 1})");
        int d = x[0].Length;
        foreach (var row in x)
        {
            if (row.Length != d) throw new ArgumentException($"rows have different widths ({row.Length} and {d})");
            foreach (double v in row) if (!double.IsFinite(v)) throw new ArgumentException("input holds a non-finite value");
        }
        var reduced = Pca(x, Math.Min(o.PcaDimensions, d), out int k);
        var p = Affinities(reduced, n, k, o.Perplexity);
        return Optimise(p, n, o);
    }

    /// <summary>
    /// Centres the rows and projects them on the top <paramref name="dims"/> principal axes (eigenvectors of
    /// XᵀX, each signed so that its largest component is positive); returns N × k row-major with k ≤ dims.
    /// </summary>
    public static double[] Pca(IReadOnlyList<double[]> x, int dims, out int k)
    {
        int n = x.Count, d = x[0].Length;
        var flat = new double[(long)n * d];
        for (int i = 0; i < n; i++) x[i].CopyTo(flat, (long)i * d);
        var mean = new double[d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) mean[j] += flat[(long)i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) flat[(long)i * d + j] -= mean[j];
        k = Math.Min(dims, d);
        if (k == d) return flat;
        using var scope = NewDisposeScope();
        var xt = torch.tensor(flat, [n, d], ScalarType.Float64);                  // (N, D)
        var (_, vectors) = linalg.eigh(xt.t().matmul(xt));                        // ascending eigenvalues; vectors (D, D)
        var top = vectors.narrow(1, d - k, k).flip(1);                              // (D, k), largest first
        var sign = top.gather(0, top.abs().argmax(0, keepdim: true)).sign();       // (1, k)
        top = top * torch.where(sign.eq(Scalars.Zero), torch.ones_like(sign), sign);
        return xt.matmul(top).contiguous().data<double>().ToArray();               // (N, k)
    }

    /// <summary>
    /// Symmetric input affinities P (N × N, row-major, summing to 1, floored at 1e-12): for each point a Gaussian
    /// bandwidth whose conditional distribution has the given perplexity (binary search on β = 1/2σ², tolerance 1e-5
    /// in entropy, at most 50 steps), then P = (P + Pᵀ) / 2N.
    /// </summary>
    public static double[] Affinities(double[] y, int n, int dim, double perplexity)
    {
        // One N × N array: squared distances, overwritten row by row by the conditionals, then symmetrised in place.
        var p = SquaredDistances(y, n, dim);
        double logU = Math.Log(perplexity);
        Parallel.For(0, n, () => new double[n], (i, _, row) =>
        {
            var di = p.AsSpan((int)((long)i * n), n);
            double beta = 1, lo = double.NegativeInfinity, hi = double.PositiveInfinity;
            for (int iter = 0; iter < 50; iter++)
            {
                double diff = Conditional(di, i, beta, row) - logU;
                if (Math.Abs(diff) < 1e-5) break;
                if (diff > 0)
                {
                    lo = beta;
                    beta = double.IsPositiveInfinity(hi) ? beta * 2 : (beta + hi) / 2;
                }
                else
                {
                    hi = beta;
                    beta = double.IsNegativeInfinity(lo) ? beta / 2 : (beta + lo) / 2;
                }
            }
            row.CopyTo(di);
            return row;
        }, _ => { });
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            p[(long)i * n + i] = 0;
            for (int j = i + 1; j < n; j++)
            {
                double v = p[(long)i * n + j] + p[(long)j * n + i];
                p[(long)i * n + j] = v;
                p[(long)j * n + i] = v;
                total += 2 * v;
            }
        }
        for (long i = 0; i < p.LongLength; i++) p[i] = Math.Max(p[i] / total, 1e-12);
        return p;
    }

    // Fills row with the conditional distribution p_{j|i} for precision beta (p_{i|i} = 0) and returns its entropy (nats).
    // Distances are shifted by the smallest one so that the exponentials never all underflow.
    private static double Conditional(ReadOnlySpan<double> d, int i, double beta, Span<double> row)
    {
        double min = double.PositiveInfinity;
        for (int j = 0; j < d.Length; j++) if (j != i && d[j] < min) min = d[j];
        double sum = 0, weighted = 0;
        for (int j = 0; j < d.Length; j++)
        {
            if (j == i) { row[j] = 0; continue; }
            double e = Math.Exp(-(d[j] - min) * beta);
            row[j] = e;
            sum += e;
            weighted += (d[j] - min) * e;
        }
        for (int j = 0; j < d.Length; j++) row[j] /= sum;
        return Math.Log(sum) + beta * weighted / sum;
    }

    private static double[] SquaredDistances(double[] y, int n, int dim)
    {
        var dist = new double[(long)n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int c = 0; c < dim; c++)
                {
                    double t = y[(long)i * dim + c] - y[(long)j * dim + c];
                    s += t * t;
                }
                dist[(long)i * n + j] = s;
            }
        });
        return dist;
    }

    // Gradient descent on KL(P || Q) in 2-D; returns N × 2.
    private static double[,] Optimise(double[] p, int n, TsneOptions o)
    {
        var rng = new Random(o.Seed);
        var y = new double[n * 2];
        for (int i = 0; i < y.Length; i++) y[i] = 1e-2 * Gaussian(rng);   // N(0, 1e-4)
        var update = new double[n * 2];
        var gains = new double[n * 2];
        Array.Fill(gains, 1.0);
        var grad = new double[n * 2];
        var rowZ = new double[n];
        var attract = new double[n * 2];
        var repulse = new double[n * 2];
        for (int iter = 0; iter < o.Iterations; iter++)
        {
            bool early = iter < o.ExaggerationIterations;
            double exaggeration = early ? o.Exaggeration : 1;
            double momentum = early ? o.InitialMomentum : o.FinalMomentum;

            // One pass over the pairs: with w_ij = (1 + |y_i − y_j|²)⁻¹ and Z = Σ_{i≠j} w_ij (reduced row by row in a
            // fixed order), dC/dy_i = 4 Σ_j (exaggeration·p_ij − w_ij / Z) w_ij (y_i − y_j)
            //                       = 4 (Σ_j exaggeration·p_ij w_ij (y_i − y_j) − (1/Z) Σ_j w_ij² (y_i − y_j)).
            Parallel.For(0, n, i =>
            {
                double yi0 = y[2 * i], yi1 = y[2 * i + 1], s = 0, a0 = 0, a1 = 0, b0 = 0, b1 = 0;
                long off = (long)i * n;
                for (int j = 0; j < n; j++)
                {
                    if (j == i) continue;
                    double dx = yi0 - y[2 * j], dy = yi1 - y[2 * j + 1];
                    double w = 1 / (1 + dx * dx + dy * dy);
                    s += w;
                    double pw = exaggeration * p[off + j] * w, ww = w * w;
                    a0 += pw * dx; a1 += pw * dy;
                    b0 += ww * dx; b1 += ww * dy;
                }
                rowZ[i] = s;
                attract[2 * i] = a0; attract[2 * i + 1] = a1;
                repulse[2 * i] = b0; repulse[2 * i + 1] = b1;
            });
            double z = 0;
            for (int i = 0; i < n; i++) z += rowZ[i];
            for (int t = 0; t < grad.Length; t++) grad[t] = 4 * (attract[t] - repulse[t] / z);

            for (int t = 0; t < y.Length; t++)
            {
                // Delta-bar-delta gains: grow when the gradient keeps pushing against the last update's direction.
                gains[t] = (grad[t] > 0) != (update[t] > 0) ? gains[t] + 0.2 : gains[t] * 0.8;
                if (gains[t] < 0.01) gains[t] = 0.01;
                update[t] = momentum * update[t] - o.LearningRate * gains[t] * grad[t];
                y[t] += update[t];
            }
            double m0 = 0, m1 = 0;
            for (int i = 0; i < n; i++) { m0 += y[2 * i]; m1 += y[2 * i + 1]; }
            m0 /= n; m1 /= n;
            for (int i = 0; i < n; i++) { y[2 * i] -= m0; y[2 * i + 1] -= m1; }
        }
        var result = new double[n, 2];
        for (int i = 0; i < n; i++) { result[i, 0] = y[2 * i]; result[i, 1] = y[2 * i + 1]; }
        return result;
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
