using System.Collections.Concurrent;

namespace Deri.Data.Preprocessing;

/// <summary>
/// Band-limited rational resampling by <c>up/down</c> with a polyphase FIR filter, computing exactly what
/// <c>scipy.signal.resample_poly(x, up, down, window=('kaiser', beta), padtype='constant')</c> computes:
/// the ratio is reduced by its gcd, the low-pass filter is a Kaiser-windowed sinc of
/// <c>2·10·max(up, down) + 1</c> taps with cutoff <c>1/max(up, down)</c> of Nyquist, normalised to unit DC
/// gain and scaled by <c>up</c>, the signal is zero-extended at both ends and the output is centred so
/// that it has <c>ceil(n·up/down)</c> samples.
/// </summary>
/// <remarks>Instances are immutable and thread-safe; <see cref="For"/> caches one per ratio.</remarks>
public sealed class PolyphaseResampler
{
    private static readonly ConcurrentDictionary<(int, int, double), PolyphaseResampler> Cache = new();

    // phases[p][i] = h[p + i·up]: the taps that multiply x[base − i] for an output whose upsampled
    // position falls on phase p. Stored per phase so each output is one short contiguous dot product.
    private readonly double[][] _phases;
    private readonly int _nPreRemove;

    /// <summary>Upsampling factor after reduction by the gcd.</summary>
    public int Up { get; }

    /// <summary>Downsampling factor after reduction by the gcd.</summary>
    public int Down { get; }

    /// <summary>Kaiser window β.</summary>
    public double Beta { get; }

    /// <summary>The full (zero-padded, scaled) filter as scipy applies it, for inspection and tests.</summary>
    public double[] Filter { get; }

    /// <summary>Creates a resampler for the ratio <paramref name="up"/>/<paramref name="down"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor is not positive or β is negative.</exception>
    public PolyphaseResampler(int up, int down, double beta = 5.0)
    {
        if (up <= 0) throw new ArgumentOutOfRangeException(nameof(up), up, "up must be positive");
        if (down <= 0) throw new ArgumentOutOfRangeException(nameof(down), down, "down must be positive");
        if (beta < 0 || !double.IsFinite(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "the Kaiser β must be finite and non-negative");
        int g = Gcd(up, down);
        Up = up / g;
        Down = down / g;
        Beta = beta;
        if (Up == 1 && Down == 1)
        {
            Filter = [1.0];
            _phases = [[1.0]];
            return;
        }
        int maxRate = Math.Max(Up, Down);
        int halfLen = 10 * maxRate;
        double[] h = FirwinKaiser(2 * halfLen + 1, 1.0 / maxRate, beta);
        for (int i = 0; i < h.Length; i++) h[i] *= Up;
        int nPrePad = Down - halfLen % Down;
        _nPreRemove = (halfLen + nPrePad) / Down;
        // scipy grows a post-pad until the full output covers n_out + n_pre_remove samples; for the
        // output we keep that padding only adds zero taps, which the dot products skip anyway.
        Filter = new double[nPrePad + h.Length];
        Array.Copy(h, 0, Filter, nPrePad, h.Length);
        _phases = new double[Up][];
        for (int p = 0; p < Up; p++)
        {
            int count = p < Filter.Length ? (Filter.Length - p + Up - 1) / Up : 0;
            var taps = new double[count];
            for (int i = 0; i < count; i++) taps[i] = Filter[p + i * Up];
            _phases[p] = taps;
        }
    }

    /// <summary>A cached resampler from <paramref name="fromRate"/> to <paramref name="toRate"/> Hz (integer rates).</summary>
    /// <exception cref="ArgumentException">A rate is not a positive whole number of Hz.</exception>
    public static PolyphaseResampler For(double fromRate, double toRate, double beta = 5.0)
    {
        int up = WholeRate(toRate, nameof(toRate)), down = WholeRate(fromRate, nameof(fromRate));
        int g = Gcd(up, down);
        return Cache.GetOrAdd((up / g, down / g, beta), k => new PolyphaseResampler(k.Item1, k.Item2, k.Item3));
    }

    /// <summary>Number of output samples for <paramref name="inputLength"/> input samples: <c>ceil(n·up/down)</c>.</summary>
    public int OutputLength(int inputLength)
    {
        long n = (long)inputLength * Up;
        return (int)(n / Down + (n % Down != 0 ? 1 : 0));
    }

    /// <summary>Resamples <paramref name="input"/> into <paramref name="output"/>, which must hold
    /// <see cref="OutputLength"/> samples (extra samples are left untouched).</summary>
    public void Resample(ReadOnlySpan<double> input, Span<double> output)
    {
        int nOut = OutputLength(input.Length);
        if (output.Length < nOut)
            throw new ArgumentException($"output holds {output.Length} samples, resampling {input.Length} samples by {Up}/{Down} gives {nOut}", nameof(output));
        ResampleWindow(input, 0, output[..nOut]);
    }

    /// <summary>
    /// Computes only the output samples <c>[firstOutput, firstOutput + output.Length)</c> of resampling the whole of
    /// <paramref name="input"/> — identical to those of <see cref="Resample(ReadOnlySpan{double}, Span{double})"/> — so a
    /// crop of a long record costs only the samples kept.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The window reaches past <see cref="OutputLength"/>.</exception>
    public void ResampleWindow(ReadOnlySpan<double> input, int firstOutput, Span<double> output)
    {
        int nOut = OutputLength(input.Length);
        if (firstOutput < 0 || firstOutput + output.Length > nOut)
            throw new ArgumentOutOfRangeException(nameof(firstOutput), $"window [{firstOutput}, {firstOutput + output.Length}) outside the {nOut} output samples");
        if (Up == 1 && Down == 1)
        {
            input.Slice(firstOutput, output.Length).CopyTo(output);
            return;
        }
        int nIn = input.Length;
        for (int j = 0; j < output.Length; j++)
        {
            int k = firstOutput + j;
            // Position in the upsampled, filtered stream: y[m] = Σ_j h[j]·xu[m − j], xu[q·up] = x[q].
            long m = (long)(k + _nPreRemove) * Down;
            int phase = (int)(m % Up);
            long baseIndex = m / Up;
            double[] taps = _phases[phase];
            // Valid i: 0 ≤ baseIndex − i < nIn and i < taps.Length.
            int iStart = baseIndex >= nIn ? (int)(baseIndex - nIn + 1) : 0;
            int iEnd = (int)Math.Min(taps.Length - 1, baseIndex);
            double acc = 0;
            for (int i = iStart; i <= iEnd; i++) acc += taps[i] * input[(int)(baseIndex - i)];
            output[j] = acc;
        }
    }

    /// <summary>Resamples a whole signal and returns the new array.</summary>
    public double[] Resample(ReadOnlySpan<double> input)
    {
        var output = new double[OutputLength(input.Length)];
        Resample(input, output);
        return output;
    }

    /// <summary><c>scipy.signal.firwin(numtaps, cutoff, window=('kaiser', beta))</c>: low-pass with unit DC gain.</summary>
    internal static double[] FirwinKaiser(int numTaps, double cutoff, double beta)
    {
        var h = new double[numTaps];
        double alpha = 0.5 * (numTaps - 1);
        double i0Beta = BesselI0(beta);
        double sum = 0;
        for (int n = 0; n < numTaps; n++)
        {
            double m = n - alpha;
            double sinc = cutoff * Sinc(cutoff * m);
            // Symmetric Kaiser window (fftbins=False): I0(β·sqrt(1 − (2n/(N−1) − 1)²)) / I0(β).
            double r = numTaps == 1 ? 0 : 2.0 * n / (numTaps - 1) - 1.0;
            double w = BesselI0(beta * Math.Sqrt(Math.Max(0, 1 - r * r))) / i0Beta;
            h[n] = sinc * w;
            sum += h[n];
        }
        for (int n = 0; n < numTaps; n++) h[n] /= sum;
        return h;
    }

    private static double Sinc(double x)
    {
        if (x == 0) return 1.0;
        double px = Math.PI * x;
        return Math.Sin(px) / px;
    }

    /// <summary>Modified Bessel function of the first kind, order 0, by its power series (converges for all x).</summary>
    internal static double BesselI0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (int k = 1; k < 500; k++)
        {
            term *= q / ((double)k * k);
            sum += term;
            if (term < sum * 1e-17) break;
        }
        return sum;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    private static int WholeRate(double rate, string name)
    {
        double r = Math.Round(rate);
        if (!(rate > 0) || Math.Abs(rate - r) > 1e-9 || r > int.MaxValue)
            throw new ArgumentException($"sampling rate {rate} Hz is not a positive whole number of Hz; polyphase resampling needs an integer ratio", name);
        return (int)r;
    }
}
