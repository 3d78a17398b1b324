using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Deri.Data.Preprocessing;
using Deri.IO;

namespace Deri.Retrieval;

/// <summary>One indexed ECG–report pair.</summary>
/// <param name="Id">Record identifier in the store.</param>
/// <param name="Split">Its split in the store.</param>
/// <param name="Report">The report text.</param>
/// <param name="Labels">Its positive classes, in the store's label order.</param>
public sealed record IndexEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("split")] string Split,
    [property: JsonPropertyName("report")] string Report,
    [property: JsonPropertyName("labels")] IReadOnlyList<string> Labels);

/// <summary>The manifest (<c>index.json</c>) of a retrieval index: where the vectors came from, their width and the entries in row order.</summary>
public sealed record IndexManifest
{
    /// <summary>Format tag.</summary>
    [JsonPropertyName("format")] public string Format { get; init; } = RetrievalIndex.FormatTag;

    /// <summary>Format version.</summary>
    [JsonPropertyName("version")] public int Version { get; init; } = 1;

    /// <summary>The run folder whose model embedded the pairs.</summary>
    [JsonPropertyName("run")] public string Run { get; init; } = "";

    /// <summary>The checkpoint whose weights were used.</summary>
    [JsonPropertyName("checkpoint")] public string Checkpoint { get; init; } = "";

    /// <summary>The run's <c>network.method</c> (deri or merl).</summary>
    [JsonPropertyName("method")] public string Method { get; init; } = "";

    /// <summary>The store the pairs were read from.</summary>
    [JsonPropertyName("store")] public string Store { get; init; } = "";

    /// <summary>The store split indexed (<c>all</c> for every record).</summary>
    [JsonPropertyName("split")] public string Split { get; init; } = "";

    /// <summary>Width D of each vector.</summary>
    [JsonPropertyName("dim")] public int Dim { get; init; }

    /// <summary>The store's sampling rate (Hz) of the indexed signals.</summary>
    [JsonPropertyName("sampling_rate")] public int SamplingRate { get; init; }

    /// <summary>The preprocessing the store applied; a query record goes through the same.</summary>
    [JsonPropertyName("preprocess")] public PreprocessConfig Preprocess { get; init; } = new();

    /// <summary>Ids of store records left out because an embedding was not finite.</summary>
    [JsonPropertyName("skipped")] public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>The pairs, in row order of the vector files.</summary>
    [JsonPropertyName("entries")] public IReadOnlyList<IndexEntry> Entries { get; init; } = [];
}

/// <summary>One search result: the index row and its cosine similarity to the query.</summary>
/// <param name="Row">Row in the index.</param>
/// <param name="Score">Cosine similarity (vectors are unit length, so the dot product).</param>
public readonly record struct SearchHit(int Row, double Score);

/// <summary>Which vectors of the index a query is compared with.</summary>
public enum IndexSide
{
    /// <summary>The ECG embeddings (the zero-shot ECG embedding of each record).</summary>
    Ecg,
    /// <summary>The report embeddings (each report through the text side, as zero-shot encodes prompts).</summary>
    Report,
}

/// <summary>
/// A retrieval index: unit-length ECG and report embeddings of a store's pairs in the aligned space that zero-shot
/// classification uses, with ids, reports and labels. On disk it is one folder: <c>index.json</c> (the manifest),
/// <c>ecg.f32</c> and <c>report.f32</c> (row-major <c>N × D</c> float32, little-endian), mapped into memory on load.
/// Search is exact (a dot product with every row): at tens of thousands of rows that takes milliseconds; an approximate
/// index (HNSW, IVF-PQ) pays off only from about a million rows on.
/// </summary>
public sealed unsafe class RetrievalIndex : IDisposable
{
    /// <summary>Format tag of <c>index.json</c>.</summary>
    public const string FormatTag = "deri-retrieval-index";

    /// <summary>The manifest file name.</summary>
    public const string ManifestFile = "index.json";

    /// <summary>The ECG vector file name.</summary>
    public const string EcgFile = "ecg.f32";

    /// <summary>The report vector file name.</summary>
    public const string ReportFile = "report.f32";

    private readonly MappedVectors ecg, report;

    private RetrievalIndex(string directory, IndexManifest manifest, MappedVectors ecg, MappedVectors report)
    {
        Directory = directory;
        Manifest = manifest;
        this.ecg = ecg;
        this.report = report;
    }

    /// <summary>The index folder.</summary>
    public string Directory { get; }

    /// <summary>The manifest.</summary>
    public IndexManifest Manifest { get; }

    /// <summary>Number of pairs N.</summary>
    public int Count => Manifest.Entries.Count;

    /// <summary>Vector width D.</summary>
    public int Dim => Manifest.Dim;

    /// <summary>Whether <paramref name="directory"/> holds an index manifest.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, ManifestFile));

    /// <summary>Opens an index folder, mapping its vector files into memory.</summary>
    /// <exception cref="InputFileNotFoundException">No index there.</exception>
    /// <exception cref="InputFormatException">A malformed manifest or a vector file of the wrong size.</exception>
    public static RetrievalIndex Open(string directory)
    {
        string dir = Path.GetFullPath(directory);
        string manifestPath = Path.Combine(dir, ManifestFile);
        if (!File.Exists(manifestPath))
            throw new InputFileNotFoundException($"{dir}: no retrieval index (no {ManifestFile}; make one with `deri index build`)");
        IndexManifest? manifest;
        try
        {
            using var s = File.OpenRead(manifestPath);
            manifest = JsonSerializer.Deserialize<IndexManifest>(s);
        }
        catch (JsonException e)
        {
            throw new InputFormatException($"{manifestPath}: malformed index manifest: {e.Message}", e);
        }
        if (manifest is null || manifest.Format != FormatTag) throw new InputFormatException($"{manifestPath}: not a {FormatTag} manifest");
        if (manifest.Dim <= 0 || manifest.Entries.Count == 0)
            throw new InputFormatException($"{manifestPath}: {manifest.Entries.Count} entries of width {manifest.Dim}");
        long expected = (long)manifest.Entries.Count * manifest.Dim * sizeof(float);
        var e1 = MappedVectors.Open(Path.Combine(dir, EcgFile), expected);
        try
        {
            var e2 = MappedVectors.Open(Path.Combine(dir, ReportFile), expected);
            return new RetrievalIndex(dir, manifest, e1, e2);
        }
        catch
        {
            e1.Dispose();
            throw;
        }
    }

    /// <summary>The unit-length vector of row <paramref name="row"/> on <paramref name="side"/>, <c>(D)</c>.</summary>
    public ReadOnlySpan<float> Vector(IndexSide side, int row)
    {
        if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(row), row, $"the index has {Count} rows");
        var v = side == IndexSide.Ecg ? ecg : report;
        return new ReadOnlySpan<float>(v.Pointer + (long)row * Dim, Dim);
    }

    /// <summary>
    /// The <paramref name="k"/> rows of <paramref name="side"/> most similar to <paramref name="query"/> (a unit-length
    /// <c>(D)</c> vector), best first; <paramref name="exclude"/> leaves one row out (the query's own record).
    /// </summary>
    /// <exception cref="ArgumentException">The query's width is not D, or k is not positive.</exception>
    public IReadOnlyList<SearchHit> Search(ReadOnlySpan<float> query, IndexSide side, int k, int exclude = -1)
    {
        if (query.Length != Dim) throw new ArgumentException($"query has {query.Length} values, the index's vectors {Dim}", nameof(query));
        if (k <= 0) throw new InputValueException($"k must be positive, got {k}");
        var scores = new float[Count];
        Scores(query, side, scores);
        return TopK(scores, k, exclude);
    }

    /// <summary>Cosine similarities <c>(N)</c> of <paramref name="query"/> with every row of <paramref name="side"/>.</summary>
    public void Scores(ReadOnlySpan<float> query, IndexSide side, Span<float> destination)
    {
        var v = side == IndexSide.Ecg ? ecg : report;
        int d = Dim;
        for (int i = 0; i < Count; i++)
        {
            var row = new ReadOnlySpan<float>(v.Pointer + (long)i * d, d);
            destination[i] = Dot(row, query);
        }
    }

    /// <summary>Dot product of two spans of equal length, SIMD-wide.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int w = System.Numerics.Vector<float>.Count, i = 0;
        var acc = System.Numerics.Vector<float>.Zero;
        for (; i <= a.Length - w; i += w)
            acc += new System.Numerics.Vector<float>(a.Slice(i, w)) * new System.Numerics.Vector<float>(b.Slice(i, w));
        float sum = System.Numerics.Vector.Sum(acc);
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Indices of the <paramref name="k"/> largest scores, best first (ties by lower index), skipping <paramref name="exclude"/>.</summary>
    public static IReadOnlyList<SearchHit> TopK(ReadOnlySpan<float> scores, int k, int exclude = -1)
    {
        // A bounded min-heap of (score, -index): O(N log k), no full sort of N scores.
        var heap = new PriorityQueue<int, (float Score, int NegIndex)>();
        for (int i = 0; i < scores.Length; i++)
        {
            if (i == exclude) continue;
            var key = (scores[i], -i);
            if (heap.Count < k) heap.Enqueue(i, key);
            else if (heap.TryPeek(out _, out var min) && key.CompareTo(min) > 0) heap.EnqueueDequeue(i, key);
        }
        var hits = new SearchHit[heap.Count];
        for (int j = hits.Length - 1; j >= 0; j--)
        {
            heap.TryDequeue(out int row, out var key);
            hits[j] = new SearchHit(row, key.Score);
        }
        return hits;
    }

    /// <summary>Unmaps the vector files.</summary>
    public void Dispose()
    {
        ecg.Dispose();
        report.Dispose();
    }

    /// <summary>A read-only memory map of one vector file.</summary>
    private sealed class MappedVectors : IDisposable
    {
        private readonly MemoryMappedFile file;
        private readonly MemoryMappedViewAccessor view;
        private byte* pointer;

        private MappedVectors(MemoryMappedFile file, MemoryMappedViewAccessor view)
        {
            this.file = file;
            this.view = view;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
        }

        public float* Pointer => (float*)pointer;

        public static MappedVectors Open(string path, long expectedBytes)
        {
            if (!File.Exists(path)) throw new InputFormatException($"{path}: vector file of the index is missing");
            long length = new FileInfo(path).Length;
            if (length != expectedBytes)
                throw new InputFormatException($"{path}: {length} bytes, the manifest needs {expectedBytes} (N × D float32)");
            var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            try
            {
                return new MappedVectors(mmf, mmf.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read));
            }
            catch
            {
                mmf.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (pointer != null)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                pointer = null;
            }
            view.Dispose();
            file.Dispose();
        }
    }

    /// <summary>Writes vectors <c>(N × D)</c> as raw little-endian float32.</summary>
    internal static void WriteVectors(Stream stream, ReadOnlySpan<float> values) => stream.Write(MemoryMarshal.AsBytes(values));
}
