using System.CommandLine;
using System.Text.Json;
using Deri.Server;
using Deri.Serving;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench serve</c>: load benchmark of the HTTP service, one JSON line per concurrency level.</summary>
internal static class BenchServeCommand
{
    /// <summary>Builds the <c>serve</c> command (placed under <c>bench</c>).</summary>
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "DERI or MERL run folder to serve", Required = true };
        var checkpoint = DownstreamOptions.Checkpoint();
        var reportModel = new Option<string?>("--report-model") { Description = "Report-generation run: each answer then includes a generated report" };
        var index = new Option<string?>("--index") { Description = "Retrieval index: each answer then includes similar cases" };
        var store = new Option<string?>("--store") { Description = "Store whose preprocessing and validation thresholds to use (default as deri serve)" };
        var record = OptionRules.StringList("--record",
            "The files of the one record every request sends, e.g. X.hea,X.dat (default: shared/data/ptbxl/records500/00000/00001_hr found above the working folder)");
        var requests = new Option<int>("--requests") { Description = "Requests per concurrency level", DefaultValueFactory = _ => 200 };
        var concurrency = OptionRules.IntList("--concurrency", "Simultaneous clients, one level after the other (default 1,4,16)");
        concurrency.DefaultValueFactory = _ => [1, 4, 16];
        var seconds = new Option<double>("--seconds") { Description = "Most seconds per level; no request starts after it", DefaultValueFactory = _ => 120 };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most queued requests one forward pass serves", DefaultValueFactory = _ => 16 };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("serve",
            "Load-test deri serve in this process on loopback: N clients post one record; prints p50/p95 latency, throughput, errors and resident memory per level (JSON lines)")
        {
            run, checkpoint, reportModel, index, store, record, requests, concurrency, seconds, maxBatch, device, threads,
        };
        cmd.SetAction(result =>
        {
            if (result.GetValue(requests) <= 0 || result.GetValue(seconds) <= 0 || result.GetValue(maxBatch) <= 0)
                throw new CliUsageException("--requests, --seconds and --max-batch must be positive");
            int[] levels = result.GetValue(concurrency)!;
            if (levels.Length == 0 || levels.Any(c => c <= 0)) throw new CliUsageException("--concurrency takes positive client counts");
            string[] files = OptionRules.Split(result.GetValue(record) ?? []).ToArray();
            if (files.Length == 0)
            {
                string ptb = BenchCommand.FindShared(Path.Combine("data", "ptbxl", "records500", "00000"));
                files = [Path.Combine(ptb, "00001_hr.hea"), Path.Combine(ptb, "00001_hr.dat")];
            }
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            long rssStart = ServeBenchmark.ResidentKb();
            using var service = new InferenceService(new ServiceOptions
            {
                Run = result.GetValue(run)!,
                Checkpoint = result.GetValue(checkpoint)!,
                ReportModel = result.GetValue(reportModel),
                Index = result.GetValue(index),
                Store = result.GetValue(store),
                Device = dev,
                MaxBatch = result.GetValue(maxBatch),
            }, Console.Error.WriteLine);
            Console.Error.WriteLine($"service loaded: resident memory {rssStart} kB before, {ServeBenchmark.ResidentKb()} kB after");
            var options = new ServeBenchOptions { Files = files, Requests = result.GetValue(requests), Concurrency = levels, SecondsPerLevel = result.GetValue(seconds) };
            var levelsDone = ServeBenchmark.Run(service, options, r => Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["bench"] = "serve",
                ["device"] = dev.ToString(), ["threads"] = TorchSharp.torch.get_num_threads(), ["max_batch"] = result.GetValue(maxBatch),
                ["record"] = Path.GetFileNameWithoutExtension(files[0]),
                ["concurrency"] = r.Concurrency, ["requests"] = r.Requested, ["completed"] = r.Completed, ["errors"] = r.Errors,
                ["p50_ms"] = r.P50Ms, ["p95_ms"] = r.P95Ms, ["requests_per_s"] = r.RequestsPerSecond, ["forward_passes"] = r.Batches,
                ["rss_before_kb"] = r.RssBeforeKb, ["rss_after_kb"] = r.RssAfterKb, ["time_bound_hit"] = r.TimeBoundHit,
                ["first_error"] = r.FirstError,
            }))).GetAwaiter().GetResult();
            int errors = levelsDone.Sum(l => l.Errors);
            if (errors == 0) return 0;
            Console.Error.WriteLine($"error: {errors} requests failed; the first: {levelsDone.First(l => l.FirstError != null).FirstError}");
            return 1;
        });
        return cmd;
    }
}
