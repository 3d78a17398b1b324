using System.Globalization;
using Deri.IO;

namespace Deri.Signals;

/// <summary>
/// Writes physical values as text, one row per sample and one tab-separated column per channel, each value
/// printed with 8 decimals right-aligned in 15 characters — the layout of WFDB's <c>rdsamp -P</c> (without the
/// sample-number column), which wfdb-python's expected outputs use. Missing samples are written as <c>NaN</c>.
/// </summary>
public static class SignalExport
{
    /// <summary>
    /// Writes samples <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive) of the given
    /// channels; <paramref name="header"/> adds a first row of channel names.
    /// </summary>
    /// <exception cref="ArgumentException">A channel or the sample range is out of bounds.</exception>
    public static void WriteTsv(EcgRecord record, IReadOnlyList<int> channels, int from, int to, TextWriter writer, bool header = true)
    {
        foreach (int c in channels)
            if ((uint)c >= (uint)record.Channels)
                throw new InputValueException($"channel {c} is out of range: record {record.Id} has channels 0–{record.Channels - 1}");
        if (from < 0 || to > record.Samples || from > to)
            throw new InputValueException($"sample range {from}–{to} is outside record {record.Id}'s 0–{record.Samples}");
        if (header)
            writer.Write(string.Join('\t', channels.Select(c => record.Leads[c].PadLeft(15))) + "\n");
        var line = new System.Text.StringBuilder();
        Span<char> buf = stackalloc char[64];
        for (int t = from; t < to; t++)
        {
            line.Clear();
            for (int k = 0; k < channels.Count; k++)
            {
                if (k > 0) line.Append('\t');
                double v = record.Physical(channels[k], t);
                if (double.IsNaN(v))
                {
                    line.Append("NaN".PadLeft(15));
                    continue;
                }
                v.TryFormat(buf, out int written, "F8", CultureInfo.InvariantCulture);
                for (int p = written; p < 15; p++) line.Append(' ');
                line.Append(buf[..written]);
            }
            line.Append('\n');
            writer.Write(line);
        }
    }
}
