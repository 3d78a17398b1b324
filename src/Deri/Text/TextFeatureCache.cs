using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Text;

/// <summary>Element type of cached features.</summary>
public enum FeaturePrecision
{
    /// <summary>float16: half the memory, about 3 significant digits.</summary>
    Float16,
    /// <summary>float32: exact copies of the encoder's outputs.</summary>
    Float32,
}

/// <summary>Settings of <see cref="TextFeatureCache"/> and <see cref="TextFeatureStore"/>.</summary>
/// <param name="Precision">Element type of stored rows.</param>
/// <param name="FullHidden">
/// Store all <c>MaxLength</c> hidden rows (exact). When false only the real tokens' rows are kept and
/// the padding positions come back as zeros — the mask marks them, and a consumer that ignores
/// padding sees identical features at a fraction of the memory.
/// </param>
/// <param name="BatchSize">Texts per encoder call when filling the cache.</param>
public sealed record TextFeatureCacheOptions(FeaturePrecision Precision = FeaturePrecision.Float32, bool FullHidden = true, int BatchSize = 64);

/// <summary>One text's features as raw bytes: pooled (H) then hidden (HiddenRows × H).</summary>
internal readonly record struct FeatureRow(byte[] Data, int Tokens, int HiddenRows);

/// <summary>The key of a text: the first 16 bytes of the SHA-256 of its UTF-8 bytes.</summary>
internal readonly record struct TextKey(ulong Hi, ulong Lo)
{
    public static TextKey Of(string text)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return new TextKey(BitConverter.ToUInt64(hash[..8]), BitConverter.ToUInt64(hash[8..16]));
    }
}

/// <summary>Conversion between encoder outputs and <see cref="FeatureRow"/>s, shared by the memory cache and the disk store.</summary>
internal static class FeatureRows
{
    public static int ElementSize(FeaturePrecision p) => p == FeaturePrecision.Float16 ? 2 : 4;

    public static ScalarType Type(FeaturePrecision p) => p == FeaturePrecision.Float16 ? ScalarType.Float16 : ScalarType.Float32;

    /// <summary>Splits a batch of features into one row per text (on the CPU, in <paramref name="precision"/>).</summary>
    public static FeatureRow[] Split(TextFeatures features, FeaturePrecision precision, bool fullHidden)
    {
        using var scope = torch.NewDisposeScope();
        var type = Type(precision);
        var pooled = features.Pooled.detach().to(type).cpu().contiguous();
        var hidden = features.Hidden.detach().to(type).cpu().contiguous();
        var tokens = features.Mask.sum(1).cpu().data<long>().ToArray();
        int b = (int)pooled.shape[0], h = (int)pooled.shape[1], l = (int)hidden.shape[1];
        int es = ElementSize(precision);
        var pooledBytes = pooled.bytes.ToArray();
        var hiddenBytes = hidden.bytes;
        var rows = new FeatureRow[b];
        for (int r = 0; r < b; r++)
        {
            int n = (int)tokens[r];
            int keep = fullHidden ? l : n;
            var data = new byte[(h + keep * h) * es];
            pooledBytes.AsSpan(r * h * es, h * es).CopyTo(data);
            hiddenBytes.Slice(r * l * h * es, keep * h * es).CopyTo(data.AsSpan(h * es));
            rows[r] = new FeatureRow(data, n, keep);
        }
        return rows;
    }

    /// <summary>Assembles rows into float32 features <c>(B, H)</c>, <c>(B, L, H)</c>, <c>(B, L)</c> on <paramref name="device"/>.</summary>
    public static TextFeatures Join(IReadOnlyList<ReadOnlyMemory<byte>> data, IReadOnlyList<(int Tokens, int HiddenRows)> shape,
        int h, int l, FeaturePrecision precision, Device device)
    {
        int b = data.Count, es = ElementSize(precision);
        var pooled = new byte[b * h * es];
        var hidden = new byte[(long)b * l * h * es];
        var mask = new long[b * l];
        for (int r = 0; r < b; r++)
        {
            var row = data[r].Span;
            row[..(h * es)].CopyTo(pooled.AsSpan(r * h * es));
            row.Slice(h * es, shape[r].HiddenRows * h * es).CopyTo(hidden.AsSpan(r * l * h * es));
            mask.AsSpan(r * l, shape[r].Tokens).Fill(1);
        }
        using var scope = torch.NewDisposeScope();
        var type = Type(precision);
        var p = torch.empty(new long[] { b, h }, type);
        p.bytes = pooled;
        var hd = torch.empty(new long[] { b, l, h }, type);
        hd.bytes = hidden;
        var m = torch.tensor(mask, new long[] { b, l }, ScalarType.Int64);
        return new TextFeatures(p.to(ScalarType.Float32, device).MoveToOuterDisposeScope(),
            hd.to(ScalarType.Float32, device).MoveToOuterDisposeScope(), m.to(device).MoveToOuterDisposeScope());
    }
}

/// <summary>
/// In-memory cache of a frozen text encoder's outputs. A report's features depend only on its text,
/// so each distinct text is encoded once (in batches of <see cref="TextFeatureCacheOptions.BatchSize"/>)
/// and every later request is served from memory — or, when a <see cref="TextFeatureStore"/> is
/// given, from that precomputed file first.
/// </summary>
public sealed class TextFeatureCache : ITextFeatureSource
{
    private readonly ITextFeatureSource source;
    private readonly TextFeatureStore? store;
    private readonly TextFeatureCacheOptions options;
    private readonly Dictionary<TextKey, FeatureRow> rows = new();
    private readonly Lock gate = new();

    /// <summary>
    /// Caches <paramref name="source"/>, which must not be a trainable encoder. With a
    /// <paramref name="store"/>, texts found there are read from it and the cache uses the store's precision.
    /// </summary>
    /// <exception cref="ArgumentException">The source is a <see cref="TextEncoder"/> that is not frozen (its outputs change as it trains).</exception>
    public TextFeatureCache(ITextFeatureSource source, TextFeatureCacheOptions? options = null, TextFeatureStore? store = null)
    {
        if (source is TextEncoder { Frozen: false })
            throw new ArgumentException("a trainable text encoder cannot be cached: its features change at every step", nameof(source));
        // Rows read from the store keep its element type, so the cache adopts it.
        this.options = options ?? new TextFeatureCacheOptions();
        if (store is not null) this.options = this.options with { Precision = store.Precision };
        if (this.options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), this.options.BatchSize, "BatchSize must be positive");
        if (store is not null && (store.OutputDim != source.OutputDim || store.MaxLength != source.MaxLength))
            throw new InputFormatException($"{store.Path}: store holds H={store.OutputDim}, L={store.MaxLength} but the encoder gives H={source.OutputDim}, L={source.MaxLength}");
        if (store is not null && !string.Equals(store.Identity, source.Identity, StringComparison.Ordinal))
            throw new InputFormatException($"{store.Path}: store was made by another encoder ({store.Identity}) than this one ({source.Identity}); rebuild it with `deri text cache`");
        this.source = source;
        this.store = store;
    }

    /// <inheritdoc/>
    public int OutputDim => source.OutputDim;

    /// <inheritdoc/>
    public int MaxLength => source.MaxLength;

    /// <inheritdoc/>
    public string Identity => source.Identity;

    /// <summary>Distinct texts held in memory.</summary>
    public int Count
    {
        get { lock (gate) return rows.Count; }
    }

    /// <summary>Texts the underlying encoder has been asked to encode so far.</summary>
    public long Encoded { get; private set; }

    /// <summary>Features of <paramref name="texts"/> as float32 on <paramref name="device"/>, encoding only texts never seen.</summary>
    public TextFeatures Encode(IReadOnlyList<string> texts, Device device)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("no texts to encode", nameof(texts));
        var keys = texts.Select(TextKey.Of).ToArray();
        var data = new ReadOnlyMemory<byte>[texts.Count];
        var shape = new (int, int)[texts.Count];
        lock (gate)
        {
            var missing = new List<(TextKey Key, string Text)>();
            var pending = new HashSet<TextKey>();
            for (int i = 0; i < texts.Count; i++)
            {
                if (rows.ContainsKey(keys[i]) || pending.Contains(keys[i])) continue;
                if (store is not null && store.TryGetRow(keys[i], out var stored))
                {
                    rows[keys[i]] = stored;
                    continue;
                }
                pending.Add(keys[i]);
                missing.Add((keys[i], texts[i]));
            }
            for (int start = 0; start < missing.Count; start += options.BatchSize)
            {
                var chunk = missing.Skip(start).Take(options.BatchSize).ToList();
                using var features = source.Encode(chunk.Select(c => c.Text).ToList(), device);
                var split = FeatureRows.Split(features, options.Precision, options.FullHidden);
                for (int i = 0; i < chunk.Count; i++) rows[chunk[i].Key] = split[i];
                Encoded += chunk.Count;
            }
            for (int i = 0; i < texts.Count; i++)
            {
                var row = rows[keys[i]];
                data[i] = row.Data;
                shape[i] = (row.Tokens, row.HiddenRows);
            }
        }
        var precision = options.Precision;
        return FeatureRows.Join(data, shape, OutputDim, MaxLength, precision, device);
    }
}

/// <summary>
/// A file of precomputed text features for a large corpus, memory-mapped for reading. Layout
/// (little-endian): a 64-byte header (<c>DERITXF2</c>, H, L, element size, flags, count, index
/// offset, identity length), the encoder's <see cref="ITextFeatureSource.Identity"/> (UTF-8), the rows (pooled H values, then the stored hidden rows × H), then an index of
/// (16-byte text key, row offset, real tokens, stored hidden rows) entries.
/// </summary>
public sealed class TextFeatureStore : IDisposable
{
    private static readonly byte[] Magic = "DERITXF2"u8.ToArray();
    private static readonly byte[] OldMagic = "DERITXF1"u8.ToArray();
    private const int HeaderBytes = 64;
    private const int IndexEntryBytes = 32;

    private readonly MemoryMappedFile file;
    private readonly MemoryMappedViewAccessor view;
    private readonly Dictionary<TextKey, (long Offset, int Tokens, int HiddenRows)> index;
    private readonly FeaturePrecision precision;

    private TextFeatureStore(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, int h, int l,
        FeaturePrecision precision, Dictionary<TextKey, (long, int, int)> index, string identity)
    {
        Path = path;
        Identity = identity;
        this.file = file;
        this.view = view;
        OutputDim = h;
        MaxLength = l;
        this.precision = precision;
        this.index = index;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>H of the stored features.</summary>
    public int OutputDim { get; }

    /// <summary>The identity of the encoder that computed the features (<see cref="ITextFeatureSource.Identity"/>).</summary>
    public string Identity { get; }

    /// <summary>L of the stored features.</summary>
    public int MaxLength { get; }

    /// <summary>Distinct texts stored.</summary>
    public int Count => index.Count;

    /// <summary>Whether <paramref name="text"/> is stored.</summary>
    public bool Contains(string text) => index.ContainsKey(TextKey.Of(text));

    /// <summary>
    /// Encodes every distinct text of <paramref name="texts"/> with <paramref name="source"/> (in batches
    /// on <paramref name="device"/>) and writes the store to <paramref name="path"/> atomically.
    /// Returns the number of distinct texts written.
    /// </summary>
    public static int Build(string path, IEnumerable<string> texts, ITextFeatureSource source, Device device, TextFeatureCacheOptions? options = null)
    {
        options ??= new TextFeatureCacheOptions();
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be positive");
        var seen = new HashSet<TextKey>();
        var distinct = new List<(TextKey Key, string Text)>();
        foreach (var t in texts)
        {
            var key = TextKey.Of(t);
            if (seen.Add(key)) distinct.Add((key, t));
        }
        int h = source.OutputDim, l = source.MaxLength, es = FeatureRows.ElementSize(options.Precision);
        var entries = new List<(TextKey Key, long Offset, int Tokens, int HiddenRows)>(distinct.Count);
        IO.AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(new byte[HeaderBytes]);
            var identity = Encoding.UTF8.GetBytes(source.Identity);
            writer.Write(identity);
            for (int start = 0; start < distinct.Count; start += options.BatchSize)
            {
                var chunk = distinct.Skip(start).Take(options.BatchSize).ToList();
                using var features = source.Encode(chunk.Select(c => c.Text).ToList(), device);
                var rows = FeatureRows.Split(features, options.Precision, options.FullHidden);
                for (int i = 0; i < chunk.Count; i++)
                {
                    entries.Add((chunk[i].Key, stream.Position, rows[i].Tokens, rows[i].HiddenRows));
                    writer.Write(rows[i].Data);
                }
            }
            long indexOffset = stream.Position;
            foreach (var e in entries)
            {
                writer.Write(e.Key.Hi);
                writer.Write(e.Key.Lo);
                writer.Write(e.Offset);
                writer.Write(e.Tokens);
                writer.Write(e.HiddenRows);
            }
            writer.Flush();
            stream.Position = 0;
            writer.Write(Magic);
            writer.Write(h);
            writer.Write(l);
            writer.Write(es);
            writer.Write(options.FullHidden ? 1 : 0);
            writer.Write((long)entries.Count);
            writer.Write(indexOffset);
            writer.Write(identity.Length);
        });
        return entries.Count;
    }

    /// <summary>Opens a store written by <see cref="Build"/>.</summary>
    /// <exception cref="InputFormatException">The file is not a feature store, or is truncated or inconsistent.</exception>
    public static TextFeatureStore Open(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: feature store not found", path);
        long length = new FileInfo(path).Length;
        if (length < HeaderBytes) throw new InputFormatException($"{path}: not a text feature store (only {length} bytes)");
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        try
        {
            var magic = new byte[8];
            view.ReadArray(0, magic, 0, 8);
            if (magic.AsSpan().SequenceEqual(OldMagic))
                throw new InputFormatException($"{path}: a feature store from an older Deri that did not record which encoder made it; rebuild it with `deri text cache`");
            if (!magic.AsSpan().SequenceEqual(Magic)) throw new InputFormatException($"{path}: not a text feature store (bad magic)");
            int h = view.ReadInt32(8), l = view.ReadInt32(12), es = view.ReadInt32(16);
            long count = view.ReadInt64(24), indexOffset = view.ReadInt64(32);
            int identityLength = view.ReadInt32(40);
            if (identityLength < 0 || HeaderBytes + (long)identityLength > length)
                throw new InputFormatException($"{path}: corrupt header (identity of {identityLength} bytes)");
            var identityBytes = new byte[identityLength];
            view.ReadArray(HeaderBytes, identityBytes, 0, identityLength);
            long rowsStart = HeaderBytes + identityLength;
            if (h <= 0 || l <= 0 || es is not (2 or 4) || count < 0)
                throw new InputFormatException($"{path}: corrupt header (H={h}, L={l}, element size {es}, count {count})");
            if (indexOffset < rowsStart || indexOffset + count * IndexEntryBytes != length)
                throw new InputFormatException($"{path}: truncated or corrupt: index at {indexOffset} with {count} entries does not end at the file's {length} bytes");
            var index = new Dictionary<TextKey, (long, int, int)>((int)count);
            for (long i = 0; i < count; i++)
            {
                long at = indexOffset + i * IndexEntryBytes;
                var key = new TextKey(view.ReadUInt64(at), view.ReadUInt64(at + 8));
                long offset = view.ReadInt64(at + 16);
                int tokens = view.ReadInt32(at + 24), rows = view.ReadInt32(at + 28);
                long bytes = (long)(h + rows * h) * es;
                if (offset < rowsStart || offset + bytes > indexOffset || tokens < 1 || tokens > l || rows < 0 || rows > l)
                    throw new InputFormatException($"{path}: corrupt index entry {i} (offset {offset}, tokens {tokens}, rows {rows})");
                index[key] = (offset, tokens, rows);
            }
            return new TextFeatureStore(path, file, view, h, l, es == 2 ? FeaturePrecision.Float16 : FeaturePrecision.Float32, index,
                Encoding.UTF8.GetString(identityBytes));
        }
        catch
        {
            view.Dispose();
            file.Dispose();
            throw;
        }
    }

    internal bool TryGetRow(TextKey key, out FeatureRow row)
    {
        if (!index.TryGetValue(key, out var e))
        {
            row = default;
            return false;
        }
        row = new FeatureRow(ReadBytes(e.Offset, e.HiddenRows), e.Tokens, e.HiddenRows);
        return true;
    }

    /// <summary>Element type of the stored rows.</summary>
    public FeaturePrecision Precision => precision;

    private byte[] ReadBytes(long offset, int hiddenRows)
    {
        int es = FeatureRows.ElementSize(precision);
        var data = new byte[(OutputDim + hiddenRows * OutputDim) * es];
        view.ReadArray(offset, data, 0, data.Length);
        return data;
    }

    /// <summary>Features of <paramref name="texts"/> as float32 on <paramref name="device"/>.</summary>
    /// <exception cref="InputFormatException">A text is not in the store (the message gives its position and start).</exception>
    public TextFeatures Read(IReadOnlyList<string> texts, Device device)
    {
        var data = new ReadOnlyMemory<byte>[texts.Count];
        var shape = new (int, int)[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            if (!index.TryGetValue(TextKey.Of(texts[i]), out var e))
                throw new InputFormatException($"{Path}: text {i} is not in the store: \"{Truncate(texts[i])}\"");
            data[i] = ReadBytes(e.Offset, e.HiddenRows);
            shape[i] = (e.Tokens, e.HiddenRows);
        }
        return FeatureRows.Join(data, shape, OutputDim, MaxLength, precision, device);
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";

    /// <inheritdoc/>
    public void Dispose()
    {
        view.Dispose();
        file.Dispose();
    }
}
