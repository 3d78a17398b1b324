namespace Deri.Synthetic;

/// <summary>
/// A small, fast, portable pseudo-random generator (xoshiro256**, seeded through SplitMix64) so that a
/// record depends only on (seed, index) and never on the runtime's <see cref="Random"/> implementation
/// or on which thread generated it.
/// </summary>
public sealed class SyntheticRandom
{
    private ulong _s0, _s1, _s2, _s3;

    // 4096 standard-normal quantiles for the fast noise path: EMG noise needs ~50k draws a record and the
    // exact tail shape does not matter there, a table lookup is ~10x cheaper than Box–Muller.
    private static readonly float[] NormalTable = BuildNormalTable();

    /// <summary>Creates the generator for one record of a data set.</summary>
    /// <param name="seed">Data-set seed.</param>
    /// <param name="index">Record index; records with different indices get independent streams.</param>
    public SyntheticRandom(long seed, long index)
    {
        ulong x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xD1B54A32D192ED03UL ^ 0x5DEECE66DUL);
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = unchecked(x += 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = unchecked(RotL(_s1 * 5, 7) * 9);
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotL(_s3, 45);
        return result;
    }

    private static ulong RotL(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [<paramref name="lo"/>, <paramref name="hiExclusive"/>).</summary>
    public int Int(int lo, int hiExclusive) => lo + (int)(NextDouble() * (hiExclusive - lo));

    /// <summary>True with probability <paramref name="p"/>.</summary>
    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal draw (Box–Muller), for per-record parameters.</summary>
    public double Normal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Normal draw with the given mean and standard deviation.</summary>
    public double Normal(double mean, double sd) => mean + sd * Normal();

    /// <summary>One element of <paramref name="items"/>, uniformly.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Int(0, items.Count)];

    /// <summary>Fills <paramref name="dest"/> with approximately standard-normal values (table lookup, 12 bits each).</summary>
    public void FillNormalFast(Span<float> dest)
    {
        int i = 0;
        while (i < dest.Length)
        {
            ulong bits = NextUInt64();
            for (int k = 0; k < 5 && i < dest.Length; k++, i++)
            {
                dest[i] = NormalTable[(int)(bits & 4095)];
                bits >>= 12;
            }
        }
    }

    private static float[] BuildNormalTable()
    {
        // Inverse normal CDF at the midpoints of 4096 equal-probability bins: an exact discretised N(0,1).
        var t = new float[4096];
        for (int i = 0; i < t.Length; i++) t[i] = (float)InverseNormalCdf((i + 0.5) / t.Length);
        return t;
    }

    /// <summary>Acklam's rational approximation of the inverse standard normal CDF (relative error &lt; 1.2e-9).</summary>
    internal static double InverseNormalCdf(double p)
    {
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double pLow = 0.02425;
        if (p < pLow)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - pLow)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        double r = p - 0.5, s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }
}
