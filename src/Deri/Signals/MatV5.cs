using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Deri.Signals;

/// <summary>A MATLAB array read from a MAT v5 file; dimensions in MATLAB order (column-major data).</summary>
internal abstract record MatValue(int[] Dims)
{
    public long Count => Dims.Aggregate(1L, (a, d) => a * d);
}

/// <summary>A numeric array, converted to double whatever its stored type (real part only).</summary>
internal sealed record MatNumeric(int[] Dims, double[] Real) : MatValue(Dims);

/// <summary>A char array as one string (column-major characters).</summary>
internal sealed record MatChar(int[] Dims, string Text) : MatValue(Dims);

/// <summary>A struct array: one field dictionary per element.</summary>
internal sealed record MatStruct(int[] Dims, IReadOnlyList<string> FieldNames, IReadOnlyDictionary<string, MatValue>[] Elements) : MatValue(Dims);

/// <summary>A cell array.</summary>
internal sealed record MatCell(int[] Dims, MatValue[] Items) : MatValue(Dims);

/// <summary>
/// A reader for the parts of the MAT v5 format that ECG files use: top-level variables, possibly
/// zlib-compressed (miCOMPRESSED), holding numeric, char, struct and cell arrays. Little-endian files only.
/// </summary>
internal static class MatV5
{
    private const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7, MiDouble = 9,
        MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15, MiUtf8 = 16, MiUtf16 = 17, MiUtf32 = 18;

    /// <summary>Whether the bytes start like a MAT v5 file (text header beginning with <c>MATLAB 5.0</c>).</summary>
    public static bool IsMatV5(ReadOnlySpan<byte> start) =>
        start.Length >= 10 && start[..10].SequenceEqual("MATLAB 5.0"u8);

    /// <summary>Reads all top-level variables; compressed elements may inflate to <paramref name="maxInflated"/> bytes in all.</summary>
    public static Dictionary<string, MatValue> Read(byte[] file, string path, long maxInflated = long.MaxValue)
    {
        long inflatedTotal = 0;
        if (file.Length == 0) throw new EcgFormatException(path, "file is empty");
        if (file.Length < 128 || !IsMatV5(file)) throw new EcgFormatException(path, "not a MAT v5 file (no 'MATLAB 5.0' header)");
        if (file[126] == 'M' && file[127] == 'I') throw new EcgFormatException(path, "big-endian MAT v5 files are not supported");
        if (file[126] != 'I' || file[127] != 'M') throw new EcgFormatException(path, "MAT v5 header has no endian indicator");
        var vars = new Dictionary<string, MatValue>(StringComparer.Ordinal);
        int pos = 128;
        try
        {
            while (pos + 8 <= file.Length)
            {
                var (type, size, dataStart, next) = Tag(file, pos, path);
                if (type == MiCompressed)
                {
                    byte[] inflated;
                    using (var z = new ZLibStream(new MemoryStream(file, dataStart, size), CompressionMode.Decompress))
                    using (var ms = new MemoryStream())
                    {
                        // Count what is inflated and stop at the limit: a few kB can inflate to gigabytes.
                        var chunk = new byte[81920];
                        for (int read; (read = z.Read(chunk, 0, chunk.Length)) > 0;)
                        {
                            inflatedTotal += read;
                            if (inflatedTotal > maxInflated)
                                throw new EcgFormatException(path, $"compressed MAT v5 data inflate to more than {maxInflated} bytes");
                            ms.Write(chunk, 0, read);
                        }
                        inflated = ms.ToArray();
                    }
                    // Compressed elements are not padded to 8 bytes.
                    next = dataStart + size;
                    int ip = 0;
                    while (ip + 8 <= inflated.Length)
                    {
                        var (t2, s2, d2, n2) = Tag(inflated, ip, path);
                        if (t2 == MiMatrix && s2 > 0)
                        {
                            var (name, value) = Matrix(inflated, d2, s2, path);
                            vars[name] = value;
                        }
                        ip = n2;
                    }
                }
                else if (type == MiMatrix && size > 0)
                {
                    var (name, value) = Matrix(file, dataStart, size, path);
                    vars[name] = value;
                }
                pos = next;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // Inflating from memory: any I/O error (ZLibException included) is corrupt compressed data.
            throw new EcgFormatException(path, $"corrupt compressed data: {e.Message}", e);
        }
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or OutOfMemoryException)
        {
            // Garbage that happens to inflate (or an inconsistent uncompressed file) ends up here.
            throw new EcgFormatException(path, $"malformed MAT v5 data: {e.Message}", e);
        }
        return vars;
    }

    /// <summary>Reads a data element tag at <paramref name="pos"/>: type, byte size, data start and the next element's position.</summary>
    private static (int Type, int Size, int Data, int Next) Tag(byte[] b, int pos, string path)
    {
        if (pos + 8 > b.Length) throw new EcgFormatException(path, $"MAT v5 data element at byte {pos} is truncated");
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
        if (first >> 16 != 0)
        {
            // Small data element: type and size share the first 4 bytes, data sits in the next 4.
            return ((int)(first & 0xFFFF), (int)(first >> 16), pos + 4, pos + 8);
        }
        int type = (int)first;
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos + 4));
        long end = pos + 8L + size;
        if (end > b.Length) throw new EcgFormatException(path, $"MAT v5 data element at byte {pos} declares {size} bytes but only {b.Length - pos - 8} remain (truncated file)");
        long next = type == MiCompressed ? end : pos + 8L + (size + 7) / 8 * 8;
        return (type, (int)size, pos + 8, (int)Math.Min(next, b.Length));
    }

    private static (string Name, MatValue Value) Matrix(byte[] b, int start, int size, string path)
    {
        int pos = start;
        var (ft, _, fd, fn) = Tag(b, pos, path);
        if (ft != MiUInt32) throw new EcgFormatException(path, "MAT v5 array has no array flags");
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(fd));
        int cls = (int)(flags & 0xFF);
        pos = fn;
        var (dt, ds, dd, dn) = Tag(b, pos, path);
        if (dt != MiInt32) throw new EcgFormatException(path, "MAT v5 array has no dimensions");
        var dims = new int[ds / 4];
        for (int i = 0; i < dims.Length; i++) dims[i] = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(dd + 4 * i));
        pos = dn;
        var (_, ns, nd, nn) = Tag(b, pos, path);
        string name = Encoding.ASCII.GetString(b, nd, ns);
        pos = nn;
        long count = 1;
        foreach (int d in dims)
        {
            if (d < 0) throw new EcgFormatException(path, $"MAT v5 array '{name}' has negative dimension {d}");
            count *= d;
            if (count > size) throw new EcgFormatException(path, $"MAT v5 array '{name}' declares {string.Join('×', dims)} elements, more than its {size} bytes can hold");
        }
        switch (cls)
        {
            case 2: // struct
                {
                    var (_, _, ld, ln) = Tag(b, pos, path);
                    int fieldLen = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(ld));
                    pos = ln;
                    var (_, nsz, namesData, namesNext) = Tag(b, pos, path);
                    var names = new List<string>();
                    for (int i = 0; fieldLen > 0 && i + fieldLen <= nsz; i += fieldLen)
                        names.Add(Encoding.ASCII.GetString(b, namesData + i, fieldLen).TrimEnd('\0'));
                    pos = namesNext;
                    var elements = new Dictionary<string, MatValue>[count];
                    for (long e = 0; e < count; e++)
                    {
                        var fields = new Dictionary<string, MatValue>(StringComparer.Ordinal);
                        foreach (string f in names)
                        {
                            var (mt, ms, md, mn) = Tag(b, pos, path);
                            if (mt != MiMatrix) throw new EcgFormatException(path, $"MAT v5 struct field '{f}' is not an array");
                            fields[f] = ms == 0 ? new MatNumeric([0, 0], []) : Matrix(b, md, ms, path).Value;
                            pos = mn;
                        }
                        elements[e] = fields;
                    }
                    return (name, new MatStruct(dims, names, elements));
                }
            case 1: // cell
                {
                    var items = new MatValue[count];
                    for (long e = 0; e < count; e++)
                    {
                        var (mt, ms, md, mn) = Tag(b, pos, path);
                        if (mt != MiMatrix) throw new EcgFormatException(path, "MAT v5 cell element is not an array");
                        items[e] = ms == 0 ? new MatNumeric([0, 0], []) : Matrix(b, md, ms, path).Value;
                        pos = mn;
                    }
                    return (name, new MatCell(dims, items));
                }
            case 4: // char
                {
                    var (ct, cs, cd, _) = Tag(b, pos, path);
                    string text = ct switch
                    {
                        MiUtf8 or MiInt8 or MiUInt8 => Encoding.UTF8.GetString(b, cd, cs),
                        MiUInt16 or MiUtf16 => Encoding.Unicode.GetString(b, cd, cs),
                        MiUtf32 => Encoding.UTF32.GetString(b, cd, cs),
                        _ => throw new EcgFormatException(path, $"MAT v5 char array '{name}' stored as unsupported type {ct}"),
                    };
                    return (name, new MatChar(dims, text));
                }
            case >= 6 and <= 15: // double, single, int8 … uint64
                {
                    var (rt, rs, rd, _) = Tag(b, pos, path);
                    var real = Numbers(b.AsSpan(rd, rs), rt, name, path);
                    if (real.Length != count)
                        throw new EcgFormatException(path, $"MAT v5 array '{name}' declares {string.Join('×', dims)} = {count} values but stores {real.Length}");
                    return (name, new MatNumeric(dims, real));
                }
            default:
                throw new EcgFormatException(path, $"MAT v5 array '{name}' has unsupported class {cls} (sparse, object or function handle)");
        }
    }

    private static double[] Numbers(ReadOnlySpan<byte> d, int type, string name, string path)
    {
        double[] o;
        switch (type)
        {
            case MiDouble:
                o = new double[d.Length / 8];
                if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, double>(d[..(o.Length * 8)]).CopyTo(o);
                else for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadDoubleLittleEndian(d[(8 * i)..]);
                return o;
            case MiSingle:
                o = new double[d.Length / 4];
                for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadSingleLittleEndian(d[(4 * i)..]);
                return o;
            case MiInt8:
                o = new double[d.Length];
                for (int i = 0; i < o.Length; i++) o[i] = (sbyte)d[i];
                return o;
            case MiUInt8:
                o = new double[d.Length];
                for (int i = 0; i < o.Length; i++) o[i] = d[i];
                return o;
            case MiInt16:
                o = new double[d.Length / 2];
                for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadInt16LittleEndian(d[(2 * i)..]);
                return o;
            case MiUInt16:
                o = new double[d.Length / 2];
                for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadUInt16LittleEndian(d[(2 * i)..]);
                return o;
            case MiInt32:
                o = new double[d.Length / 4];
                for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadInt32LittleEndian(d[(4 * i)..]);
                return o;
            case MiUInt32:
                o = new double[d.Length / 4];
                for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadUInt32LittleEndian(d[(4 * i)..]);
                return o;
            case MiInt64:
                o = new double[d.Length / 8];
                for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadInt64LittleEndian(d[(8 * i)..]);
                return o;
            case MiUInt64:
                o = new double[d.Length / 8];
                for (int i = 0; i < o.Length; i++) o[i] = BinaryPrimitives.ReadUInt64LittleEndian(d[(8 * i)..]);
                return o;
            default:
                throw new EcgFormatException(path, $"MAT v5 array '{name}' stores values of unsupported type {type}");
        }
    }
}
