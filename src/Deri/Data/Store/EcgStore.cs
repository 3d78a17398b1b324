using System.IO.MemoryMappedFiles;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Data.Store;

/// <summary>One record of a store's index.</summary>
/// <param name="Id">Record identifier.</param>
/// <param name="Split"><c>train</c>, <c>val</c> or <c>test</c>.</param>
/// <param name="Report">Report text.</param>
/// <param name="Labels">0/1 per class of <see cref="StoreIndex.LabelNames"/>.</param>
/// <param name="Patient">The patient the record belongs to when the dataset says (e.g. PTB-XL's <c>patient_id</c>); null otherwise.</param>
public sealed record StoreEntry(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("split")] string Split,
    [property: JsonPropertyName("report")] string Report,
    [property: JsonPropertyName("labels")] float[] Labels,
    [property: JsonPropertyName("patient"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Patient = null);

/// <summary>The index file (<c>index.json</c>) of a store: shape, data type, label names, preprocessing and the entries in signal order.</summary>
public sealed record StoreIndex
{
    /// <summary>Format tag.</summary>
    [JsonPropertyName("format")] public string Format { get; init; } = EcgStore.FormatTag;

    /// <summary>Format version.</summary>
    [JsonPropertyName("version")] public int Version { get; init; } = 1;

    /// <summary>Dataset the store was prepared from.</summary>
    [JsonPropertyName("dataset")] public string Dataset { get; init; } = "";

    /// <summary><c>float32</c> or <c>float16</c>.</summary>
    [JsonPropertyName("dtype")] public string DType { get; init; } = "float32";

    /// <summary>Leads per record (12).</summary>
    [JsonPropertyName("leads")] public int Leads { get; init; } = 12;

    /// <summary>Samples per lead (5000).</summary>
    [JsonPropertyName("length")] public int Length { get; init; } = 5000;

    /// <summary>Sampling rate of the stored signals in Hz.</summary>
    [JsonPropertyName("sampling_rate")] public int SamplingRate { get; init; } = 500;

    /// <summary>Lead names in stored order.</summary>
    [JsonPropertyName("lead_names")] public IReadOnlyList<string> LeadNames { get; init; } = [];

    /// <summary>Class names of the label vectors.</summary>
    [JsonPropertyName("label_names")] public IReadOnlyList<string> LabelNames { get; init; } = [];

    /// <summary>The preprocessing that produced the signals.</summary>
    [JsonPropertyName("preprocess")] public Deri.Data.Preprocessing.PreprocessConfig Preprocess { get; init; } = new();

    /// <summary>Hash of the inputs and settings the store was built from (dataset entries, preprocessing, data type).</summary>
    [JsonPropertyName("fingerprint")] public string Fingerprint { get; init; } = "";

    /// <summary>Records whose signal could not be prepared (listed in <c>bad_records.csv</c>).</summary>
    [JsonPropertyName("bad_records")] public int BadRecords { get; init; }

    /// <summary>Metadata rows left out when listing the dataset (listed in <c>skipped.csv</c>).</summary>
    [JsonPropertyName("skipped")] public int Skipped { get; init; }

    /// <summary>Entries in signal-file order.</summary>
    [JsonPropertyName("entries")] public IReadOnlyList<StoreEntry> Entries { get; init; } = [];
}

/// <summary>
/// A prepared dataset on disk, read through a memory map: <c>signals.f32</c> (or <c>signals.f16</c>) holds
/// <c>(N, 12, 5000)</c> values contiguously, <c>index.json</c> the ids, splits, reports and labels. Reads never load
/// the whole file; batches are gathered straight from the mapped pages. Thread-safe for reading.
/// </summary>
public sealed unsafe class EcgStore : IDisposable
{
    /// <summary>Format tag written into <c>index.json</c>.</summary>
    public const string FormatTag = "deri-ecg-store";

    /// <summary>Index file name.</summary>
    public const string IndexFile = "index.json";

    /// <summary>Bad-record list file name.</summary>
    public const string BadRecordsFile = "bad_records.csv";

    /// <summary>Skipped metadata rows file name.</summary>
    public const string SkippedFile = "skipped.csv";

    /// <summary>Records stored without a report (<c>id,path</c>): usable by ECG-only jobs, refused by report-based training.</summary>
    public const string NoReportFile = "no_report.csv";

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private bool _disposed;

    /// <summary>The store's folder.</summary>
    public string Directory { get; }

    /// <summary>The parsed index.</summary>
    public StoreIndex Index { get; }

    /// <summary>Number of records.</summary>
    public int Count => Index.Entries.Count;

    /// <summary>Values per record (<c>leads × length</c>).</summary>
    public int RecordSize => Index.Leads * Index.Length;

    /// <summary>Whether the signals are stored as float16.</summary>
    public bool IsFloat16 => Index.DType == "float16";

    /// <summary>Class names.</summary>
    public IReadOnlyList<string> LabelNames => Index.LabelNames;

    /// <summary>Entries in signal order.</summary>
    public IReadOnlyList<StoreEntry> Entries => Index.Entries;

    /// <summary>Name of the signal file for a data type (<c>signals.f32</c> / <c>signals.f16</c>).</summary>
    public static string SignalFile(bool float16) => float16 ? "signals.f16" : "signals.f32";

    /// <summary>Whether <paramref name="directory"/> holds a finished store.</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, IndexFile));

    private EcgStore(string directory, StoreIndex index)
    {
        Directory = directory;
        Index = index;
        string file = Path.Combine(directory, SignalFile(IsFloat16));
        if (!File.Exists(file)) throw new InputFormatException($"{directory}: signal file {Path.GetFileName(file)} missing");
        long expected = (long)Count * RecordSize * (IsFloat16 ? 2 : 4);
        long actual = new FileInfo(file).Length;
        if (actual != expected)
            throw new InputFormatException($"{file}: {actual} bytes, the index describes {Count} records × {Index.Leads} × {Index.Length} {Index.DType} = {expected} bytes");
        if (expected == 0) return;
        _map = MemoryMappedFile.CreateFromFile(file, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    /// <summary>Opens the store in <paramref name="directory"/>.</summary>
    /// <exception cref="InputFileNotFoundException">There is no <c>index.json</c>.</exception>
    /// <exception cref="InputFormatException">The index is malformed or disagrees with the signal file.</exception>
    public static EcgStore Open(string directory)
    {
        string indexPath = Path.Combine(directory, IndexFile);
        if (!File.Exists(indexPath)) throw new InputFileNotFoundException($"not a prepared ECG store (no {IndexFile}): {directory}", indexPath);
        StoreIndex? index;
        try
        {
            using var s = File.OpenRead(indexPath);
            index = JsonSerializer.Deserialize<StoreIndex>(s);
        }
        catch (JsonException ex)
        {
            throw new InputFormatException($"{indexPath}: malformed index: {ex.Message}", ex);
        }
        if (index == null || index.Format != FormatTag) throw new InputFormatException($"{indexPath}: not a {FormatTag} index");
        if (index.DType is not ("float32" or "float16")) throw new InputFormatException($"{indexPath}: unknown dtype '{index.DType}'");
        foreach (var e in index.Entries)
            if (e.Labels.Length != index.LabelNames.Count)
                throw new InputFormatException($"{indexPath}: entry {e.Id} has {e.Labels.Length} labels, the index names {index.LabelNames.Count}");
        return new EcgStore(directory, index);
    }

    /// <summary>Indices (signal order) of the entries of one split.</summary>
    public int[] IndicesOf(string split) =>
        Enumerable.Range(0, Count).Where(i => Index.Entries[i].Split == split).ToArray();

    /// <summary>The float32 signal of record <paramref name="index"/>, <c>(12 · 5000)</c>, as a view of the mapped file (no copy).</summary>
    /// <exception cref="NotSupportedException">The store is float16 (use <see cref="Read"/>).</exception>
    public ReadOnlySpan<float> Signal(int index)
    {
        CheckIndex(index);
        if (IsFloat16) throw new NotSupportedException($"{Directory}: float16 store; use Read to convert");
        return new ReadOnlySpan<float>(_base + (long)index * RecordSize * 4, RecordSize);
    }

    /// <summary>Copies record <paramref name="index"/> into <paramref name="destination"/> (<see cref="RecordSize"/> floats).</summary>
    public void Read(int index, Span<float> destination)
    {
        CheckIndex(index);
        int n = RecordSize;
        if (destination.Length < n) throw new ArgumentException($"destination holds {destination.Length} floats, a record has {n}", nameof(destination));
        if (!IsFloat16)
        {
            new ReadOnlySpan<float>(_base + (long)index * n * 4, n).CopyTo(destination);
            return;
        }
        var src = new ReadOnlySpan<Half>(_base + (long)index * n * 2, n);
        for (int i = 0; i < n; i++) destination[i] = (float)src[i];
    }

    /// <summary>Gathers the records at <paramref name="indices"/> into <paramref name="destination"/>, laid out <c>(B, 12, 5000)</c>.</summary>
    /// <param name="indices">Record indices (any order, repeats allowed).</param>
    /// <param name="destination">At least <c>B · RecordSize</c> floats.</param>
    /// <param name="parallelism">Threads copying records at once (1 = the calling thread only); the copy is bound by memory bandwidth.</param>
    public void ReadBatch(ReadOnlySpan<int> indices, Span<float> destination, int parallelism = 1)
    {
        int n = RecordSize;
        if (destination.Length < (long)indices.Length * n)
            throw new ArgumentException($"destination holds {destination.Length} floats, {indices.Length} records need {(long)indices.Length * n}", nameof(destination));
        foreach (int i in indices) CheckIndex(i);
        if (parallelism <= 1 || indices.Length < 2)
        {
            for (int b = 0; b < indices.Length; b++) Read(indices[b], destination.Slice(b * n, n));
            return;
        }
        int[] idx = indices.ToArray();
        fixed (float* dst = destination)
        {
            nint d = (nint)dst;
            Parallel.For(0, idx.Length, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
                b => Read(idx[b], new Span<float>((float*)d + (long)b * n, n)));
        }
    }

    /// <summary>A new float32 tensor <c>(B, 12, 5000)</c> with the records at <paramref name="indices"/>, gathered from the
    /// mapped file straight into the tensor's memory, then moved to <paramref name="device"/> when one is given.</summary>
    public Tensor ReadTensor(ReadOnlySpan<int> indices, Device? device = null, int parallelism = 1)
    {
        // The tensor's memory is filled through one Span<byte>, so a batch is limited to 2 GiB (8,947 records at 500 Hz);
        // records are addressed with 64-bit offsets, so the store's size is not limited.
        long bytes = (long)indices.Length * RecordSize * sizeof(float);
        if (bytes > int.MaxValue)
            throw new ArgumentException($"a batch of {indices.Length} records is {bytes} bytes; one tensor read is limited to 2 GiB ({int.MaxValue / ((long)RecordSize * sizeof(float))} records)", nameof(indices));
        var t = torch.empty([indices.Length, Index.Leads, Index.Length], ScalarType.Float32);
        ReadBatch(indices, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.bytes), parallelism);
        if (device == null || device.type == DeviceType.CPU) return t;
        using (t) return t.to(device);
    }

    /// <summary>A new float32 tensor <c>(B, C)</c> with the labels of the records at <paramref name="indices"/>.</summary>
    public Tensor LabelTensor(ReadOnlySpan<int> indices)
    {
        int c = LabelNames.Count;
        var buffer = new float[indices.Length * c];
        for (int b = 0; b < indices.Length; b++)
        {
            CheckIndex(indices[b]);
            Index.Entries[indices[b]].Labels.CopyTo(buffer, b * c);
        }
        return torch.tensor(buffer, [indices.Length, c], ScalarType.Float32);
    }

    private void CheckIndex(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"store {Directory} has {Count} records");
    }

    /// <summary>Releases the memory map.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
