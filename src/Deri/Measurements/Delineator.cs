namespace Deri.Measurements;

/// <summary>Fiducial points of a median beat as fractional sample positions, with the per-lead levels the axes need.</summary>
/// <param name="QrsOnset">QRS onset.</param>
/// <param name="QrsOffset">QRS offset.</param>
/// <param name="TEnd">T end; null when no T wave was found.</param>
/// <param name="POnset">P onset; null without a P wave.</param>
/// <param name="POffset">P offset; null without a P wave.</param>
/// <param name="Baseline">Per lead (all leads of the beat): the isoelectric level just before the QRS.</param>
/// <param name="PBaseline">Per lead: the mean of the levels at P onset and offset; null without a P wave.</param>
/// <param name="Notes">What could not be found.</param>
internal sealed record Delineation(double QrsOnset, double QrsOffset, double? TEnd, double? POnset, double? POffset,
    double[] Baseline, double[]? PBaseline, IReadOnlyList<string> Notes);

/// <summary>
/// Delineates one multi-lead median beat (see <see cref="EcgMeasurer"/> for the methods and their sources). Every
/// threshold is a fraction of a peak of the beat itself, so the result does not depend on the signal's scale.
/// </summary>
internal static class Delineator
{
    /// <summary>Fraction of the QRS peak spatial velocity (above the isoelectric level) that marks QRS onset and offset.</summary>
    public const double QrsThreshold = 0.05;

    /// <param name="beats">Median beats, one per lead, all the same length.</param>
    /// <param name="leads">Indices of the leads to combine (the independent ones).</param>
    /// <param name="r">Position of the aligned QRS in the beats.</param>
    /// <param name="fs">Sampling rate of the beats (Hz).</param>
    /// <param name="rr">Mean RR interval of the dominant beats (s).</param>
    public static Delineation Delineate(double[][] beats, int[] leads, int r, double fs, double rr)
    {
        int len = beats[0].Length;
        int S(double seconds) => (int)Math.Round(seconds * fs);
        var notes = new List<string>();

        // Spatial velocity: norm of the leads' central-difference slopes, smoothed over 10 ms.
        var sv = new double[len];
        for (int t = 1; t < len - 1; t++)
        {
            double s = 0;
            foreach (int l in leads)
            {
                double d = (beats[l][t + 1] - beats[l][t - 1]) / 2;
                s += d * d;
            }
            sv[t] = Math.Sqrt(s);
        }
        sv[0] = sv[1];
        sv[^1] = sv[^2];
        sv = MovingAverage(sv, Math.Max(1, S(0.01)));

        int peak = ArgMax(sv, r - S(0.1), r + S(0.1));
        double svMax = sv[peak];
        // Isoelectric levels of the spatial velocity: its lowest 20 ms mean before the QRS (PR segment) and after it (ST
        // segment, before the T wave's slope).
        var sv20 = MovingAverage(sv, Math.Max(1, S(0.02)));
        double baseOn = Min(sv20, r - S(0.25), r - S(0.04));
        double baseOff = Min(sv20, peak + S(0.03), Math.Min(peak + S(0.2), r + S(0.5 * rr)));
        double thrOn = baseOn + QrsThreshold * (svMax - baseOn), thrOff = baseOff + QrsThreshold * (svMax - baseOff);
        // The QRS ends where the velocity falls below the threshold and stays below it for 20 ms (a dip inside the QRS,
        // between two deflections, is shorter), and begins where, going back, it does the same.
        int hold = Math.Max(2, S(0.02));
        int onset = peak, below = 0;
        for (int t = peak; t > 0; t--)
        {
            below = sv[t] < thrOn ? below + 1 : 0;
            if (below >= hold) { onset = t + hold; break; }
            onset = t;
        }
        int offset = peak;
        below = 0;
        int last = Math.Min(len - 2, peak + S(0.25));
        for (int t = peak; t <= last; t++)
        {
            below = sv[t] < thrOff ? below + 1 : 0;
            if (below >= hold) { offset = t - hold; break; }
            offset = t;
        }
        double qrsOn = Cross(sv, onset - 1, onset, thrOn), qrsOff = Cross(sv, offset, offset + 1, thrOff);

        // Isoelectric level per lead: mean over 20…5 ms before QRS onset (the end of the PR segment).
        var baseline = new double[beats.Length];
        int b0 = Math.Max(0, (int)qrsOn - S(0.02)), b1 = Math.Max(b0, (int)qrsOn - S(0.005));
        for (int l = 0; l < beats.Length; l++)
        {
            double s = 0;
            for (int t = b0; t <= b1; t++) s += beats[l][t];
            baseline[l] = s / (b1 - b0 + 1);
        }
        var magnitude = new double[len];
        for (int t = 0; t < len; t++)
        {
            double s = 0;
            foreach (int l in leads)
            {
                double v = beats[l][t] - baseline[l];
                s += v * v;
            }
            magnitude[t] = Math.Sqrt(s / leads.Length);
        }

        double? tEnd = TEnd(magnitude, qrsOn, qrsOff, rr, fs, len);
        if (tEnd is null) notes.Add("no T wave end found in the median beat: QT and QTc are not given");

        var (pOn, pOff, pNote) = PWave(beats, leads, baseline, qrsOn, tEnd, rr, fs);
        if (pNote is not null) notes.Add(pNote);
        double[]? pBase = null;
        if (pOn is { } a && pOff is { } b)
        {
            pBase = new double[beats.Length];
            for (int l = 0; l < beats.Length; l++) pBase[l] = (beats[l][(int)Math.Round(a)] + beats[l][(int)Math.Round(b)]) / 2;
        }
        return new Delineation(qrsOn, qrsOff, tEnd, pOn, pOff, baseline, pBase, notes);
    }

    /// <summary>T end by the trapezium area (Vázquez-Seisdedos et al. 2011) on the spatial magnitude after the T peak.</summary>
    private static double? TEnd(double[] mag, double qrsOn, double qrsOff, double rr, double fs, int len)
    {
        int S(double seconds) => (int)Math.Round(seconds * fs);
        int from = (int)qrsOff + S(0.06), to = Math.Min((int)qrsOn + S(Math.Min(0.7 * rr, 0.7)), len - S(0.05));
        if (to - from < S(0.02)) return null;
        int tPeak = ArgMax(mag, from, to);
        int limit = Math.Min(len - 2, (int)qrsOn + S(Math.Max(0.3, rr - 0.05)));
        if (limit - tPeak < S(0.03)) return null;
        // Steepest descent after the peak.
        int tm = tPeak;
        double steepest = 0;
        for (int t = tPeak + 1; t < Math.Min(limit, tPeak + S(0.2)); t++)
        {
            double d = mag[t + 1] - mag[t - 1];
            if (d < steepest) { steepest = d; tm = t; }
        }
        if (steepest >= 0) return null;
        int tr = Math.Min(limit, tm + S(0.15));
        return Trapezium(mag, tm, tr);
    }

    /// <summary>
    /// The point between <paramref name="tm"/> (steepest slope) and <paramref name="tr"/> (a point beyond the wave's end,
    /// on either side) where the trapezium with corners (tm, y[tm]), (ti, y[ti]), (tr, y[ti]), (tr, y[tm]) is largest.
    /// </summary>
    private static double Trapezium(double[] y, int tm, int tr)
    {
        int step = tr > tm ? 1 : -1, best = tm;
        double bestArea = double.NegativeInfinity;
        for (int ti = tm; ti != tr + step; ti += step)
        {
            double area = 0.5 * (y[tm] - y[ti]) * (Math.Abs(tr - ti) + Math.Abs(tr - tm));
            if (area > bestArea) { bestArea = area; best = ti; }
        }
        return best;
    }

    /// <summary>P onset and offset on the spatial magnitude of the beat detrended over the P window; a note when there is none.</summary>
    private static (double? On, double? Off, string? Note) PWave(double[][] beats, int[] leads, double[] baseline, double qrsOn, double? tEnd, double rr, double fs)
    {
        int S(double seconds) => (int)Math.Round(seconds * fs);
        int end = (int)qrsOn - S(0.01);
        int start = Math.Max(S(0.01), (int)qrsOn - S(0.48));
        // The previous beat's T wave ends rr before this one's.
        if (tEnd is { } te) start = Math.Max(start, (int)Math.Round(te - rr * fs) - S(0.02));
        if (end - start < S(0.08))
            return OnT(beats, leads, qrsOn, tEnd, rr, fs) is { } g0
                ? (g0.On, g0.Off, null)
                : (null, null, "no room for a P wave between the previous T wave and the QRS: PR and the P axis are not given");
        int len = end - start + 1;
        // Per lead: remove the line from the level at the window's start to the PR-segment level, then take the RMS.
        var p = new double[len];
        int w = Math.Max(1, S(0.01));
        foreach (int l in leads)
        {
            double a = 0;
            for (int t = start; t < start + w; t++) a += beats[l][t];
            a /= w;
            double b = baseline[l];
            for (int t = 0; t < len; t++)
            {
                double v = beats[l][start + t] - (a + (b - a) * t / (len - 1));
                p[t] += v * v;
            }
        }
        for (int t = 0; t < len; t++) p[t] = Math.Sqrt(p[t] / leads.Length);
        var found = Hump(p, fs);
        if (found is { } f) return (start + f.On, start + f.Off, null);
        return OnT(beats, leads, qrsOn, tEnd, rr, fs) is { } g
            ? (g.On, g.Off, null)
            : (null, null, "no distinct P wave before the QRS: PR and the P axis are not given");
    }

    /// <summary>
    /// The P hump nearest the end of <paramref name="p"/> (a non-negative P-window signal whose last sample is just before
    /// the QRS), its onset and offset by the trapezium method; null when there is no distinct hump.
    /// </summary>
    private static (double On, double Off)? Hump(double[] p, double fs)
    {
        int S(double seconds) => (int)Math.Round(seconds * fs);
        int len = p.Length;
        int margin = S(0.02);
        int pk = ArgMax(p, margin, len - 1 - margin);
        // The P wave is the hump nearest the QRS among those at least half as high as the highest: a higher one further
        // back is the previous beat's T (or U) wave reaching into the window.
        for (int t = len - 2 - margin; t > pk; t--)
            if (p[t] >= 0.5 * p[pk] && p[t] >= p[t - 1] && p[t] >= p[t + 1]) { pk = t; break; }
        double height = p[pk];
        if (!(height > 0)) return null;
        // Steepest rise before the peak and steepest fall after it.
        int up = pk, down = pk;
        double rise = 0, fall = 0;
        // Within 70 ms of the peak: a P wave lasts at most about 120 ms, and slopes further away belong to other waves.
        int reach = S(0.07);
        for (int t = Math.Max(1, pk - reach); t < pk; t++) { double d = p[t + 1] - p[t - 1]; if (d > rise) { rise = d; up = t; } }
        for (int t = pk + 1; t < Math.Min(len - 1, pk + reach); t++) { double d = p[t + 1] - p[t - 1]; if (d < fall) { fall = d; down = t; } }
        if (rise <= 0 || fall >= 0) return null;
        double on = Trapezium(p, up, Math.Max(0, up - S(0.07)));
        double off = Trapezium(p, down, Math.Min(len - 1, down + S(0.07)));
        // A P wave stands out of its surroundings: its peak at least 1.5 times the level at its onset and offset.
        if (height < 1.5 * Math.Max(p[(int)on], p[(int)off])) return null;
        return (on, off);
    }

    /// <summary>
    /// Second search, for a P wave on (or just after) the previous beat's T wave, where the first one finds no distinct
    /// hump: each lead minus its moving average over 160 ms (a high-pass that flattens the slower T wave but keeps most of
    /// the P wave), RMS over the leads, in a window reaching back 120 ms into the previous T wave; the same hump rule.
    /// The 160 ms and 120 ms were chosen on PTB-XL folds 1–8 (docs/RESULTS.md §5).
    /// </summary>
    private static (double On, double Off)? OnT(double[][] beats, int[] leads, double qrsOn, double? tEnd, double rr, double fs)
    {
        int S(double seconds) => (int)Math.Round(seconds * fs);
        int end = (int)qrsOn - S(0.01);
        int start = Math.Max(S(0.01), (int)qrsOn - S(0.48));
        if (tEnd is { } te) start = Math.Max(start, (int)Math.Round(te - rr * fs) - S(0.12));
        if (end - start < S(0.08)) return null;
        int len = end - start + 1;
        var p = new double[len];
        foreach (int l in leads)
        {
            // The QRS is held at its onset level, so that the moving average does not carry it into the P window.
            var x = (double[])beats[l].Clone();
            for (int t = end + 1; t < x.Length; t++) x[t] = x[end];
            var smooth = MovingAverage(x, Math.Max(1, S(0.16)));
            for (int t = 0; t < len; t++)
            {
                double v = x[start + t] - smooth[start + t];
                p[t] += v * v;
            }
        }
        for (int t = 0; t < len; t++) p[t] = Math.Sqrt(p[t] / leads.Length);
        return Hump(p, fs) is { } h ? (start + h.On, start + h.Off) : null;
    }

    private static double Cross(double[] y, int a, int b, double level)
    {
        a = Math.Clamp(a, 0, y.Length - 1);
        b = Math.Clamp(b, 0, y.Length - 1);
        double ya = y[a], yb = y[b];
        if (a == b || ya == yb) return b;
        double f = Math.Clamp((level - ya) / (yb - ya), 0, 1);
        return a + f * (b - a);
    }

    private static double[] MovingAverage(double[] x, int w)
    {
        if (w <= 1) return x;
        int n = x.Length, half = w / 2;
        var prefix = new double[n + 1];
        for (int t = 0; t < n; t++) prefix[t + 1] = prefix[t] + x[t];
        var o = new double[n];
        for (int t = 0; t < n; t++)
        {
            int a = Math.Max(0, t - half), b = Math.Min(n, t - half + w);
            o[t] = (prefix[b] - prefix[a]) / (b - a);
        }
        return o;
    }

    private static int ArgMax(double[] y, int from, int to)
    {
        from = Math.Clamp(from, 0, y.Length - 1);
        to = Math.Clamp(to, from, y.Length - 1);
        int best = from;
        for (int t = from + 1; t <= to; t++) if (y[t] > y[best]) best = t;
        return best;
    }

    private static int ArgMin(double[] y, int from, int to)
    {
        from = Math.Clamp(from, 0, y.Length - 1);
        to = Math.Clamp(to, from, y.Length - 1);
        int best = from;
        for (int t = from + 1; t <= to; t++) if (y[t] < y[best]) best = t;
        return best;
    }

    private static double Min(double[] y, int from, int to) => y[ArgMin(y, from, to)];
}
