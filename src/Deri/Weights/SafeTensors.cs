using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Weights;

/// <summary>A safetensors element type, spelled as in the file header.</summary>
public enum SafeTensorDType
{
    /// <summary>32-bit float (<c>F32</c>).</summary>
    F32,
    /// <summary>16-bit IEEE float (<c>F16</c>).</summary>
    F16,
    /// <summary>bfloat16 (<c>BF16</c>).</summary>
    BF16,
    /// <summary>64-bit float (<c>F64</c>).</summary>
    F64,
    /// <summary>64-bit signed integer (<c>I64</c>).</summary>
    I64,
    /// <summary>32-bit signed integer (<c>I32</c>).</summary>
    I32,
    /// <summary>16-bit signed integer (<c>I16</c>).</summary>
    I16,
    /// <summary>8-bit signed integer (<c>I8</c>).</summary>
    I8,
    /// <summary>8-bit unsigned integer (<c>U8</c>).</summary>
    U8,
    /// <summary>Boolean stored as one byte (<c>BOOL</c>).</summary>
    BOOL,
}

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's key.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Shape (empty for a scalar).</param>
/// <param name="Begin">Start of the data, in bytes from the start of the data section.</param>
/// <param name="End">End (exclusive) of the data, in bytes from the start of the data section.</param>
public sealed record SafeTensorEntry(string Name, SafeTensorDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>The parsed header of a safetensors file.</summary>
/// <param name="Path">The file the header was read from.</param>
/// <param name="Entries">Tensor entries, in header order.</param>
/// <param name="Metadata">The optional <c>__metadata__</c> string map (empty when absent).</param>
/// <param name="DataStart">Absolute file offset of the data section (8 + header length).</param>
public sealed record SafeTensorsHeader(string Path, IReadOnlyList<SafeTensorEntry> Entries,
    IReadOnlyDictionary<string, string> Metadata, long DataStart);

/// <summary>A safetensors file that is truncated, corrupt or otherwise unreadable.</summary>
public sealed class SafeTensorsFormatException : Deri.IO.InputException
{
    /// <summary>Creates the exception; the message names the file.</summary>
    public SafeTensorsFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: not a valid safetensors file: {problem}", inner) => FilePath = path;

    /// <summary>The offending file.</summary>
    public string FilePath { get; }
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
/// JSON (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}</c>),
/// then the raw little-endian tensor data. Reading streams each tensor straight from the file
/// into its tensor, so a large checkpoint never sits in memory twice.
/// </summary>
public static class SafeTensors
{
    /// <summary>Largest header accepted (the reference implementation's limit, 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F64 or SafeTensorDType.I64 => 8,
        SafeTensorDType.F32 or SafeTensorDType.I32 => 4,
        SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.I16 => 2,
        _ => 1,
    };

    /// <summary>The TorchSharp scalar type of <paramref name="dtype"/>.</summary>
    public static ScalarType ToScalarType(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => ScalarType.Float32,
        SafeTensorDType.F16 => ScalarType.Float16,
        SafeTensorDType.BF16 => ScalarType.BFloat16,
        SafeTensorDType.F64 => ScalarType.Float64,
        SafeTensorDType.I64 => ScalarType.Int64,
        SafeTensorDType.I32 => ScalarType.Int32,
        SafeTensorDType.I16 => ScalarType.Int16,
        SafeTensorDType.I8 => ScalarType.Int8,
        SafeTensorDType.U8 => ScalarType.Byte,
        SafeTensorDType.BOOL => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>The safetensors dtype of a TorchSharp scalar type.</summary>
    /// <exception cref="NotSupportedException">The type has no safetensors spelling (e.g. complex).</exception>
    public static SafeTensorDType FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Float32 => SafeTensorDType.F32,
        ScalarType.Float16 => SafeTensorDType.F16,
        ScalarType.BFloat16 => SafeTensorDType.BF16,
        ScalarType.Float64 => SafeTensorDType.F64,
        ScalarType.Int64 => SafeTensorDType.I64,
        ScalarType.Int32 => SafeTensorDType.I32,
        ScalarType.Int16 => SafeTensorDType.I16,
        ScalarType.Int8 => SafeTensorDType.I8,
        ScalarType.Byte => SafeTensorDType.U8,
        ScalarType.Bool => SafeTensorDType.BOOL,
        _ => throw new NotSupportedException($"tensors of type {type} cannot be stored as safetensors"),
    };

    /// <summary>Reads and validates the header of <paramref name="path"/> without reading tensor data.</summary>
    /// <exception cref="InputFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SafeTensorsFormatException">The header is truncated, malformed or inconsistent with the file size.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: safetensors file not found", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadHeader(stream, path);
    }

    private static SafeTensorsHeader ReadHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8) throw new SafeTensorsFormatException(path, $"file is {fileLength} bytes, shorter than the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes)
            throw new SafeTensorsFormatException(path, $"header length {headerLength} is out of range (2..{MaxHeaderBytes})");
        if ((long)headerLength > fileLength - 8)
            throw new SafeTensorsFormatException(path, $"truncated: header length {headerLength} exceeds the {fileLength - 8} bytes after the length field");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        JsonObject root;
        try
        {
            // Duplicate names would otherwise surface later as an ArgumentException while enumerating.
            root = JsonNode.Parse(Encoding.UTF8.GetString(headerBytes).TrimEnd(' '), null, new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new SafeTensorsFormatException(path, "header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(path, $"header is not valid JSON ({e.Message})", e);
        }

        var metadata = new Dictionary<string, string>();
        var entries = new List<SafeTensorEntry>();
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject meta) throw new SafeTensorsFormatException(path, "__metadata__ is not an object");
                foreach (var (k, v) in meta)
                {
                    if (v is not JsonValue value || !value.TryGetValue<string>(out var text))
                        throw new SafeTensorsFormatException(path, $"__metadata__ value '{k}' is not a string");
                    metadata[k] = text;
                }
                continue;
            }
            entries.Add(ParseEntry(path, name, node));
        }

        // The data section must be exactly covered by the tensors' ranges, without overlap.
        long expected = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expected)
                throw new SafeTensorsFormatException(path, $"tensor '{e.Name}' starts at {e.Begin}, expected {expected} (gap or overlap in data_offsets)");
            expected = e.End;
        }
        if (expected > dataLength)
            throw new SafeTensorsFormatException(path, $"truncated: tensors need {expected} data bytes but only {dataLength} are present");
        if (expected < dataLength)
            throw new SafeTensorsFormatException(path, $"{dataLength - expected} trailing bytes after the last tensor");
        return new SafeTensorsHeader(path, entries, metadata, dataStart);
    }

    private static SafeTensorEntry ParseEntry(string path, string name, JsonNode? node)
    {
        if (node is not JsonObject obj) throw new SafeTensorsFormatException(path, $"entry '{name}' is not an object");
        string dtypeText = obj["dtype"] is JsonValue dv && dv.TryGetValue<string>(out var s) ? s
            : throw new SafeTensorsFormatException(path, $"entry '{name}' has no string 'dtype'");
        // Enum.TryParse also accepts numbers ("7", "99"); only the dtype names are valid.
        if (!Enum.GetNames<SafeTensorDType>().Contains(dtypeText) || !Enum.TryParse<SafeTensorDType>(dtypeText, ignoreCase: false, out var dtype))
            throw new SafeTensorsFormatException(path, $"entry '{name}' has unsupported dtype '{dtypeText}'");
        long[] shape = obj["shape"] is JsonArray sa ? sa.Select(x => ReadLong(path, name, "shape", x)).ToArray()
            : throw new SafeTensorsFormatException(path, $"entry '{name}' has no 'shape' array");
        if (shape.Any(d => d < 0)) throw new SafeTensorsFormatException(path, $"entry '{name}' has a negative dimension");
        long[] offsets = obj["data_offsets"] is JsonArray oa ? oa.Select(x => ReadLong(path, name, "data_offsets", x)).ToArray()
            : throw new SafeTensorsFormatException(path, $"entry '{name}' has no 'data_offsets' array");
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            throw new SafeTensorsFormatException(path, $"entry '{name}' has invalid data_offsets [{string.Join(", ", offsets)}]");
        var entry = new SafeTensorEntry(name, dtype, shape, offsets[0], offsets[1]);
        long bytes = entry.ElementCount * ElementSize(dtype);
        if (bytes != entry.End - entry.Begin)
            throw new SafeTensorsFormatException(path, $"entry '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes but data_offsets span {entry.End - entry.Begin}");
        return entry;
    }

    private static long ReadLong(string path, string name, string field, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<long>(out var x) ? x
            : throw new SafeTensorsFormatException(path, $"entry '{name}': '{field}' holds a non-integer");

    /// <summary>
    /// Reads every tensor of <paramref name="path"/> onto the CPU, in header order. The caller owns
    /// (and disposes) the returned tensors.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is truncated or corrupt.</exception>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, out _);

    /// <summary>As <see cref="Load(string)"/>, also returning the file's <c>__metadata__</c>.</summary>
    public static Dictionary<string, Tensor> Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: safetensors file not found", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = ReadHeader(stream, path);
        metadata = header.Metadata;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in header.Entries)
            {
                var tensor = torch.empty(entry.Shape, ToScalarType(entry.DType));
                result.Add(entry.Name, tensor);
                if (entry.End == entry.Begin) continue;
                stream.Seek(header.DataStart + entry.Begin, SeekOrigin.Begin);
                var span = tensor.bytes;
                ReadInto(stream, span, path, entry.Name);
                tensor.bytes = span;
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    private static void ReadInto(FileStream stream, Span<byte> span, string path, string name)
    {
        try
        {
            stream.ReadExactly(span);
        }
        catch (EndOfStreamException e)
        {
            throw new SafeTensorsFormatException(path, $"truncated while reading tensor '{name}'", e);
        }
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors data is little-endian; big-endian hosts are not supported");
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, then
    /// rename), keys in ordinal order as the reference writer does, with an optional <c>__metadata__</c>.
    /// Tensors may live on any device; they are copied to the CPU as contiguous data.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (names.Contains("__metadata__")) throw new ArgumentException("'__metadata__' cannot be a tensor name", nameof(tensors));
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var name in names)
        {
            var t = tensors[name];
            var dtype = FromScalarType(t.dtype);
            long bytes = t.numel() * ElementSize(dtype);
            header[name] = new JsonObject
            {
                ["dtype"] = dtype.ToString(),
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode)JsonValue.Create(d)).ToArray()),
                ["data_offsets"] = new JsonArray(JsonValue.Create(offset), JsonValue.Create(offset + bytes)),
            };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces to a multiple of 8 so the data section is aligned.
        int padded = (json.Length + 7) / 8 * 8;
        var headerBytes = new byte[padded];
        json.CopyTo(headerBytes, 0);
        headerBytes.AsSpan(json.Length).Fill((byte)' ');

        Deri.IO.AtomicFile.Write(path, stream =>
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)padded);
            stream.Write(lengthBytes);
            stream.Write(headerBytes);
            foreach (var name in names)
            {
                using var cpu = tensors[name].detach().cpu().contiguous();
                if (cpu.numel() > 0) stream.Write(cpu.bytes);
            }
        });
    }
}
