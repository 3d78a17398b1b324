namespace Deri.Signals;

/// <summary>Summary statistics of one channel in physical units, over its non-missing samples.</summary>
/// <param name="Lead">Channel name.</param>
/// <param name="Units">Physical units.</param>
/// <param name="Min">Smallest value (NaN when every sample is missing).</param>
/// <param name="Max">Largest value.</param>
/// <param name="Mean">Mean.</param>
/// <param name="Std">Population standard deviation.</param>
/// <param name="Missing">Number of missing samples.</param>
/// <param name="ChecksumOk">Whether the stored samples match the header's checksum; null when none is declared.</param>
public sealed record ChannelStatistics(string Lead, string Units, double Min, double Max, double Mean, double Std, int Missing, bool? ChecksumOk);

/// <summary>Per-channel statistics of a record, as <c>deri data inspect</c> prints them.</summary>
public static class SignalStatistics
{
    /// <summary>Statistics of every channel of <paramref name="record"/>.</summary>
    public static IReadOnlyList<ChannelStatistics> Compute(EcgRecord record)
    {
        var result = new ChannelStatistics[record.Channels];
        for (int c = 0; c < record.Channels; c++)
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, sumSq = 0;
            int n = 0, missing = 0;
            for (int t = 0; t < record.Samples; t++)
            {
                double v = record.Physical(c, t);
                if (double.IsNaN(v))
                {
                    missing++;
                    continue;
                }
                n++;
                sum += v;
                sumSq += v * v;
                if (v < min) min = v;
                if (v > max) max = v;
            }
            double mean = n > 0 ? sum / n : double.NaN;
            double var = n > 0 ? Math.Max(0, sumSq / n - mean * mean) : double.NaN;
            result[c] = new ChannelStatistics(record.Leads[c], record.Units[c], n > 0 ? min : double.NaN, n > 0 ? max : double.NaN,
                mean, Math.Sqrt(var), missing, record.ChecksumMatches(c));
        }
        return result;
    }
}
