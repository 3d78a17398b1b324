using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Deri.Signals;

/// <summary>
/// The MAT v4 matrix header of a WFDB <c>.mat</c> signal file (CinC challenges, <c>wfdb2mat</c>): five little-endian
/// int32 (type code <c>MOPT</c>, rows, columns, imaginary flag, name length) and the NUL-terminated name, followed
/// by the matrix <c>val</c> of signals × samples stored column-major, i.e. frame after frame, so the WFDB header's
/// byte offset skips exactly the matrix header and the name. Validated as strictly as a MAT v5 file: every field
/// must be a legal value, agree with the WFDB header, and agree with the file's length.
/// </summary>
internal static class MatV4
{
    private const int HeaderBytes = 20;
    private const int MaxNameLength = 64;

    /// <summary>Checks the matrix header of a WFDB <c>.mat</c> signal file against the WFDB header's view of it.</summary>
    /// <param name="handle">The open file.</param>
    /// <param name="length">The file's length in bytes.</param>
    /// <param name="first">The first signal stored in the file (format and byte offset).</param>
    /// <param name="signals">Signals the WFDB header stores in this file (the matrix's rows).</param>
    /// <param name="samples">Samples per signal the WFDB header declares, if it does.</param>
    /// <param name="file">The file, for messages.</param>
    /// <exception cref="EcgFormatException">The header is not a valid MAT v4 matrix header or disagrees with the WFDB header or the file length.</exception>
    public static void CheckWfdbMatrix(SafeFileHandle handle, long length, WfdbSignalSpec first, int signals, long? samples, string file)
    {
        if (length < HeaderBytes) throw new EcgFormatException(file, $"MAT v4 signal file has {length} bytes, fewer than the {HeaderBytes}-byte matrix header");
        Span<byte> h = stackalloc byte[HeaderBytes];
        WfdbReader.ReadExactly(handle, h, 0, file, "the MAT v4 matrix header");
        if (MatV5.IsMatV5(h[..10])) throw new EcgFormatException(file, "is a MAT v5 file; WFDB .mat signal files are MAT v4 matrices (wfdb2mat layout)");
        int type = BinaryPrimitives.ReadInt32LittleEndian(h);
        int rows = BinaryPrimitives.ReadInt32LittleEndian(h[4..]);
        int cols = BinaryPrimitives.ReadInt32LittleEndian(h[8..]);
        int imaginary = BinaryPrimitives.ReadInt32LittleEndian(h[12..]);
        int nameLength = BinaryPrimitives.ReadInt32LittleEndian(h[16..]);

        int elementBytes = ElementBytes(type, file);
        int formatBytes = first.Format switch { 16 or 61 or 160 => 2, 8 or 80 => 1, 32 => 4, _ => 0 };
        if (formatBytes == 0)
            throw new EcgFormatException(file, $"signal format {first.Format} cannot be stored in a MAT v4 matrix (formats 8, 16, 32, 61, 80 and 160 can)");
        if (elementBytes != formatBytes)
            throw new EcgFormatException(file, $"MAT v4 matrix holds {elementBytes}-byte values (type {type}) but signal format {first.Format} stores {formatBytes}-byte samples");
        if (imaginary != 0) throw new EcgFormatException(file, $"MAT v4 matrix has an imaginary part (flag {imaginary}); ECG samples are real");
        if (nameLength < 1 || nameLength > MaxNameLength)
            throw new EcgFormatException(file, $"MAT v4 matrix name length {nameLength} is outside 1–{MaxNameLength}");
        if (HeaderBytes + (long)nameLength != first.ByteOffset)
            throw new EcgFormatException(file, $"MAT v4 matrix data starts at byte {HeaderBytes + nameLength} but the WFDB header's byte offset is {first.ByteOffset}");
        if (length < HeaderBytes + nameLength) throw new EcgFormatException(file, $"MAT v4 matrix name ends past the end of the file ({length} bytes)");
        Span<byte> name = stackalloc byte[nameLength];
        WfdbReader.ReadExactly(handle, name, HeaderBytes, file, "the MAT v4 matrix header");
        if (name[^1] != 0 || name[..^1].IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0)
            throw new EcgFormatException(file, "MAT v4 matrix name is not a NUL-terminated printable ASCII name");
        if (rows != signals)
            throw new EcgFormatException(file, $"MAT v4 matrix has {rows} rows but the header stores {signals} signal(s) in this file");
        if (cols < 0) throw new EcgFormatException(file, $"MAT v4 matrix has a negative column count {cols}");
        if (samples is long n && cols < n)
            throw new EcgFormatException(file, $"MAT v4 matrix has {cols} columns (samples) but the header declares {n} samples (truncated file)");
        long dataBytes = (long)rows * cols * elementBytes;
        long expected = HeaderBytes + nameLength + dataBytes;
        if (expected != length)
            throw new EcgFormatException(file,
                $"MAT v4 matrix of {rows}×{cols} {elementBytes}-byte values needs {expected} bytes in all, but the file has {length} bytes");
    }

    /// <summary>Bytes per value of a full numeric little-endian matrix with type code <paramref name="type"/> (<c>MOPT</c>).</summary>
    private static int ElementBytes(int type, string file)
    {
        // M: 0 little-endian IEEE, 1 big-endian, 2–4 VAX/Cray; O: always 0; P: value type; T: 0 numeric, 1 text, 2 sparse.
        int m = type / 1000, o = type / 100 % 10, p = type / 10 % 10, t = type % 10;
        if (type < 0 || m > 4 || o != 0 || p > 5 || t > 2)
            throw new EcgFormatException(file, $"MAT v4 matrix type {type} is not a valid MOPT code (not a MAT v4 file, or a damaged one)");
        if (m != 0) throw new EcgFormatException(file, $"MAT v4 matrix type {type} is not little-endian IEEE (M = {m}); only M = 0 is supported");
        if (t != 0) throw new EcgFormatException(file, $"MAT v4 matrix type {type} is a {(t == 1 ? "text" : "sparse")} matrix, not a full numeric one");
        return p switch { 0 => 8, 1 => 4, 2 => 4, 3 => 2, 4 => 2, _ => 1 };
    }
}
