using System.Diagnostics;
using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.IO;

namespace Deri.Benchmarks;

/// <summary>A throughput measurement.</summary>
/// <param name="Records">Records handled in the timed part.</param>
/// <param name="Seconds">Wall time of the timed part.</param>
public sealed record Throughput(long Records, double Seconds)
{
    /// <summary>Records per second.</summary>
    public double RecordsPerSecond => Seconds > 0 ? Records / Seconds : 0;
}

/// <summary>Throughput of the data path: raw records → model input, and shuffled batches from a store.</summary>
public static class DataBenchmark
{
    /// <summary>
    /// Preprocesses <paramref name="records"/> (paths <see cref="EcgPreprocessor.ProcessFile"/> accepts) in parallel,
    /// once untimed to warm caches, then in timed passes until <paramref name="minSeconds"/> have passed.
    /// </summary>
    public static Throughput Preprocess(IReadOnlyList<string> records, int workers, double minSeconds, PreprocessConfig? config = null)
    {
        if (records.Count == 0) throw new InputValueException("no records to benchmark");
        var pre = new EcgPreprocessor(config);
        var po = new ParallelOptions { MaxDegreeOfParallelism = workers > 0 ? workers : Environment.ProcessorCount };
        int size = pre.OutputSize;
        // One output per record kept alive, as a loader would hand them on.
        var outputs = new float[records.Count][];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = new float[size];
        Parallel.For(0, records.Count, po, i => pre.ProcessFile(records[i], outputs[i]));
        long done = 0;
        var sw = Stopwatch.StartNew();
        do
        {
            Parallel.For(0, records.Count, po, i => pre.ProcessFile(records[i], outputs[i]));
            done += records.Count;
        }
        while (sw.Elapsed.TotalSeconds < minSeconds);
        return new Throughput(done, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Reads shuffled batches of <paramref name="batchSize"/> from <paramref name="store"/> for at least <paramref name="minSeconds"/>,
    /// each batch copied by <paramref name="parallelism"/> threads.</summary>
    /// <param name="store">The store read.</param>
    /// <param name="batchSize">Records per batch.</param>
    /// <param name="minSeconds">Minimum timed seconds.</param>
    /// <param name="parallelism">Threads copying each batch.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="warmUp">Touch every record once before timing (the store then reads from the page cache); off for
    /// stores larger than memory, where the timing then includes the page faults a training run meets.</param>
    public static Throughput StoreBatches(EcgStore store, int batchSize, double minSeconds, int parallelism = 1, int seed = 0, bool warmUp = true)
    {
        if (store.Count == 0) throw new InputValueException($"store {store.Directory} is empty");
        var rng = new Random(seed);
        var order = Enumerable.Range(0, store.Count).ToArray();
        var buffer = new float[(long)batchSize * store.RecordSize];
        var batch = new int[batchSize];
        // Warm-up: touch every page once so the timing measures reading, not the first page faults of a cold file.
        if (warmUp)
            for (int i = 0; i < store.Count; i++) store.Read(i, buffer.AsSpan(0, store.RecordSize));
        long done = 0;
        int pos = store.Count;
        var sw = Stopwatch.StartNew();
        do
        {
            for (int b = 0; b < batchSize; b++)
            {
                if (pos == order.Length) { rng.Shuffle(order); pos = 0; }
                batch[b] = order[pos++];
            }
            store.ReadBatch(batch, buffer, parallelism);
            done += batchSize;
        }
        while (sw.Elapsed.TotalSeconds < minSeconds);
        return new Throughput(done, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Every WFDB header under <paramref name="directory"/>, sorted.</summary>
    public static IReadOnlyList<string> Headers(string directory)
    {
        if (!Directory.Exists(directory)) throw new InputFileNotFoundException($"records folder not found: {directory}");
        return Directory.EnumerateFiles(directory, "*.hea", SearchOption.AllDirectories).OrderBy(p => p, StringComparer.Ordinal).ToList();
    }

    /// <summary>A label-less dataset of the given record files (ids are file stems, all in train).</summary>
    public static EcgDataset FromFiles(string name, IReadOnlyList<string> records) =>
        new(name, [], records.Select(p => new DatasetEntry(Path.GetFileNameWithoutExtension(p), p, "", [], DataSplits.Train)).ToList(), PreprocessConfig.Default);
}
