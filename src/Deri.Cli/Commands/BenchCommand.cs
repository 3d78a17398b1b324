using System.CommandLine;
using System.Text.Json;
using Deri.Benchmarks;
using Deri.Data.Store;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench</c>: throughput benchmarks that print one JSON line each.</summary>
public static class BenchCommand
{
    /// <summary>Builds the <c>bench</c> group: data, train, decode, text and serve.</summary>
    public static Command Create() => CommandGroup.Create("bench", "Throughput benchmarks (JSON lines)",
        CreateData(), BenchTrainCommand.Create(), BenchDecodeCommand.Create(), BenchTextCommand.Create(), BenchServeCommand.Create());

    private static Command CreateData()
    {
        var records = new Option<string?>("--records") { Description = "Folder of 500 Hz WFDB records (default: shared/data/ptbxl/records500 found above the working folder)" };
        var store = new Option<string?>("--store") { Description = "Prepared store to read batches from (default: one built from --records in a temporary folder)" };
        var workers = new Option<int>("--workers") { Description = "Parallel workers for preprocessing (0 = all cores)", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Batch size of the store reads", DefaultValueFactory = _ => 32 };
        var seconds = new Option<double>("--seconds") { Description = "Minimum timed seconds per measurement", DefaultValueFactory = _ => 3.0 };
        var cmd = new Command("data", "Records/s of raw WFDB 500 Hz → normalised (12, 5000), and of shuffled batches read from a store") { records, store, workers, batch, seconds };
        cmd.SetAction(result =>
        {
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
                using var s = EcgStore.Open(storeDir);
                var read = DataBenchmark.StoreBatches(s, result.GetValue(batch), secs, w);
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
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

    /// <summary>A folder under <c>shared/</c> ($DERI_SHARED, else the first <c>shared</c> above the working folder).</summary>
    /// <exception cref="DirectoryNotFoundException">None is found.</exception>
    internal static string FindShared(string relative)
    {
        string? env = Environment.GetEnvironmentVariable("DERI_SHARED");
        if (!string.IsNullOrEmpty(env)) return Path.Combine(env, relative);
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d != null; d = d.Parent)
        {
            string p = Path.Combine(d.FullName, "shared", relative);
            if (Directory.Exists(p)) return p;
        }
        throw new DirectoryNotFoundException($"no shared/{relative} above {Directory.GetCurrentDirectory()}; pass --records or set DERI_SHARED");
    }
}
