using Deri.Synthetic;

namespace Deri.Tests.Synthetic;

/// <summary>
/// A deliberately simple ECG measurement kit for checking the generator from its output alone: R-peak
/// detection from the spatial slope, QRS boundaries, P onset and ST level. Works on the 8 independent leads
/// (I, II, V1–V6).
/// </summary>
public static class EcgMeasure
{
    private static readonly int[] Independent = [0, 1, 6, 7, 8, 9, 10, 11];

    /// <summary>Spatial slope: Σ over independent leads of |x[t+1] − x[t−1]| / (2/fs), in mV/s.</summary>
    public static double[] SpatialSlope(SyntheticEcg e)
    {
        int n = e.Samples;
        var s = new double[n];
        foreach (int c in Independent)
        {
            var x = e.Lead(c);
            for (int t = 1; t < n - 1; t++) s[t] += Math.Abs(x[t + 1] - x[t - 1]) * e.SamplingRate / 2;
        }
        return s;
    }

    /// <summary>Moving average over <paramref name="width"/> samples (centred).</summary>
    public static double[] Smooth(double[] x, int width)
    {
        var r = new double[x.Length];
        double acc = 0;
        int h = width / 2;
        for (int i = 0; i < x.Length + h; i++)
        {
            if (i < x.Length) acc += x[i];
            if (i - width >= 0) acc -= x[i - width];
            int j = i - h;
            if (j >= 0 && j < x.Length) r[j] = acc / width;
        }
        return r;
    }

    /// <summary>
    /// Band-limited spatial slope for beat detection: each lead is low-passed by a 16 ms moving average
    /// (muscle noise), then Σ over independent leads of |x[t+4] − x[t−4]|, in mV per 16 ms.
    /// </summary>
    public static double[] DetectionSlope(SyntheticEcg e)
    {
        int n = e.Samples, d = Math.Max(1, (int)(0.008 * e.SamplingRate));
        var s = new double[n];
        var x = new double[n];
        foreach (int c in Independent)
        {
            var lead = e.Lead(c);
            for (int t = 0; t < n; t++) x[t] = lead[t];
            var lp = Smooth(x, Math.Max(1, (int)(0.016 * e.SamplingRate)));
            for (int t = d; t < n - d; t++) s[t] += Math.Abs(lp[t + d] - lp[t - d]);
        }
        return s;
    }

    /// <summary>
    /// QRS locations (sample indices of the slope-energy centroid) by greedy peak picking on the smoothed
    /// detection slope with a 220 ms refractory period. The reference height is the 6th largest candidate
    /// (a 10 s record has at least 6 beats, and at most a few PVCs stand above the others); peaks above 45 %
    /// of it count. Peaks closer than 150 ms to either end are dropped.
    /// </summary>
    public static List<int> DetectBeats(SyntheticEcg e)
    {
        double fs = e.SamplingRate;
        var f = Smooth(DetectionSlope(e), (int)(0.04 * fs));
        int n = f.Length, refractory = (int)(0.22 * fs);
        var order = Enumerable.Range(0, n).OrderByDescending(i => f[i]).ToArray();
        var taken = new List<int>();
        foreach (int i in order)
        {
            if (f[i] < 0.05 * f[order[0]]) break;
            if (taken.All(p => Math.Abs(p - i) > refractory)) taken.Add(i);
        }
        double reference = f[taken[Math.Min(5, taken.Count - 1)]];
        int edge = (int)(0.15 * fs), half = (int)(0.08 * fs);
        // Refine each peak to the centroid of the feature within ±80 ms: stable on notched or slurred QRS.
        return taken.Where(i => f[i] >= 0.45 * reference && i >= edge && i < n - edge).Select(i =>
        {
            double sw = 0, st = 0;
            for (int t = Math.Max(0, i - half); t < Math.Min(n, i + half); t++) { sw += f[t]; st += f[t] * t; }
            return (int)Math.Round(st / sw);
        }).OrderBy(i => i).ToList();
    }

    /// <summary>Heart rate in bpm from beat locations.</summary>
    public static double HeartRate(IReadOnlyList<int> beats, double fs) => 60 * fs * (beats.Count - 1) / (beats[^1] - beats[0]);

    /// <summary>Coefficient of variation of the RR intervals.</summary>
    public static double RrCv(IReadOnlyList<int> beats)
    {
        var rr = beats.Zip(beats.Skip(1), (a, b) => (double)(b - a)).ToArray();
        double m = rr.Average();
        return Math.Sqrt(rr.Sum(r => (r - m) * (r - m)) / rr.Length) / m;
    }

    /// <summary>
    /// QRS onset and end (sample indices) around a detected beat on a noise-free record: the span where the
    /// spatial slope stays above the record's background slope (its lower quartile: atrial waves, T waves) plus
    /// <paramref name="fraction"/> of the peak's excess over it, searched at most 150 ms either side.
    /// </summary>
    public static (int Onset, int End) QrsBounds(SyntheticEcg e, double[] slope, int beat, double fraction = 0.08)
    {
        double fs = e.SamplingRate;
        int w = (int)(0.06 * fs), cap = (int)(0.15 * fs);
        int peak = beat;
        for (int i = Math.Max(0, beat - w); i < Math.Min(slope.Length, beat + w); i++) if (slope[i] > slope[peak]) peak = i;
        double bg = slope.OrderBy(v => v).ElementAt(slope.Length / 4);
        double th = bg + fraction * (slope[peak] - bg);
        int gap = (int)(0.012 * fs); // a QRS may dip below threshold briefly inside (a notch)
        int on = peak;
        while (on > Math.Max(0, peak - cap) && (slope[on - 1] > th || AnyAbove(slope, on - 1 - gap, on - 1, th))) on--;
        int end = peak;
        while (end < Math.Min(slope.Length - 1, peak + cap) && (slope[end + 1] > th || AnyAbove(slope, end + 1, end + 1 + gap, th))) end++;
        return (on, end);
    }

    private static bool AnyAbove(double[] x, int a, int b, double th)
    {
        for (int i = Math.Max(0, a); i <= Math.Min(x.Length - 1, b); i++) if (x[i] > th) return true;
        return false;
    }

    /// <summary>
    /// P-wave onset before a QRS onset on a noise-free record: going backwards from the QRS onset, the first
    /// local maximum of the spatial amplitude Σ|x| is the P peak; the onset is where Σ|x| falls below 10 % of
    /// the peak going further back.
    /// </summary>
    public static int POnset(SyntheticEcg e, int qrsOnset)
    {
        double fs = e.SamplingRate;
        double Amp(int t)
        {
            double s = 0;
            foreach (int c in Independent) s += Math.Abs(e.Lead(c)[t]);
            return s;
        }
        int w = (int)(0.01 * fs);
        int t = qrsOnset - (int)(0.02 * fs);
        while (t - w > 0 && !(Amp(t) >= Amp(t - w) && Amp(t) >= Amp(t + w) && Amp(t) > 0.02)) t--;
        double th = 0.1 * Amp(t);
        while (t > 0 && Amp(t - 1) > th) t--;
        return t;
    }

    /// <summary>Milliseconds between two sample indices.</summary>
    public static double Ms(SyntheticEcg e, int samples) => samples * 1000 / e.SamplingRate;
}
