using System.Globalization;

namespace Deri.Signals;

/// <summary>
/// The most a record may declare, checked by the readers against the header's (or matrix's) declared sizes BEFORE any
/// sample array is allocated, so a few hundred bytes of header cannot make a reader reserve gigabytes.
/// <see cref="Default"/> serves the command-line readers (long Holter recordings fit); <c>deri serve</c> passes tighter
/// ones (<c>Deri.Serving.UploadLimits.Record</c>). New readers take the same record.
/// </summary>
public sealed record RecordLimits
{
    /// <summary>The command-line default: 4,096 signals, 500 million samples in all (2 GB as 32-bit ints), rates up to 1 MHz, any duration.</summary>
    public static RecordLimits Default { get; } = new();

    /// <summary>Most signals (channels) in one record.</summary>
    public int MaxSignals { get; init; } = 4096;

    /// <summary>Most samples of all signals together (signals × samples per signal, samples per frame counted).</summary>
    public long MaxTotalSamples { get; init; } = 500_000_000;

    /// <summary>Highest sampling rate (Hz).</summary>
    public double MaxSamplingRate { get; init; } = 1_000_000;

    /// <summary>Longest record (s); infinity for no bound.</summary>
    public double MaxSeconds { get; init; } = double.PositiveInfinity;

    /// <summary>Most bytes a compressed part of a file (a MAT v5 miCOMPRESSED element) may inflate to.</summary>
    public long MaxInflatedBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>
    /// Checks declared sizes: <paramref name="signals"/> channels holding <paramref name="samplesPerSignal"/> samples each
    /// (null when the header does not say; then only the signal count and rate are checked) at <paramref name="rate"/> Hz,
    /// with <paramref name="samplesPerFrame"/> samples of all signals per frame (≥ <paramref name="signals"/>).
    /// </summary>
    /// <exception cref="EcgFormatException">A declared size is beyond its limit; the message names <paramref name="file"/>, the size and the limit.</exception>
    public void Check(string file, int signals, long? samplesPerSignal, double rate, long samplesPerFrame = -1)
    {
        if (signals > MaxSignals)
            throw new EcgFormatException(file, $"declares {signals} signals; at most {MaxSignals} are read");
        if (!(rate <= MaxSamplingRate))
            throw new EcgFormatException(file, $"declares a sampling rate of {Num(rate)} Hz; at most {Num(MaxSamplingRate)} Hz is read");
        if (samplesPerSignal is not long n) return;
        if (n < 0) throw new EcgFormatException(file, $"declares {n} samples per signal");
        double seconds = rate > 0 ? n / rate : 0;
        if (seconds > MaxSeconds)
            throw new EcgFormatException(file, $"declares {n} samples at {Num(rate)} Hz ({Num(seconds)} s); records longer than {Num(MaxSeconds)} s are not read");
        long perFrame = Math.Max(samplesPerFrame, signals);
        // Divide rather than multiply so that huge declared counts cannot overflow the product.
        if (perFrame > 0 && n > MaxTotalSamples / perFrame)
            throw new EcgFormatException(file, $"declares {n} samples × {perFrame} per frame, more than the {MaxTotalSamples} samples a record may hold");
    }

    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
