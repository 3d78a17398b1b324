using System.CommandLine;
using System.Text.Json;
using Deri.Benchmarks;
using Deri.Data.Store;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench</c>: throughput benchmarks that print one JSON line each.</summary>
public static class BenchCommand
{
    /// <summary>Builds the <c>bench</c> group: data, train, decode, text, embed and serve.</summary>
    public static Command Create() => CommandGroup.Create("bench", "Throughput benchmarks (JSON lines)",
        CreateData(), BenchTrainCommand.Create(), BenchDecodeCommand.Create(), BenchTextCommand.Create(), BenchEmbedCommand.Create(), BenchServeCommand.Create());

    private static Command CreateData()
    {
        var records = new Option<string?>("--records") { Description = "Folder of 500 Hz WFDB records (default: shared/data/ptbxl/records500 found above the working folder)" };
        var store = new Option<string?>("--store") { Description = "Prepared store to read batches from (default: one built from --records in a temporary folder)" };
        var workers = new Option<int>("--workers") { Description = "Parallel workers for preprocessing (0 = all cores)", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Batch size of the store reads", DefaultValueFactory = _ => 32 };
        var seconds = new Option<double>("--seconds") { Description = "Minimum timed seconds per measurement", DefaultValueFactory = _ => 3.0 };
        var sparseGib = new Option<double?>("--sparse-gib")
        {
            Description = "Only the store reads, from a sparse store of at least this many GiB (500 Hz, float16; no disk used where the file system "
                + "keeps holes) made in a temporary folder: the 64-bit offsets at MIMIC-IV-ECG size (~96 GB). Holes read as zero pages, so this measures "
                + "the mapping and copying, not the disk; no warm-up",
        };
        var cold = new Option<bool>("--cold")
        {
            Description = "Drop the store's signal file from the page cache first and read without a warm-up: the rate of a store larger "
                + "than memory, read from the disk (Linux)",
        };
        var cmd = new Command("data", "Records/s of raw WFDB 500 Hz → normalised (12, 5000), and of shuffled batches read from a store") { records, store, workers, batch, seconds, sparseGib, cold };
        cmd.Validators.Add(r =>
        {
            if (r.GetValue(sparseGib) is { } g && !(g > 0)) r.AddError($"--sparse-gib must be a positive number of GiB, got {g}");
            if (r.GetValue(sparseGib) != null && (r.GetValue(store) != null || r.GetValue(records) != null)) r.AddError("--sparse-gib makes its own store: give it without --store and --records");
        });
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            if (result.GetValue(sparseGib) is { } gib) return SparseStoreReads(gib, result.GetValue(batch), result.GetValue(seconds), result.GetValue(workers), stdout);
            string dir = result.GetValue(records) ?? FindShared(Path.Combine("data", "ptbxl", "records500"));
            var files = DataBenchmark.Headers(dir);
            int w = result.GetValue(workers) > 0 ? result.GetValue(workers) : Environment.ProcessorCount;
            double secs = result.GetValue(seconds);
            var pre = DataBenchmark.Preprocess(files, w, secs);
            string? temp = null;
            string storeDir = result.GetValue(store) ?? "";
            if (storeDir.Length == 0)
            {
                temp = Path.Combine(Path.GetTempPath(), "deri-bench-" + Guid.NewGuid().ToString("N"));
                storeDir = Path.Combine(temp, "store");
                EcgStoreBuilder.Build(DataBenchmark.FromFiles("bench", files), storeDir, new StoreBuildOptions { Workers = w });
            }
            try
            {
                bool coldRead = result.GetValue(cold);
                if (coldRead)
                {
                    foreach (string f in new[] { EcgStore.SignalFile(true), EcgStore.SignalFile(false) }.Select(n => Path.Combine(storeDir, n)).Where(File.Exists))
                        if (!PageCache.Evict(f)) stderr.WriteLine($"--cold: the page cache cannot be dropped on this system; {f} may be read from memory");
                }
                using var s = EcgStore.Open(storeDir);
                var read = DataBenchmark.StoreBatches(s, result.GetValue(batch), secs, w, warmUp: !coldRead);
                stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["bench"] = "data",
                    ["records"] = files.Count,
                    ["workers"] = w,
                    ["processors"] = Environment.ProcessorCount,
                    ["preprocess_records_per_s"] = Math.Round(pre.RecordsPerSecond, 1),
                    ["store_batch"] = result.GetValue(batch),
                    ["store_records"] = s.Count,
                    ["store_dtype"] = s.Index.DType,
                    ["store_read_records_per_s"] = Math.Round(read.RecordsPerSecond, 1),
                    ["store_cold"] = coldRead,
                }));
            }
            finally
            {
                if (temp != null) Directory.Delete(temp, recursive: true);
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Store reads from a sparse store of at least <paramref name="gib"/> GiB, made and removed here.</summary>
    private static int SparseStoreReads(double gib, int batch, double seconds, int workers, TextWriter stdout)
    {
        int w = workers > 0 ? workers : Environment.ProcessorCount;
        const int length = 5000;
        long recordBytes = 12L * length * 2;
        long count = (long)Math.Ceiling(gib * (1L << 30) / recordBytes);
        if (count > int.MaxValue) throw new CliUsageException($"--sparse-gib {gib}: {count} records is more than a store indexes");
        string temp = Path.Combine(Path.GetTempPath(), "deri-bench-sparse-" + Guid.NewGuid().ToString("N"));
        try
        {
            SparseStore.Create(temp, (int)count, length, 500, float16: true);
            using var s = EcgStore.Open(temp);
            var read = DataBenchmark.StoreBatches(s, batch, seconds, w, warmUp: false);
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["bench"] = "data",
                ["workers"] = w,
                ["processors"] = Environment.ProcessorCount,
                ["store_sparse"] = true,
                ["store_bytes"] = count * recordBytes,
                ["store_batch"] = batch,
                ["store_records"] = s.Count,
                ["store_dtype"] = s.Index.DType,
                ["store_read_records_per_s"] = Math.Round(read.RecordsPerSecond, 1),
            }));
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return 0;
    }

    /// <summary>A folder under <c>shared/</c> ($DERI_SHARED, else the first <c>shared</c> above the working folder).</summary>
    /// <exception cref="InputFileNotFoundException">None is found.</exception>
    internal static string FindShared(string relative)
    {
        string? env = Environment.GetEnvironmentVariable("DERI_SHARED");
        if (!string.IsNullOrEmpty(env)) return Path.Combine(env, relative);
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d != null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "shared", relative);
            if (Directory.Exists(p)) return p;
        }
        throw new InputFileNotFoundException($"no shared/{relative} above {Directory.GetCurrentDirectory()}; pass --records or set DERI_SHARED");
    }
}
