namespace Deri.Data.Preprocessing;

/// <summary>
/// Band-limited rational resampling by <c>up/down</c> with a polyphase FIR filter, computing exactly what
/// <c>scipy.signal.resample_poly(x, up, down, window=('kaiser', beta), padtype='constant')</c> computes:
/// the ratio is reduced by its gcd, the low-pass filter is a Kaiser-windowed sinc of
/// <c>2·10·max(up, down) + 1</c> taps with cutoff <c>1/max(up, down)</c> of Nyquist, normalised to unit DC
/// gain and scaled by <c>up</c>, the signal is zero-extended at both ends and the output is centred so
/// that it has <c>ceil(n·up/down)</c> samples.
/// </summary>
/// <remarks>Instances are immutable and thread-safe; <see cref="For"/> keeps the <see cref="CacheCapacity"/> most recently used
/// ones (a service that sees a new rate per request must not keep a filter per rate forever).</remarks>
public sealed class PolyphaseResampler
{
    /// <summary>Most resamplers <see cref="For"/> keeps (least recently used ones are dropped).</summary>
    public const int CacheCapacity = 16;

    /// <summary>
    /// Largest up or down factor <see cref="For"/> uses: the filter has <c>20·max(up, down) + 1</c> taps, so this bounds one
    /// resampler to about 6 MB. Ratios that need larger factors (e.g. 8000.123 Hz → 500 Hz) use the closest ratio within it.
    /// </summary>
    public const int MaxFactor = 20_000;

    private static readonly LruCache<(int, int, double), PolyphaseResampler> Cache = new(CacheCapacity);

    /// <summary>Resamplers <see cref="For"/> holds now (at most <see cref="CacheCapacity"/>).</summary>
    public static int CachedCount => Cache.Count;

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

    /// <summary>
    /// A cached resampler from <paramref name="fromRate"/> to <paramref name="toRate"/> Hz. Whole rates give the exact
    /// reduced ratio (as scipy); fractional rates (WFDB allows e.g. 499.5 Hz) give the exact ratio when its factors stay
    /// within <see cref="MaxFactor"/>, otherwise the closest ratio whose factors do (see <see cref="Ratio"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A rate is not a finite positive number.</exception>
    public static PolyphaseResampler For(double fromRate, double toRate, double beta = 5.0)
    {
        var (up, down) = Ratio(fromRate, toRate);
        return Cache.GetOrAdd((up, down, beta), k => new PolyphaseResampler(k.Item1, k.Item2, k.Item3));
    }

    /// <summary>
    /// The coprime factors <c>(up, down)</c> of resampling <paramref name="fromRate"/> to <paramref name="toRate"/>:
    /// <c>up/down = toRate/fromRate</c> exactly for whole rates whose reduced factors are at most <see cref="MaxFactor"/>,
    /// otherwise the last continued-fraction convergent of the ratio whose factors stay within it: exact for fractional rates
    /// whose ratio fits (499.5 → 500 Hz is 1000/999), else the closest such ratio (8000.123 → 500 Hz becomes 1/16, whose
    /// output rate is 15 ppm off).
    /// </summary>
    /// <exception cref="ArgumentException">A rate is not a finite positive number.</exception>
    public static (int Up, int Down) Ratio(double fromRate, double toRate)
    {
        if (!(fromRate > 0) || !double.IsFinite(fromRate))
            throw new ArgumentException($"sampling rate {fromRate} Hz is not a finite positive number", nameof(fromRate));
        if (!(toRate > 0) || !double.IsFinite(toRate))
            throw new ArgumentException($"sampling rate {toRate} Hz is not a finite positive number", nameof(toRate));
        if (IsWhole(fromRate) && IsWhole(toRate))
        {
            long up = (long)Math.Round(toRate), down = (long)Math.Round(fromRate);
            long g = Gcd(up, down);
            if (up / g <= MaxFactor && down / g <= MaxFactor) return ((int)(up / g), (int)(down / g));
        }
        // Continued fraction of r = toRate/fromRate: convergents p/q are the best approximations with denominators ≤ q.
        double r = toRate / fromRate, x = r;
        long p0 = 1, q0 = 0, p1 = (long)Math.Floor(x), q1 = 1;
        (long P, long Q) best = p1 > 0 ? (p1, 1) : (1, Math.Clamp((long)Math.Round(1 / r), 1, MaxFactor));
        if (p1 > MaxFactor) return (MaxFactor, 1);
        for (int i = 0; i < 64; i++)
        {
            if (Math.Abs(r - (double)p1 / q1) <= 1e-12 * r) break;
            double frac = x - Math.Floor(x);
            if (frac < 1e-15) break;
            x = 1 / frac;
            long a = (long)Math.Floor(x);
            long p2 = a * p1 + p0, q2 = a * q1 + q0;
            if (p2 > MaxFactor || q2 > MaxFactor) break;
            (p0, q0, p1, q1) = (p1, q1, p2, q2);
            if (p1 > 0) best = (p1, q1);
        }
        long gg = Gcd(best.P, best.Q);
        return ((int)(best.P / gg), (int)(best.Q / gg));
    }

    private static bool IsWhole(double rate) => rate <= int.MaxValue && Math.Abs(rate - Math.Round(rate)) <= 1e-9;

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

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}

/// <summary>A small thread-safe cache that keeps the <c>capacity</c> most recently used values.</summary>
internal sealed class LruCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> map = new();
    private readonly LinkedList<(TKey Key, TValue Value)> order = new();   // most recently used first

    /// <summary>Entries held now.</summary>
    public int Count
    {
        get { lock (map) return map.Count; }
    }

    /// <summary>The value for <paramref name="key"/>, made by <paramref name="make"/> (outside the lock) when missing.</summary>
    public TValue GetOrAdd(TKey key, Func<TKey, TValue> make)
    {
        lock (map)
        {
            if (map.TryGetValue(key, out var node))
            {
                order.Remove(node);
                order.AddFirst(node);
                return node.Value.Value;
            }
        }
        var value = make(key);
        lock (map)
        {
            if (map.TryGetValue(key, out var node)) return node.Value.Value;
            map[key] = order.AddFirst((key, value));
            while (map.Count > capacity)
            {
                var last = order.Last!;
                order.RemoveLast();
                map.Remove(last.Value.Key);
            }
            return value;
        }
    }
}
