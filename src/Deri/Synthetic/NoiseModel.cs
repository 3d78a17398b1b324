namespace Deri.Synthetic;

/// <summary>
/// Recording noise, generated per electrode (RA, LA, LL, V1–V6) and mixed into the leads the way an
/// electrocardiograph forms them: I = LA − RA, II = LL − RA, Vk = Ek − (RA + LA + LL)/3. Components:
/// baseline wander (respiration and slow drift), mains interference (50 or 60 Hz), muscle (EMG) noise with
/// bursts, and electrode-motion transients.
/// </summary>
internal static class NoiseModel
{
    private const int Electrodes = 9; // RA, LA, LL, V1..V6

    private readonly record struct Levels(double Wander, double Mains, double Emg, double MotionProbability, int MaxMotion);

    private static Levels For(NoiseLevel level) => level switch
    {
        NoiseLevel.Low => new(0.03, 0.003, 0.004, 0.05, 1),
        NoiseLevel.Medium => new(0.1, 0.01, 0.01, 0.25, 1),
        NoiseLevel.High => new(0.3, 0.035, 0.03, 0.8, 3),
        _ => new(0, 0, 0, 0, 0),
    };

    /// <summary>Adds noise to channels 0 (I), 1 (II) and 6–11 (V1–V6) of a (12, n) signal; returns the mains frequency used.</summary>
    public static int Add(SyntheticRandom rng, NoiseLevel level, float[] signal, int n, double fs)
    {
        var lv = For(level);
        double scale = rng.Uniform(0.6, 1.4);
        int mains = rng.Chance(0.75) ? 60 : 50;
        double fResp = rng.Uniform(0.12, 0.4), fDrift = rng.Uniform(0.02, 0.09);

        // Shared oscillators (sin, cos); each electrode mixes them with its own amplitude and phase.
        var osc = new (float[] Sin, float[] Cos)[] { Oscillator(fResp, n, fs), Oscillator(fDrift, n, fs), Oscillator(mains, n, fs) };
        double[] amp = [lv.Wander * scale, lv.Wander * scale * 0.8, lv.Mains * scale];
        var e = new float[Electrodes * n];
        var row = new float[n];
        for (int k = 0; k < Electrodes; k++)
        {
            var dst = e.AsSpan(k * n, n);
            for (int o = 0; o < osc.Length; o++)
            {
                double a = amp[o] * rng.Uniform(0.2, 1.0), ph = rng.Uniform(0, 2 * Math.PI);
                float cs = (float)(a * Math.Cos(ph)), sn = (float)(a * Math.Sin(ph));
                var s = osc[o].Sin; var c = osc[o].Cos;
                for (int i = 0; i < n; i++) dst[i] += cs * s[i] + sn * c[i];
            }
            // EMG: white noise, level per electrode, with an optional burst of muscle activity.
            rng.FillNormalFast(row);
            double sigma = lv.Emg * scale * rng.Uniform(0.3, 1.0);
            double burstAt = rng.Uniform(0, n / fs), burstWidth = rng.Uniform(0.3, 1.5), burst = rng.Chance(0.3) ? rng.Uniform(1, 4) : 0;
            if (burst == 0)
            {
                float sg = (float)sigma;
                for (int i = 0; i < n; i++) dst[i] += sg * row[i];
            }
            else
            {
                // Burst envelope evaluated every 8 samples (16 ms at 500 Hz): it changes over hundreds of ms.
                for (int i0 = 0; i0 < n; i0 += 8)
                {
                    double u = (i0 / fs - burstAt) / burstWidth;
                    float g = (float)(sigma * (1 + burst * Math.Exp(-0.5 * u * u)));
                    for (int i = i0; i < Math.Min(n, i0 + 8); i++) dst[i] += g * row[i];
                }
            }
        }
        // Electrode motion: a skin-stretch transient (fast rise, slow decay) on one electrode.
        int motions = rng.Chance(lv.MotionProbability) ? rng.Int(1, lv.MaxMotion + 1) : 0;
        for (int m = 0; m < motions; m++)
        {
            var dst = e.AsSpan(rng.Int(0, Electrodes) * n, n);
            double t0 = rng.Uniform(0, n / fs), a = rng.Uniform(0.2, 1.0) * (rng.Chance(0.5) ? 1 : -1) * scale;
            double rise = rng.Uniform(0.02, 0.1), decay = rng.Uniform(0.3, 1.5);
            // a · (1 − e^(−t/rise)) · e^(−t/decay), with both exponentials by multiplicative recurrence.
            double kr = Math.Exp(-1 / (rise * fs)), kd = Math.Exp(-1 / (decay * fs)), er = 1, ed = 1;
            int first = Math.Max(0, (int)Math.Ceiling(t0 * fs)), last = Math.Min(n, first + (int)(8 * decay * fs));
            double shift = first / fs - t0;
            er = Math.Exp(-shift / rise); ed = Math.Exp(-shift / decay);
            for (int i = first; i < last; i++)
            {
                dst[i] += (float)(a * (1 - er) * ed);
                er *= kr; ed *= kd;
            }
        }
        var ra = e.AsSpan(0, n); var la = e.AsSpan(n, n); var ll = e.AsSpan(2 * n, n);
        for (int i = 0; i < n; i++)
        {
            float wct = (ra[i] + la[i] + ll[i]) / 3;
            signal[i] += la[i] - ra[i];
            signal[n + i] += ll[i] - ra[i];
            for (int k = 0; k < 6; k++) signal[(6 + k) * n + i] += e[(3 + k) * n + i] - wct;
        }
        return mains;
    }

    /// <summary>sin and cos of 2πft at the sample times, by a rotating phasor (one complex multiply per sample).</summary>
    private static (float[] Sin, float[] Cos) Oscillator(double f, int n, double fs)
    {
        var s = new float[n]; var c = new float[n];
        double w = 2 * Math.PI * f / fs, cw = Math.Cos(w), sw = Math.Sin(w);
        double re = 1, im = 0;
        for (int i = 0; i < n; i++)
        {
            s[i] = (float)im; c[i] = (float)re;
            double nr = re * cw - im * sw;
            im = re * sw + im * cw;
            re = nr;
            if ((i & 1023) == 1023) { double g = 1 / Math.Sqrt(re * re + im * im); re *= g; im *= g; }
        }
        return (s, c);
    }
}
