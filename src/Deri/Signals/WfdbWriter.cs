using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Deri.IO;

namespace Deri.Signals;

/// <summary>
/// Writes WFDB records in format 16 (interleaved little-endian 16-bit two's complement): a header
/// (<c>.hea</c>) with per-signal gain, baseline, units, ADC resolution, initial value, checksum and lead
/// name, optional comment lines, and the signal file (<c>.dat</c>). Checksums follow the WFDB library: the
/// 16-bit sum of a channel's samples, written as a signed number.
/// </summary>
public static class WfdbWriter
{
    /// <summary>The digital value WFDB format 16 reserves for a missing sample.</summary>
    public const int InvalidSample = -32768;

    /// <summary>
    /// Quantises physical samples to a record: <c>digital = round(value · gain) + baseline</c>, clipped to
    /// [−32767, 32767]; NaN or infinite values become missing samples.
    /// </summary>
    /// <param name="id">Record name (file stem).</param>
    /// <param name="channelMajor">Physical values, channel-major: channel <c>c</c> at <c>[c·samples, (c+1)·samples)</c>.</param>
    /// <param name="leads">Channel names; their count is the number of channels.</param>
    /// <param name="samplingRate">Sampling rate in Hz.</param>
    /// <param name="gain">ADC gain (digital units per physical unit), the same for every channel.</param>
    /// <param name="baseline">Digital value of physical zero.</param>
    /// <param name="units">Physical unit.</param>
    /// <param name="comments">Header comment lines without the leading <c>#</c>.</param>
    /// <exception cref="ArgumentException">The sample count is not a multiple of the channel count, or gain is not positive.</exception>
    public static EcgRecord FromPhysical(string id, ReadOnlySpan<float> channelMajor, IReadOnlyList<string> leads, double samplingRate,
        double gain, int baseline = 0, string units = "mV", IReadOnlyList<string>? comments = null)
    {
        int channels = leads.Count;
        if (channels == 0 || channelMajor.Length % channels != 0)
            throw new ArgumentException($"record {id}: {channelMajor.Length} values cannot be split into {channels} channels");
        if (!(gain > 0)) throw new ArgumentException($"record {id}: gain must be positive, got {gain}");
        int n = channelMajor.Length / channels;
        var digital = new int[channels][];
        for (int c = 0; c < channels; c++)
        {
            var d = digital[c] = new int[n];
            var src = channelMajor.Slice(c * n, n);
            for (int t = 0; t < n; t++)
            {
                float v = src[t];
                if (!float.IsFinite(v)) { d[t] = int.MinValue; continue; }
                double q = Math.Round(v * gain, MidpointRounding.AwayFromZero) + baseline;
                d[t] = q > 32767 ? 32767 : q < -32767 ? -32767 : (int)q;
            }
        }
        return new EcgRecord
        {
            Id = id, SamplingRate = samplingRate, Leads = leads.ToArray(), Digital = digital,
            Gain = Enumerable.Repeat(gain, channels).ToArray(), Baseline = Enumerable.Repeat(baseline, channels).ToArray(),
            Units = Enumerable.Repeat(units, channels).ToArray(), Comments = comments ?? [],
        };
    }

    /// <summary>The format-16 bytes of a record: samples interleaved by channel, 2 bytes each, little-endian.</summary>
    /// <exception cref="ArgumentException">A value does not fit in 16 bits or channels differ in length.</exception>
    public static byte[] EncodeFormat16(EcgRecord record)
    {
        int channels = record.Channels, n = record.Samples;
        var bytes = new byte[2 * channels * n];
        // Interleave as 16-bit words; the byte order is fixed to little-endian below.
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(bytes.AsSpan());
        for (int c = 0; c < channels; c++)
        {
            var d = record.Digital[c];
            if (d.Length != n) throw new ArgumentException($"record {record.Id}: channel {record.Leads[c]} has {d.Length} samples, expected {n}");
            for (int t = 0, k = c; t < n; t++, k += channels)
            {
                int v = d[t] == int.MinValue ? InvalidSample : d[t];
                if (v < short.MinValue || v > short.MaxValue)
                    throw new InputValueException($"record {record.Id}: sample {t} of channel {record.Leads[c]} is {v}, outside format 16's range");
                words[k] = (short)v;
            }
        }
        if (!BitConverter.IsLittleEndian)
            for (int k = 0; k < words.Length; k++) words[k] = BinaryPrimitives.ReverseEndianness(words[k]);
        return bytes;
    }

    /// <summary>WFDB checksum of a channel: the sum of its samples modulo 2¹⁶, as a signed 16-bit value.</summary>
    public static short Checksum(ReadOnlySpan<int> samples)
    {
        int sum = 0;
        foreach (int s in samples) sum = unchecked(sum + (s == int.MinValue ? InvalidSample : s));
        return unchecked((short)sum);
    }

    /// <summary>The header text of a record whose signals are in <c>{Id}.dat</c>.</summary>
    /// <param name="record">The record.</param>
    /// <param name="baseTime">Optional base date and time written on the record line.</param>
    public static string Header(EcgRecord record, DateTime? baseTime = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"{record.Id} {record.Channels} {record.SamplingRate.ToString("0.######", inv)} {record.Samples}");
        if (baseTime is { } bt) sb.Append(inv, $" {bt:HH:mm:ss} {bt:dd/MM/yyyy}");
        sb.Append('\n');
        for (int c = 0; c < record.Channels; c++)
        {
            var d = record.Digital[c];
            int init = d.Length == 0 ? 0 : d[0] == int.MinValue ? InvalidSample : d[0];
            string gain = record.Gain[c].ToString("0.0##########", inv);
            string lead = record.Leads[c];
            if (lead.Any(char.IsWhiteSpace)) throw new InputValueException($"record {record.Id}: lead name '{lead}' contains white space");
            sb.Append(inv, $"{record.Id}.dat 16 {gain}({record.Baseline[c]})/{record.Units[c]} 16 0 {init} {Checksum(d)} 0 {lead}\n");
        }
        foreach (string line in record.Comments)
        {
            if (line.Contains('\n') || line.Contains('\r')) throw new InputValueException($"record {record.Id}: comment lines must not contain line breaks");
            sb.Append('#').Append(line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Writes <c>{Id}.hea</c> and <c>{Id}.dat</c> into <paramref name="directory"/> (created if needed). With
    /// <paramref name="atomic"/> each file is written through <see cref="Deri.IO.AtomicFile"/>, so a reader never sees
    /// a partial file; bulk writers that already write into a temporary folder can turn this off.
    /// </summary>
    public static void Write(string directory, EcgRecord record, DateTime? baseTime = null, bool atomic = true)
    {
        Directory.CreateDirectory(directory);
        WriteFile(Path.Combine(directory, record.Id + ".dat"), EncodeFormat16(record), atomic);
        WriteFile(Path.Combine(directory, record.Id + ".hea"), Encoding.ASCII.GetBytes(Header(record, baseTime)), atomic);
    }

    private static void WriteFile(string path, byte[] bytes, bool atomic)
    {
        if (atomic) AtomicFile.WriteAllBytes(path, bytes);
        else File.WriteAllBytes(path, bytes);
    }
}
