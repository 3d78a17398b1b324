namespace Deri.Generation.NlgMetrics;

/// <summary>Correctly rounded sum of doubles, the algorithm of CPython's <c>math.fsum</c> (Shewchuk partials, half-even fix-up).</summary>
public static class ExactSum
{
    /// <summary>The sum of <paramref name="values"/> rounded once, bit-identical to <c>math.fsum</c> for finite inputs.</summary>
    public static double Fsum(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var partials = new List<double>();
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) throw new ArgumentException($"fsum of a non-finite value ({v})", nameof(values));
            double x = v;
            int i = 0;
            for (int j = 0; j < partials.Count; j++)
            {
                double y = partials[j];
                if (Math.Abs(x) < Math.Abs(y)) (x, y) = (y, x);
                double hi = x + y;
                double lo = y - (hi - x);
                if (lo != 0.0) partials[i++] = lo;
                x = hi;
            }
            partials.RemoveRange(i, partials.Count - i);
            partials.Add(x);
        }

        int n = partials.Count;
        double sum = 0.0;
        if (n > 0)
        {
            sum = partials[--n];
            double lo = 0.0;
            while (n > 0)
            {
                double x = sum;
                double y = partials[--n];
                sum = x + y;
                double yr = sum - x;
                lo = y - yr;
                if (lo != 0.0) break;
            }
            // Round half to even across the remaining partials, as CPython does.
            if (n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)))
            {
                double y = lo * 2.0;
                double x = sum + y;
                double yr = x - sum;
                if (y == yr) sum = x;
            }
        }
        return sum;
    }
}
