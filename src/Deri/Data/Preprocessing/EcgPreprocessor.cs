using Deri.Signals;

namespace Deri.Data.Preprocessing;

/// <summary>
/// Turns an <see cref="EcgRecord"/> into the model input: <c>(12, TargetLength)</c> float32, row-major
/// (lead-major), following a <see cref="PreprocessConfig"/>. Thread-safe: scratch buffers are per thread.
/// </summary>
public sealed class EcgPreprocessor
{
    [ThreadStatic] private static double[]? _raw;
    [ThreadStatic] private static double[]? _repaired;
    [ThreadStatic] private static double[]? _resampled;

    /// <summary>The configuration applied.</summary>
    public PreprocessConfig Config { get; }

    /// <summary>Floats written per record: <c>12 · TargetLength</c>.</summary>
    public int OutputSize => PreprocessConfig.Leads * Config.TargetLength;

    /// <summary>Creates a preprocessor; the configuration is validated here.</summary>
    public EcgPreprocessor(PreprocessConfig? config = null)
    {
        Config = config ?? PreprocessConfig.Default;
        Config.Validate();
    }

    /// <summary>Preprocesses <paramref name="record"/> into a new <c>12 · TargetLength</c> array.</summary>
    public float[] Process(EcgRecord record)
    {
        var output = new float[OutputSize];
        Process(record, output);
        return output;
    }

    /// <summary>Preprocesses <paramref name="record"/> into <paramref name="destination"/> (<c>12 · TargetLength</c> floats, lead-major).</summary>
    /// <exception cref="InvalidDataException">The record lacks a lead, has no samples, a zero gain, or starts after the crop window.</exception>
    public void Process(EcgRecord record, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (destination.Length < OutputSize)
            throw new ArgumentException($"destination holds {destination.Length} floats, need {OutputSize}", nameof(destination));
        var cfg = Config;
        if (record.Samples == 0) throw new InvalidDataException($"record {record.Id}: no samples");
        if (!(record.SamplingRate > 0)) throw new InvalidDataException($"record {record.Id}: sampling rate {record.SamplingRate} Hz");
        int[] channels = cfg.ReorderLeads ? ModelLeadMap.Resolve(record) : FirstTwelve(record);

        int n = record.Samples;
        bool resample = Math.Abs(record.SamplingRate - cfg.TargetRate) > 1e-9;
        PolyphaseResampler? resampler = resample ? PolyphaseResampler.For(record.SamplingRate, cfg.TargetRate, cfg.KaiserBeta) : null;
        int nAtTarget = resampler?.OutputLength(n) ?? n;
        int valid = Math.Min(cfg.EffectiveCropLength, nAtTarget - cfg.CropStart);
        if (valid <= 0)
            throw new InvalidDataException($"record {record.Id}: {nAtTarget} samples at {cfg.TargetRate} Hz, crop starts at {cfg.CropStart}");
        int length = cfg.TargetLength;
        destination[..OutputSize].Clear();

        var raw = Buffer(ref _raw, n);
        for (int lead = 0; lead < PreprocessConfig.Leads; lead++)
        {
            int c = channels[lead];
            bool nonFinite = ToPhysical(record, c, raw.AsSpan(0, n));
            ReadOnlySpan<double> signal = raw.AsSpan(0, n);
            if (nonFinite)
            {
                if (!cfg.RepairNonFinite)
                    throw new InvalidDataException($"record {record.Id}: lead {record.Leads[c]} has missing or non-finite samples and repair is off");
                var repaired = Buffer(ref _repaired, n);
                RepairNonFinite(signal, repaired.AsSpan(0, n), cfg.RepairRadius);
                signal = repaired.AsSpan(0, n);
            }
            if (resampler != null)
            {
                var res = Buffer(ref _resampled, nAtTarget);
                resampler.Resample(signal, res.AsSpan(0, nAtTarget));
                signal = res.AsSpan(0, nAtTarget);
            }
            var row = destination.Slice(lead * length, length);
            var src = signal.Slice(cfg.CropStart, valid);
            for (int t = 0; t < valid; t++) row[t] = (float)src[t];
        }
        Normalize(destination[..OutputSize], length, cfg.NormalizeAfterPadding ? length : valid, cfg.Normalization);
    }

    /// <summary>
    /// Replaces each non-finite sample of <paramref name="input"/> by the mean of the finite samples among its
    /// <paramref name="radius"/> neighbours on each side (the sample itself excluded), 0 when there are none;
    /// finite samples are copied. Neighbours are taken from the input, so repairs do not cascade.
    /// </summary>
    public static void RepairNonFinite(ReadOnlySpan<double> input, Span<double> output, int radius = 6)
    {
        int n = input.Length;
        for (int t = 0; t < n; t++)
        {
            double v = input[t];
            if (double.IsFinite(v)) { output[t] = v; continue; }
            double sum = 0;
            int count = 0;
            for (int j = Math.Max(0, t - radius), end = Math.Min(n - 1, t + radius); j <= end; j++)
            {
                if (j == t || !double.IsFinite(input[j])) continue;
                sum += input[j];
                count++;
            }
            output[t] = count > 0 ? sum / count : 0.0;
        }
    }

    /// <summary>
    /// Normalises <paramref name="data"/> laid out as 12 rows of <paramref name="rowLength"/>, using and changing
    /// only the first <paramref name="valid"/> samples of each row.
    /// </summary>
    public static void Normalize(Span<float> data, int rowLength, int valid, Normalization mode)
    {
        int leads = data.Length / rowLength;
        switch (mode)
        {
            case Normalization.None:
                return;
            case Normalization.MinMax:
            {
                float min = float.PositiveInfinity, max = float.NegativeInfinity;
                for (int l = 0; l < leads; l++)
                {
                    var row = data.Slice(l * rowLength, valid);
                    foreach (float v in row)
                    {
                        if (v < min) min = v;
                        if (v > max) max = v;
                    }
                }
                float scale = (float)(1.0 / ((double)max - min + 1e-8));
                for (int l = 0; l < leads; l++)
                {
                    var row = data.Slice(l * rowLength, valid);
                    for (int t = 0; t < row.Length; t++) row[t] = (row[t] - min) * scale;
                }
                return;
            }
            case Normalization.ZScorePerLead:
                for (int l = 0; l < leads; l++)
                {
                    var row = data.Slice(l * rowLength, valid);
                    double mean = 0;
                    foreach (float v in row) mean += v;
                    mean /= valid;
                    double ss = 0;
                    foreach (float v in row) ss += (v - mean) * (v - mean);
                    double std = Math.Sqrt(ss / valid);
                    float inv = (float)(1.0 / (std + 1e-8));
                    for (int t = 0; t < valid; t++) row[t] = (float)((row[t] - mean) * inv);
                }
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown normalisation");
        }
    }

    /// <summary>Physical values of one channel into <paramref name="output"/>; returns whether any is missing or non-finite.</summary>
    private static bool ToPhysical(EcgRecord record, int channel, Span<double> output)
    {
        double gain = record.Gain[channel];
        if (!(gain != 0) || !double.IsFinite(gain))
            throw new InvalidDataException($"record {record.Id}: lead {record.Leads[channel]} has gain {gain}");
        double inv = 1.0 / gain;
        int baseline = record.Baseline[channel];
        int[] d = record.Digital[channel];
        if (d.Length != output.Length)
            throw new InvalidDataException($"record {record.Id}: lead {record.Leads[channel]} has {d.Length} samples, lead 0 has {output.Length}");
        bool missing = false;
        for (int t = 0; t < d.Length; t++)
        {
            int v = d[t];
            if (v == int.MinValue) { output[t] = double.NaN; missing = true; }
            else output[t] = (v - baseline) * inv;
        }
        return missing;
    }

    private static int[] FirstTwelve(EcgRecord record)
    {
        if (record.Channels < PreprocessConfig.Leads)
            throw new InvalidDataException($"record {record.Id}: {record.Channels} channels, need {PreprocessConfig.Leads}");
        return Enumerable.Range(0, PreprocessConfig.Leads).ToArray();
    }

    private static double[] Buffer(ref double[]? buffer, int n)
    {
        if (buffer == null || buffer.Length < n) buffer = new double[Math.Max(n, 8192)];
        return buffer;
    }
}
