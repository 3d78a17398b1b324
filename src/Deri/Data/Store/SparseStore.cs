using System.Runtime.InteropServices;
using System.Text.Json;
using Deri.Data.Datasets;
using Deri.IO;

namespace Deri.Data.Store;

/// <summary>
/// Stores of any size that cost no disk: an index of label-less entries and a signal file extended with
/// <see cref="FileStream.SetLength"/>, which file systems with sparse files (ext4, xfs, btrfs, tmpfs) keep as a hole
/// that reads as zeros. For tests and benchmarks of the 64-bit offsets (a MIMIC-IV-ECG store at 500 Hz is ~96 GB in
/// float16); a few records can be written at chosen places so that values are checked.
/// </summary>
public static class SparseStore
{
    /// <summary>Dataset name written into the index of a sparse store.</summary>
    public const string DatasetName = "sparse";

    /// <summary>
    /// Creates a store of <paramref name="count"/> records of <c>12 × length</c> values in <paramref name="directory"/>
    /// (ids <c>0 … count−1</c>, all in train, no report or labels) whose signals are all zero and not allocated.
    /// </summary>
    /// <exception cref="IOException">The folder is not empty, or it is on a file system without sparse files (FAT, exFAT).</exception>
    public static void Create(string directory, int count, int length = 5000, int rate = 500, bool float16 = false)
    {
        if (count <= 0) throw new ArgumentException($"a sparse store needs at least one record, got {count}");
        if (length <= 0) throw new ArgumentException($"record length must be positive, got {length}");
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new OutputPathException($"{directory} is not empty; a sparse store is made in a new folder");
        Directory.CreateDirectory(directory);
        long bytes = (long)count * PreprocessingLeads * length * (float16 ? 2 : 4);
        // Where holes are not supported SetLength writes zeros: refuse the FAT family rather than fill the disk.
        string format = new DriveInfo(Path.GetFullPath(directory)).DriveFormat;
        if (NoHoles.Contains(format, StringComparer.OrdinalIgnoreCase))
            throw new OutputPathException($"{directory}: the {format} file system has no sparse files; the store would take {bytes} bytes of disk");
        using (var f = new FileStream(Path.Combine(directory, EcgStore.SignalFile(float16)), FileMode.CreateNew, FileAccess.Write))
            f.SetLength(bytes);
        var entries = new StoreEntry[count];
        for (int i = 0; i < count; i++) entries[i] = new StoreEntry(i.ToString(System.Globalization.CultureInfo.InvariantCulture), DataSplits.Train, "", []);
        var index = new StoreIndex
        {
            Dataset = DatasetName,
            DType = float16 ? "float16" : "float32",
            Leads = PreprocessingLeads,
            Length = length,
            SamplingRate = rate,
            Preprocess = new Preprocessing.PreprocessConfig { TargetRate = rate, TargetLength = length },
            Fingerprint = DatasetName,
            Entries = entries,
        };
        AtomicFile.Write(Path.Combine(directory, EcgStore.IndexFile), s => JsonSerializer.Serialize(s, index));
    }

    /// <summary>Writes record <paramref name="record"/> (<c>12 · length</c> values) of the store in <paramref name="directory"/> at its 64-bit offset.</summary>
    public static void WriteRecord(string directory, int record, ReadOnlySpan<float> values)
    {
        StoreIndex index;
        using (var s = File.OpenRead(Path.Combine(directory, EcgStore.IndexFile)))
            index = JsonSerializer.Deserialize<StoreIndex>(s) ?? throw new InputFormatException($"{directory}: empty index");
        int n = index.Leads * index.Length;
        if (values.Length != n) throw new ArgumentException($"a record of {directory} has {n} values, got {values.Length}");
        if ((uint)record >= (uint)index.Entries.Count) throw new ArgumentOutOfRangeException(nameof(record), record, $"{directory} has {index.Entries.Count} records");
        bool half = index.DType == "float16";
        using var f = new FileStream(Path.Combine(directory, EcgStore.SignalFile(half)), FileMode.Open, FileAccess.Write);
        f.Position = (long)record * n * (half ? 2 : 4);
        if (!half)
        {
            f.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        var h = new Half[n];
        for (int k = 0; k < n; k++) h[k] = (Half)values[k];
        f.Write(MemoryMarshal.AsBytes(h.AsSpan()));
    }

    private static readonly string[] NoHoles = ["vfat", "msdos", "fat", "fat32", "exfat"];

    private const int PreprocessingLeads = Preprocessing.PreprocessConfig.Leads;
}
