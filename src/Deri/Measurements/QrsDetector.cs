namespace Deri.Measurements;

/// <summary>
/// Multi-lead QRS detection after Pan and Tompkins ("A real-time QRS detection algorithm", IEEE Trans. Biomed. Eng.
/// 32(3), 1985): each lead is band-passed to 5–15 Hz, differentiated with their five-point derivative and squared; the
/// squares are summed over the leads and integrated over a 150 ms moving window. Peaks of the integrated energy are
/// QRS complexes when they exceed a threshold relative to the record's own QRS energy (so the detector does not
/// depend on the signal's units or scale), with Pan–Tompkins' two refinements: a search back with half the threshold
/// where no beat was found for 1.66 median RR intervals, and a peak within 360 ms of a beat with less than half its
/// energy taken as a T wave. The record-level threshold replaces their running estimate because resting ECGs are
/// short (10 s): it is 15 % of the 90th percentile of the candidate peaks (one candidate per 250 ms at most), and at least 1 % of
/// the highest.
/// </summary>
public static class QrsDetector
{
    /// <summary>Shortest interval between two QRS complexes (s): Pan–Tompkins' refractory period.</summary>
    public const double RefractorySeconds = 0.2;

    /// <summary>
    /// Sample indices of the QRS complexes, each at the largest summed squared slope of its complex (the steepest
    /// part of the QRS, a stable alignment point), in time order.
    /// </summary>
    /// <param name="leads">Leads, each <c>[samples]</c>, all the same length, finite values, any units.</param>
    /// <param name="fs">Sampling rate (Hz).</param>
    public static int[] Detect(IReadOnlyList<double[]> leads, double fs)
    {
        var (energy, integrated) = Energy(leads, fs);
        return Detect(energy, integrated, fs);
    }

    /// <summary>Summed squared five-point derivative of the 5–15 Hz band, <c>[samples]</c>, and its 150 ms moving average.</summary>
    internal static (double[] Energy, double[] Integrated) Energy(IReadOnlyList<double[]> leads, double fs)
    {
        int n = leads[0].Length;
        var energy = new double[n];
        var band = new double[n];
        foreach (var lead in leads)
        {
            Array.Copy(lead, band, n);
            ZeroPhaseFilter.BandPass(band, fs, 5, 15);
            // Five-point derivative (2x[t+2] + x[t+1] − x[t−1] − 2x[t−2]) · fs / 8, centred so that it has no delay.
            for (int t = 2; t < n - 2; t++)
            {
                double d = (2 * band[t + 2] + band[t + 1] - band[t - 1] - 2 * band[t - 2]) * fs / 8;
                energy[t] += d * d;
            }
        }
        int w = Math.Max(1, (int)Math.Round(0.15 * fs));
        var integrated = new double[n];
        int half = w / 2;
        // Centred moving average: integrated[t] = Σ energy[t − half … t − half + w − 1] / w (shorter at the ends).
        var prefix = new double[n + 1];
        for (int t = 0; t < n; t++) prefix[t + 1] = prefix[t] + energy[t];
        for (int t = 0; t < n; t++)
        {
            int a = Math.Max(0, t - half), b = Math.Min(n, t - half + w);
            integrated[t] = (prefix[b] - prefix[a]) / w;
        }
        return (energy, integrated);
    }

    private static int[] Detect(double[] energy, double[] m, double fs)
    {
        int n = m.Length;
        int refractory = Math.Max(1, (int)Math.Round(RefractorySeconds * fs));
        int tWindow = (int)Math.Round(0.36 * fs), edge = (int)Math.Round(0.05 * fs);
        // Local maxima of the integrated energy, strongest first, at least 250 ms apart (greedy suppression).
        var maxima = new List<int>();
        for (int t = 1; t < n - 1; t++)
            if (m[t] > m[t - 1] && m[t] >= m[t + 1] && m[t] > 0) maxima.Add(t);
        if (maxima.Count == 0) return [];
        var candidates = Suppress(maxima, m, (int)Math.Round(0.25 * fs));
        var values = candidates.Select(c => m[c]).Order().ToArray();
        double level = values[Math.Min(values.Length - 1, (int)Math.Floor(0.9 * values.Length))];
        // At least 1 % of the highest peak too: where nearly the whole record is flat, the percentile is numerical noise.
        double threshold = Math.Max(0.15 * level, 0.01 * values[^1]);
        // Every local maximum ≥ threshold, strongest first, at least the refractory period apart.
        var beats = Suppress(maxima.Where(t => m[t] >= threshold).ToList(), m, refractory);
        beats.Sort();
        beats = RejectTWaves(beats, m, tWindow);
        beats = SearchBack(beats, maxima, m, threshold / 2, refractory, tWindow);
        var peaks = new List<int>(beats.Count);
        int half = (int)Math.Round(0.1 * fs);
        foreach (int b in beats)
        {
            if (b < edge || b >= n - edge) continue;
            int best = b;
            for (int t = Math.Max(0, b - half); t <= Math.Min(n - 1, b + half); t++)
                if (energy[t] > energy[best]) best = t;
            if (peaks.Count == 0 || best - peaks[^1] >= refractory) peaks.Add(best);
        }
        return peaks.ToArray();
    }

    private static List<int> Suppress(List<int> points, double[] m, int distance)
    {
        var order = points.OrderByDescending(t => m[t]).ToList();
        var kept = new List<int>();
        var taken = new SortedSet<int>();
        foreach (int t in order)
        {
            var near = taken.GetViewBetween(t - distance + 1, t + distance - 1);
            if (near.Count > 0) continue;
            taken.Add(t);
            kept.Add(t);
        }
        return kept;
    }

    // Pan–Tompkins: a peak within 360 ms of the previous beat with less than half its energy is a T wave.
    private static List<int> RejectTWaves(List<int> beats, double[] m, int tWindow)
    {
        var kept = new List<int>(beats.Count);
        foreach (int b in beats)
        {
            if (kept.Count > 0 && b - kept[^1] < tWindow && m[b] < 0.5 * m[kept[^1]]) continue;
            kept.Add(b);
        }
        return kept;
    }

    // Pan–Tompkins' search back: in a gap longer than 1.66 RR intervals (the median RR, which a missed beat does not inflate), the strongest peak above half the threshold is a beat.
    private static List<int> SearchBack(List<int> beats, List<int> maxima, double[] m, double lowThreshold, int refractory, int tWindow)
    {
        if (beats.Count < 3) return beats;
        for (int pass = 0; pass < 4; pass++)
        {
            var rr = new List<double>();
            for (int i = 1; i < beats.Count; i++) rr.Add(beats[i] - beats[i - 1]);
            double typical = rr.Order().ElementAt(rr.Count / 2);
            var added = new List<int>();
            for (int i = 1; i < beats.Count; i++)
            {
                if (beats[i] - beats[i - 1] <= 1.66 * typical) continue;
                int best = -1;
                foreach (int t in maxima)
                    if (t > beats[i - 1] + Math.Max(refractory, tWindow) && t < beats[i] - refractory && m[t] >= lowThreshold && (best < 0 || m[t] > m[best]))
                        best = t;
                if (best >= 0) added.Add(best);
            }
            if (added.Count == 0) break;
            beats = beats.Concat(added).Order().ToList();
        }
        return beats;
    }
}
