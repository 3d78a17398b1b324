using System.CommandLine;
using System.Text.Json;
using Deri.Server;
using Deri.Server.Benchmarks;
using Deri.Serving;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench serve</c>: load benchmark of the HTTP service (one JSON line per concurrency level), or with
/// <c>--soak MINUTES</c> a soak of valid and hostile requests (JSON lines per minute and a summary).</summary>
internal static class BenchServeCommand
{
    /// <summary>Builds the <c>serve</c> command (placed under <c>bench</c>).</summary>
    public static Command Create()
    {
        var binder = new ServeOptionsBinder(listen: false);
        var record = OptionRules.StringList("--record",
            "The files of the one record every request sends, e.g. X.hea,X.dat (default: shared/data/ptbxl/records500/00000/00001_hr found above the working folder)");
        var requests = new Option<int>("--requests") { Description = "Requests per concurrency level", DefaultValueFactory = _ => 200 };
        var concurrency = OptionRules.IntList("--concurrency", "Simultaneous clients, one level after the other (default 1,4,16; with --soak the clients, default 8)");
        var seconds = new Option<double>("--seconds") { Description = "Most seconds per level; no request starts after it", DefaultValueFactory = _ => 120 };
        var soak = new Option<double?>("--soak") { Description = "Soak for MINUTES instead: valid records of every kind mixed with hostile requests; exit 1 on any failed valid request or 500" };
        var plot = new Option<string?>("--plot") { Description = "With --soak: write a PNG of resident memory over time" };
        var cmd = new Command("serve",
            "Load-test deri serve in this process on loopback: N clients post one record; prints p50/p95 latency, throughput, errors and resident memory per level (JSON lines); --soak MINUTES mixes valid and hostile requests")
        {
            record, requests, concurrency, seconds, soak, plot,
        };
        binder.AddTo(cmd);
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var server = binder.Server(result) with { Log = result.InvocationConfiguration.Error };
            double? soakMinutes = result.GetValue(soak);
            string? plotPath = result.GetValue(plot);
            int[] levels = result.GetValue(concurrency)!;
            if (levels.Any(c => c <= 0)) throw new CliUsageException("--concurrency takes positive client counts");
            if (plotPath is not null && soakMinutes is null) throw new CliUsageException("--plot goes with --soak");
            if (soakMinutes is double m)
            {
                if (!(m > 0) || m > 24 * 60) throw new CliUsageException($"--soak takes minutes in (0, 1440], got {m}");
                if (levels.Length > 1) throw new CliUsageException("--soak takes one client count in --concurrency");
                return Soak(binder, result, server, m, levels.Length == 1 ? levels[0] : 8, plotPath);
            }
            if (result.GetValue(requests) <= 0 || result.GetValue(seconds) <= 0)
                throw new CliUsageException("--requests and --seconds must be positive");
            if (levels.Length == 0) levels = [1, 4, 16];
            string[] files = OptionRules.Split(result.GetValue(record) ?? []).ToArray();
            if (files.Length == 0)
            {
                string ptb = BenchCommand.FindShared(Path.Combine("data", "ptbxl", "records500", "00000"));
                files = [Path.Combine(ptb, "00001_hr.hea"), Path.Combine(ptb, "00001_hr.dat")];
            }
            var settings = binder.Settings(result);
            long rssStart = ServeBenchmark.ResidentKb();
            var serviceOptions = binder.Service(result, settings);
            using var service = new InferenceService(serviceOptions, stderr.WriteLine);
            stderr.WriteLine($"service loaded: resident memory {rssStart} kB before, {ServeBenchmark.ResidentKb()} kB after");
            var options = new ServeBenchOptions { Files = files, Requests = result.GetValue(requests), Concurrency = levels, SecondsPerLevel = result.GetValue(seconds), Server = server };
            var levelsDone = ServeBenchmark.Run(service, options, r => stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["bench"] = "serve",
                ["device"] = serviceOptions.Device.ToString(), ["threads"] = TorchSharp.torch.get_num_threads(), ["max_batch"] = serviceOptions.MaxBatch,
                ["record"] = Path.GetFileNameWithoutExtension(files[0]),
                ["concurrency"] = r.Concurrency, ["requests"] = r.Requested, ["completed"] = r.Completed, ["errors"] = r.Errors,
                ["p50_ms"] = r.P50Ms, ["p95_ms"] = r.P95Ms, ["requests_per_s"] = r.RequestsPerSecond, ["forward_passes"] = r.Batches,
                ["rss_before_kb"] = r.RssBeforeKb, ["rss_after_kb"] = r.RssAfterKb, ["time_bound_hit"] = r.TimeBoundHit,
                ["first_error"] = r.FirstError,
            }))).GetAwaiter().GetResult();
            int errors = levelsDone.Sum(l => l.Errors);
            if (errors == 0) return 0;
            throw new CommandFailedException($"{errors} requests failed; the first: {levelsDone.First(l => l.FirstError != null).FirstError}");
        });
        return cmd;
    }

    private static int Soak(ServeOptionsBinder binder, ParseResult result, ServerOptions server, double minutes, int clients, string? plotPath)
    {
        var stdout = result.InvocationConfiguration.Output;
        var stderr = result.InvocationConfiguration.Error;
        string cinc = BenchCommand.FindShared(Path.Combine("data", "cinc2021"));
        string cpscDir = BenchCommand.FindShared(Path.Combine("data", "cpsc2018"));
        string cpsc = Directory.Exists(cpscDir) ? Directory.GetFiles(cpscDir, "A*.mat").Order(StringComparer.Ordinal).FirstOrDefault() ?? "" : "";
        var cases = ServeSoak.ValidCases([Path.Combine(cinc, "E07500.hea"), Path.Combine(cinc, "E07500.mat")],
            cpsc.Length > 0 ? cpsc : Path.Combine(cpscDir, "A0001.mat"))
            .Concat(ServeSoak.HostileCases(server.Limits.MaxBytes)).ToList();
        using var service = new InferenceService(binder.Service(result), stderr.WriteLine);
        var soak = ServeSoak.Run(service, server, new SoakOptions { Minutes = minutes, Clients = clients, Cases = cases },
            m => stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["soak"] = "serve", ["minute"] = m.Minute, ["valid_sent"] = m.ValidSent, ["valid_failed"] = m.ValidFailed,
                ["hostile_sent"] = m.HostileSent, ["status_500"] = m.Status500, ["rss_kb"] = m.RssKb,
            }))).GetAwaiter().GetResult();
        stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["soak"] = "serve", ["summary"] = true, ["minutes"] = minutes, ["seconds"] = soak.Seconds, ["clients"] = clients,
            ["valid_sent"] = soak.ValidSent, ["valid_failed"] = soak.ValidFailed, ["status_500"] = soak.Status500,
            ["hostile_sent"] = soak.HostileSent, ["hostile_by_status"] = soak.HostileByStatus.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value),
            ["by_case"] = soak.ByCase.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key,
                kv => kv.Value.OrderBy(s => s.Key).ToDictionary(s => s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), s => s.Value)),
            ["not_problem_documents"] = soak.NotProblemDocuments, ["oversized_problems"] = soak.OversizedProblems,
            ["p50_ms"] = soak.P50Ms, ["p95_ms"] = soak.P95Ms,
            ["rss_kb_first"] = soak.Rss.FirstOrDefault().Kb, ["rss_kb_max"] = soak.Rss.Select(r => r.Kb).DefaultIfEmpty(0).Max(), ["rss_kb_last"] = soak.Rss.LastOrDefault().Kb,
            ["rss_samples"] = soak.Rss.Count, ["first_failure"] = soak.FirstFailure,
        }));
        if (plotPath is not null)
        {
            ServeSoak.PlotRss(soak, plotPath);
            stderr.WriteLine($"wrote {plotPath}");
        }
        if (soak.Passed) return 0;
        throw new CommandFailedException($"{soak.ValidFailed} valid requests failed and {soak.Status500} answers were 500; the first: {soak.FirstFailure}");
    }
}
