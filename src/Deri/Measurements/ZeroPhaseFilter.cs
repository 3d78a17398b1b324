namespace Deri.Measurements;

/// <summary>
/// Second-order Butterworth low- and high-pass sections (RBJ biquads, Q = 1/√2) run forward and backward, so that the
/// result has no phase shift (like <c>scipy.signal.filtfilt</c>): fiducial points keep their time. The ends are padded by
/// odd reflection and the filter state starts in its steady state for the first padded value, so a record's first and
/// last second carry no start-up transient.
/// </summary>
internal static class ZeroPhaseFilter
{
    /// <summary>Band-passes <paramref name="x"/> in place: high-pass at <paramref name="highPassHz"/> (skipped when ≤ 0),
    /// low-pass at <paramref name="lowPassHz"/> (skipped when ≥ 0.45·fs or ≤ 0).</summary>
    public static void BandPass(double[] x, double fs, double highPassHz, double lowPassHz)
    {
        if (highPassHz > 0) Apply(x, Design(highPassHz, fs, highPass: true), Pad(highPassHz, fs));
        if (lowPassHz > 0 && lowPassHz < 0.45 * fs) Apply(x, Design(lowPassHz, fs, highPass: false), Pad(lowPassHz, fs));
    }

    private readonly record struct Biquad(double B0, double B1, double B2, double A1, double A2);

    private static Biquad Design(double f0, double fs, bool highPass)
    {
        double w0 = 2 * Math.PI * f0 / fs, cos = Math.Cos(w0), alpha = Math.Sin(w0) / (2 / Math.Sqrt(2));
        double a0 = 1 + alpha;
        double b0 = highPass ? (1 + cos) / 2 : (1 - cos) / 2, b1 = highPass ? -(1 + cos) : 1 - cos;
        return new Biquad(b0 / a0, b1 / a0, b0 / a0, -2 * cos / a0, (1 - alpha) / a0);
    }

    // About 1.5 periods of the cut-off: the transient of a second-order section has died down by then.
    private static int Pad(double f0, double fs) => Math.Max(6, (int)Math.Ceiling(1.5 * fs / f0));

    private static void Apply(double[] x, Biquad f, int padding)
    {
        int n = x.Length;
        if (n < 2) return;
        int pad = Math.Min(n - 1, padding);
        // [pad | x | pad], odd reflection about the end values: 2·x[0] − x[pad..1] and 2·x[n−1] − x[n−2..n−1−pad].
        var y = new double[n + 2 * pad];
        for (int i = 0; i < pad; i++) y[i] = 2 * x[0] - x[pad - i];
        Array.Copy(x, 0, y, pad, n);
        for (int i = 0; i < pad; i++) y[pad + n + i] = 2 * x[n - 1] - x[n - 2 - i];
        Run(y, f, forward: true);
        Run(y, f, forward: false);
        Array.Copy(y, pad, x, 0, n);
    }

    private static void Run(double[] y, Biquad f, bool forward)
    {
        int n = y.Length, start = forward ? 0 : n - 1, step = forward ? 1 : -1;
        // Steady state for a constant input u = y[start] (scipy's lfilter_zi), transposed direct form II.
        double u = y[start], gain = (f.B0 + f.B1 + f.B2) / (1 + f.A1 + f.A2), out0 = gain * u;
        double z2 = f.B2 * u - f.A2 * out0, z1 = f.B1 * u - f.A1 * out0 + z2;
        for (int k = 0, i = start; k < n; k++, i += step)
        {
            double v = y[i], o = f.B0 * v + z1;
            z1 = f.B1 * v - f.A1 * o + z2;
            z2 = f.B2 * v - f.A2 * o;
            y[i] = o;
        }
    }
}
