using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Deri.Signals;

/// <summary>
/// Sample encodings of WFDB signal files. All of them store the samples of one file as one stream,
/// frame after frame, each frame holding the samples of every signal of the file in header order.
/// </summary>
public static class WfdbFormats
{
    /// <summary>The value a format reserves for a missing sample (WFDB's "invalid" value); null when it has none.</summary>
    public static int? InvalidValue(int format) => format switch
    {
        80 => -128,
        16 or 61 or 160 => -32768,
        24 => -8388608,
        32 => int.MinValue,
        212 => -2048,
        310 or 311 => -512,
        _ => null,
    };

    /// <summary>Number of whole samples that <paramref name="bytes"/> bytes of <paramref name="format"/> hold.</summary>
    public static long SamplesIn(int format, long bytes) => format switch
    {
        8 or 80 => bytes,
        16 or 61 or 160 => bytes / 2,
        24 => bytes / 3,
        32 => bytes / 4,
        // Two 12-bit samples in three bytes; a trailing pair of bytes still holds the first of a pair.
        212 => bytes / 3 * 2 + (bytes % 3 == 2 ? 1 : 0),
        // Three 10-bit samples in four bytes; partial groups hold the samples whose bits are all present.
        310 => bytes / 4 * 3 + (bytes % 4 >= 2 ? 1 : 0),
        311 => bytes / 4 * 3 + (bytes % 4 >= 2 ? bytes % 4 - 1 : 0),
        _ => 0,
    };

    /// <summary>Bytes needed to hold the first <paramref name="samples"/> samples.</summary>
    public static long BytesFor(int format, long samples) => format switch
    {
        8 or 80 => samples,
        16 or 61 or 160 => samples * 2,
        24 => samples * 3,
        32 => samples * 4,
        212 => samples / 2 * 3 + (samples % 2 == 1 ? 2 : 0),
        310 => samples / 3 * 4 + (samples % 3 == 1 ? 2 : samples % 3 == 2 ? 4 : 0),
        311 => samples / 3 * 4 + (samples % 3 == 0 ? 0 : samples % 3 + 1),
        _ => 0,
    };

    /// <summary>
    /// Decodes the first <c>destination.Length</c> samples of a stream. Values are the stored sample values
    /// (offset formats 80 and 160 already re-centred at zero); format 8 yields the raw 8-bit first differences,
    /// which the caller integrates per signal. <paramref name="source"/> must hold at least
    /// <see cref="BytesFor"/> bytes.
    /// </summary>
    public static void Decode(int format, ReadOnlySpan<byte> source, Span<int> destination)
    {
        int n = destination.Length;
        if (source.Length < BytesFor(format, n))
            throw new ArgumentException($"{source.Length} bytes hold fewer than {n} samples of format {format}", nameof(source));
        switch (format)
        {
            case 8:
                for (int i = 0; i < n; i++) destination[i] = (sbyte)source[i];
                break;
            case 80:
                for (int i = 0; i < n; i++) destination[i] = source[i] - 128;
                break;
            case 16 when BitConverter.IsLittleEndian:
                {
                    var s = MemoryMarshal.Cast<byte, short>(source[..(2 * n)]);
                    for (int i = 0; i < n; i++) destination[i] = s[i];
                    break;
                }
            case 16:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]);
                break;
            case 61:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt16BigEndian(source[(2 * i)..]);
                break;
            case 160:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) - 32768;
                break;
            case 24:
                for (int i = 0; i < n; i++)
                {
                    int j = 3 * i;
                    destination[i] = (source[j] | source[j + 1] << 8 | source[j + 2] << 16) << 8 >> 8;
                }
                break;
            case 32:
                for (int i = 0; i < n; i++) destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]);
                break;
            case 212:
                for (int i = 0; i < n; i++)
                {
                    int j = i / 2 * 3;
                    int v = (i & 1) == 0
                        ? source[j] | (source[j + 1] & 0x0F) << 8
                        : source[j + 2] | (source[j + 1] & 0xF0) << 4;
                    destination[i] = v << 20 >> 20;
                }
                break;
            case 310:
                for (int i = 0; i < n; i++)
                {
                    int j = i / 3 * 4;
                    int v = (i % 3) switch
                    {
                        0 => source[j] >> 1 | (source[j + 1] & 0x07) << 7,
                        1 => source[j + 2] >> 1 | (source[j + 3] & 0x07) << 7,
                        _ => (source[j + 1] >> 3 & 0x1F) | (source[j + 3] >> 3 & 0x1F) << 5,
                    };
                    destination[i] = v << 22 >> 22;
                }
                break;
            case 311:
                for (int i = 0; i < n; i++)
                {
                    int j = i / 3 * 4;
                    int v = (i % 3) switch
                    {
                        0 => source[j] | (source[j + 1] & 0x03) << 8,
                        1 => source[j + 1] >> 2 | (source[j + 2] & 0x0F) << 6,
                        _ => source[j + 2] >> 4 | (source[j + 3] & 0x3F) << 4,
                    };
                    destination[i] = v << 22 >> 22;
                }
                break;
            default:
                throw new ArgumentException($"unknown WFDB signal format {format}", nameof(format));
        }
    }
}
