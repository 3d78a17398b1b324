using System.Numerics;
using Deri.Signals;
using Deri.IO;

namespace Deri.Data.Preprocessing;

/// <summary>
/// Turns a record into the model input: <c>(12, TargetLength)</c> float32, lead-major, following a
/// <see cref="PreprocessConfig"/>. Thread-safe: scratch buffers are per thread.
/// </summary>
public sealed class EcgPreprocessor
{
    [ThreadStatic] private static float[]? _physical;
    [ThreadStatic] private static double[]? _raw;
    [ThreadStatic] private static double[]? _repaired;
    [ThreadStatic] private static double[]? _resampled;

    private static readonly int[] FirstTwelve = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

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

    /// <summary>Preprocesses an in-memory record into <paramref name="destination"/> (<c>12 · TargetLength</c> floats, lead-major).</summary>
    /// <exception cref="EcgFormatException">A lead is missing.</exception>
    /// <exception cref="InputFormatException">The record has no samples, a zero gain, or ends before the crop window.</exception>
    public void Process(EcgRecord record, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(record);
        int n = record.Samples;
        if (n == 0) throw new InputFormatException($"record {record.Id}: no samples");
        int[] channels = Config.ReorderLeads ? LeadOrder.Indices(record.Leads, record.SourcePath ?? record.Id) : CheckFirstTwelve(record.Channels, record.Id);
        var physical = FloatBuffer(PreprocessConfig.Leads * n);
        for (int k = 0; k < channels.Length; k++)
        {
            int c = channels[k];
            var dst = physical.AsSpan(k * n, n);
            if (record.Digital[c].Length != n)
                throw new InputFormatException($"record {record.Id}: lead {record.Leads[c]} has {record.Digital[c].Length} samples, lead 0 has {n}");
            if (record.ExactPhysical is { } exact)
            {
                var src = exact[c];
                for (int t = 0; t < n; t++) dst[t] = (float)src[t];
                continue;
            }
            double gain = record.Gain[c];
            if (!(gain != 0) || !double.IsFinite(gain))
                throw new InputFormatException($"record {record.Id}: lead {record.Leads[c]} has gain {gain}");
            double inv = 1.0 / gain;
            int b = record.Baseline[c];
            int[] d = record.Digital[c];
            for (int t = 0; t < n; t++) dst[t] = d[t] == int.MinValue ? float.NaN : (float)((d[t] - b) * inv);
        }
        ProcessPhysical(physical.AsSpan(0, PreprocessConfig.Leads * n), n, record.SamplingRate, record.Id, destination);
    }

    /// <summary>
    /// Reads the record at <paramref name="path"/> (any path <see cref="RecordReader"/> accepts) and preprocesses it into
    /// <paramref name="destination"/>. WFDB format-16 records are decoded straight into a per-thread buffer.
    /// </summary>
    /// <exception cref="EcgFormatException">The record is missing, unreadable or lacks a lead.</exception>
    /// <exception cref="InputFormatException">The record cannot be brought to the configured shape.</exception>
    public void ProcessFile(string path, Span<float> destination)
    {
        var (kind, file) = RecordReader.Resolve(path);
        if (kind == RecordReader.Kind.Wfdb)
        {
            var header = WfdbHeader.Read(file);
            if (header is { SampleCount: long count, SegmentCount: null } && count > 0 && count < int.MaxValue / PreprocessConfig.Leads)
            {
                // Format-16 records (PTB-XL, MIMIC-IV-ECG, CinC) decode straight into the per-thread buffer.
                int[] channels = Config.ReorderLeads
                    ? LeadOrder.Indices(header.Signals.Select(s => s.Description).ToArray(), file)
                    : CheckFirstTwelve(header.SignalCount, file);
                var buffer = FloatBuffer(PreprocessConfig.Leads * (int)count);
                if (WfdbReader.TryReadPhysicalFormat16(header, file, channels, buffer, out int samples))
                {
                    ProcessPhysical(buffer.AsSpan(0, PreprocessConfig.Leads * samples), samples, header.SamplingFrequency, header.Name, destination);
                    return;
                }
            }
            Process(WfdbReader.Read(header, file), destination);
            return;
        }
        Process(RecordReader.Read(file), destination);
    }

    /// <summary>
    /// Preprocesses physical values already in the output lead order: <paramref name="leads"/> is channel-major
    /// <c>[12 × samples]</c> at <paramref name="samplingRate"/> Hz, NaN/±Inf for missing samples.
    /// </summary>
    /// <exception cref="InputFormatException">Non-finite samples with repair off, or the record ends before the crop window.</exception>
    public void ProcessPhysical(ReadOnlySpan<float> leads, int samples, double samplingRate, string id, Span<float> destination)
    {
        var cfg = Config;
        if (destination.Length < OutputSize)
            throw new ArgumentException($"destination holds {destination.Length} floats, need {OutputSize}", nameof(destination));
        if (samples <= 0) throw new InputFormatException($"record {id}: no samples");
        if (leads.Length < PreprocessConfig.Leads * samples)
            throw new ArgumentException($"record {id}: {leads.Length} values for 12 leads × {samples} samples", nameof(leads));
        if (!(samplingRate > 0) || !double.IsFinite(samplingRate)) throw new InputFormatException($"record {id}: sampling rate {samplingRate} Hz");
        bool resample = Math.Abs(samplingRate - cfg.TargetRate) > 1e-9;
        var resampler = resample ? PolyphaseResampler.For(samplingRate, cfg.TargetRate, cfg.KaiserBeta) : null;
        int nAtTarget = resampler?.OutputLength(samples) ?? samples;
        int valid = Math.Min(cfg.EffectiveCropLength, nAtTarget - cfg.CropStart);
        if (valid <= 0)
            throw new InputFormatException($"record {id}: {nAtTarget} samples at {cfg.TargetRate} Hz, the crop starts at sample {cfg.CropStart}");
        int length = cfg.TargetLength;
        var output = destination[..OutputSize];
        if (resampler == null && TryFastPath(leads, samples, valid, output)) return;
        output.Clear();

        for (int lead = 0; lead < PreprocessConfig.Leads; lead++)
        {
            var src = leads.Slice(lead * samples, samples);
            var row = output.Slice(lead * length, length);
            bool nonFinite = !AllFinite(src);
            if (nonFinite && !cfg.RepairNonFinite)
                throw new InputFormatException($"record {id}: lead {lead} has missing or non-finite samples and repair is off");
            if (!nonFinite && resampler == null)
            {
                src.Slice(cfg.CropStart, valid).CopyTo(row);
                continue;
            }
            var raw = DoubleBuffer(ref _raw, samples);
            for (int t = 0; t < samples; t++) raw[t] = src[t];
            ReadOnlySpan<double> signal = raw.AsSpan(0, samples);
            if (nonFinite)
            {
                var repaired = DoubleBuffer(ref _repaired, samples);
                RepairNonFinite(signal, repaired.AsSpan(0, samples), cfg.RepairRadius);
                signal = repaired.AsSpan(0, samples);
            }
            ReadOnlySpan<double> kept;
            if (resampler != null)
            {
                // Only the kept window is filtered: a 60 s 1000 Hz record costs the same as a 10 s one.
                var res = DoubleBuffer(ref _resampled, valid);
                resampler.ResampleWindow(signal, cfg.CropStart, res.AsSpan(0, valid));
                kept = res.AsSpan(0, valid);
            }
            else kept = signal.Slice(cfg.CropStart, valid);
            for (int t = 0; t < valid; t++) row[t] = (float)kept[t];
        }
        Normalize(output, length, cfg.NormalizeAfterPadding ? length : valid, cfg.Normalization);
    }

    /// <summary>
    /// The common case (500 Hz, finite crop window, min–max or none over the recorded samples): one vectorised pass for
    /// finiteness and the global extremes, one that writes the scaled values. Returns false when the general path is needed.
    /// </summary>
    private bool TryFastPath(ReadOnlySpan<float> leads, int samples, int valid, Span<float> output)
    {
        var cfg = Config;
        if (cfg.Normalization == Normalization.ZScorePerLead || (cfg.NormalizeAfterPadding && valid < cfg.TargetLength)) return false;
        int length = cfg.TargetLength;
        var vmin = new Vector<float>(float.PositiveInfinity);
        var vmax = new Vector<float>(float.NegativeInfinity);
        var bad = Vector<float>.Zero;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        int w = Vector<float>.Count;
        for (int lead = 0; lead < PreprocessConfig.Leads; lead++)
        {
            var src = leads.Slice(lead * samples + cfg.CropStart, valid);
            int t = 0;
            for (; t <= valid - w; t += w)
            {
                var v = new Vector<float>(src.Slice(t, w));
                // v − v is 0 for finite values and NaN for NaN/±Inf, so a non-zero lane marks a bad sample.
                bad |= Vector.AsVectorSingle(~Vector.Equals(v - v, Vector<float>.Zero));
                vmin = Vector.Min(vmin, v);
                vmax = Vector.Max(vmax, v);
            }
            for (; t < valid; t++)
            {
                float v = src[t];
                if (!float.IsFinite(v)) return false;
                if (v < min) min = v;
                if (v > max) max = v;
            }
        }
        if (!Vector.EqualsAll(Vector.AsVectorInt32(bad), Vector<int>.Zero)) return false;
        for (int i = 0; i < w; i++)
        {
            min = Math.Min(min, vmin[i]);
            max = Math.Max(max, vmax[i]);
        }
        bool scaleIt = cfg.Normalization == Normalization.MinMax;
        float scale = (float)(1.0 / ((double)max - min + 1e-8));
        var vMinB = new Vector<float>(min);
        var vScale = new Vector<float>(scale);
        for (int lead = 0; lead < PreprocessConfig.Leads; lead++)
        {
            var src = leads.Slice(lead * samples + cfg.CropStart, valid);
            var row = output.Slice(lead * length, length);
            if (!scaleIt) src.CopyTo(row);
            else
            {
                int t = 0;
                for (; t <= valid - w; t += w) ((new Vector<float>(src.Slice(t, w)) - vMinB) * vScale).CopyTo(row.Slice(t, w));
                for (; t < valid; t++) row[t] = (src[t] - min) * scale;
            }
            row[valid..].Clear();
        }
        return true;
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
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
    /// Normalises <paramref name="data"/> laid out as rows of <paramref name="rowLength"/>, using and changing only
    /// the first <paramref name="valid"/> samples of each row.
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
                    foreach (float v in data.Slice(l * rowLength, valid))
                    {
                        if (v < min) min = v;
                        if (v > max) max = v;
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
                    double inv = 1.0 / (Math.Sqrt(ss / valid) + 1e-8);
                    for (int t = 0; t < valid; t++) row[t] = (float)((row[t] - mean) * inv);
                }
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown normalisation");
        }
    }

    private static int[] CheckFirstTwelve(int channels, string id) =>
        channels >= PreprocessConfig.Leads ? FirstTwelve : throw new InputFormatException($"record {id}: {channels} channels, need {PreprocessConfig.Leads}");

    private static float[] FloatBuffer(int n)
    {
        if (_physical == null || _physical.Length < n) _physical = new float[Math.Max(n, 12 * 5000)];
        return _physical;
    }

    private static double[] DoubleBuffer(ref double[]? buffer, int n)
    {
        if (buffer == null || buffer.Length < n) buffer = new double[Math.Max(n, 8192)];
        return buffer;
    }
}
