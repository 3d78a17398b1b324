using System.Diagnostics;
using System.Net.Http.Headers;
using Deri.Serving;
using Microsoft.AspNetCore.Builder;
using Deri.IO;

namespace Deri.Server.Benchmarks;

/// <summary>What <see cref="ServeBenchmark.Run"/> sends.</summary>
public sealed record ServeBenchOptions
{
    /// <summary>The files of the one record sent by every request (e.g. a WFDB <c>.hea</c> and its <c>.dat</c>).</summary>
    public required IReadOnlyList<string> Files { get; init; }

    /// <summary>Requests per concurrency level.</summary>
    public int Requests { get; init; } = 200;

    /// <summary>Simultaneous clients, one level after the other.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 4, 16];

    /// <summary>Most seconds per level: no new request starts after it (those in flight finish), so a slow machine ends anyway.</summary>
    public double SecondsPerLevel { get; init; } = 120;

    /// <summary>Server limits (upload size, rate limit, timeout); it always listens on a free loopback port.</summary>
    public ServerOptions Server { get; init; } = new() { MaxRequestsPerMinute = 0 };
}

/// <summary>One concurrency level's measurement.</summary>
/// <param name="Concurrency">Simultaneous clients.</param>
/// <param name="Requested">Requests the level was to send.</param>
/// <param name="Completed">Requests answered (200 or not); fewer than <paramref name="Requested"/> when the time bound hit.</param>
/// <param name="Errors">Requests not answered 200 with a body, or that failed in transport.</param>
/// <param name="P50Ms">Median latency (ms) of the answered requests.</param>
/// <param name="P95Ms">95th percentile latency (ms).</param>
/// <param name="RequestsPerSecond">Answered requests over the level's wall time.</param>
/// <param name="Batches">Forward passes the service ran during the level (≤ requests: simultaneous requests share passes).</param>
/// <param name="RssBeforeKb">Resident memory of the process (VmRSS) before the level, kB.</param>
/// <param name="RssAfterKb">Resident memory after the level, kB.</param>
/// <param name="TimeBoundHit">Whether the level stopped at <see cref="ServeBenchOptions.SecondsPerLevel"/>.</param>
/// <param name="FirstError">The first error's status and text, or null.</param>
public sealed record ServeBenchLevel(int Concurrency, int Requested, int Completed, int Errors, double P50Ms, double P95Ms,
    double RequestsPerSecond, long Batches, long RssBeforeKb, long RssAfterKb, bool TimeBoundHit, string? FirstError);

/// <summary>
/// Load benchmark of <c>deri serve</c> (<c>deri bench serve</c>): the real server (Kestrel) in this process on a free
/// loopback port around a loaded <see cref="InferenceService"/>, and N clients each posting the same record to
/// <c>POST /api/v1/analyze</c> until the level's count of requests is sent, for each N in turn.
/// </summary>
public static class ServeBenchmark
{
    /// <summary>Resident memory of this process in kB (VmRSS of <c>/proc/self/status</c>).</summary>
    /// <exception cref="PlatformNotSupportedException">No <c>/proc/self/status</c> (not Linux).</exception>
    public static long ResidentKb()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) throw new PlatformNotSupportedException($"{status} is missing: resident memory is read from Linux's /proc");
        foreach (string line in File.ReadLines(status))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        throw new InputFormatException($"{status} has no VmRSS line");
    }

    /// <summary>
    /// Starts the server around <paramref name="service"/>, sends one warm-up request (not counted), then runs each
    /// concurrency level, reporting each to <paramref name="level"/> as it ends.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">A record file is missing.</exception>
    /// <exception cref="ArgumentException">Non-positive counts, levels or time bound.</exception>
    /// <exception cref="InputFormatException">The warm-up request is refused (the record does not fit the service).</exception>
    public static async Task<IReadOnlyList<ServeBenchLevel>> Run(InferenceService service, ServeBenchOptions options, Action<ServeBenchLevel> level)
    {
        if (options.Requests <= 0 || options.SecondsPerLevel <= 0 || options.Concurrency.Count == 0 || options.Concurrency.Any(c => c <= 0))
            throw new InputValueException($"requests ({options.Requests}), seconds per level ({options.SecondsPerLevel}) and every concurrency ({string.Join(",", options.Concurrency)}) must be positive");
        if (options.Files.Count == 0) throw new InputValueException("no record files to send");
        var files = options.Files.Select(f => File.Exists(f)
            ? (Name: Path.GetFileName(f), Bytes: File.ReadAllBytes(f))
            : throw new InputFileNotFoundException($"{f}: no such record file", f)).ToList();

        await using var app = DeriServer.Build(service, options.Server with { Host = "127.0.0.1", Port = 0, ApiKey = null });
        await app.StartAsync();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency.Max() })
            {
                BaseAddress = new Uri(app.Urls.Single()),
                Timeout = TimeSpan.FromSeconds(Math.Max(60, options.SecondsPerLevel)),
            };
            var (warmOk, _, warmError) = await Send(http, files);
            if (!warmOk) throw new InputFormatException($"the warm-up request was refused: {warmError}");

            var results = new List<ServeBenchLevel>();
            foreach (int clients in options.Concurrency)
            {
                var r = await Level(http, files, service, clients, options.Requests, options.SecondsPerLevel);
                results.Add(r);
                level(r);
            }
            return results;
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static async Task<ServeBenchLevel> Level(HttpClient http, List<(string Name, byte[] Bytes)> files, InferenceService service,
        int clients, int requests, double seconds)
    {
        long rssBefore = ResidentKb(), batchesBefore = service.Batches;
        var latencies = new List<double>(requests);
        int next = 0, errors = 0;
        string? firstError = null;
        bool bound = false;
        var wall = Stopwatch.StartNew();
        async Task Client()
        {
            // Each client takes the next request number until the count is sent or the time bound is reached.
            while (true)
            {
                if (wall.Elapsed.TotalSeconds >= seconds) { bound = true; return; }
                if (Interlocked.Increment(ref next) > requests) return;
                var (ok, ms, error) = await Send(http, files);
                lock (latencies)
                {
                    latencies.Add(ms);
                    if (!ok) { errors++; firstError ??= error; }
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(Client)));
        double elapsed = wall.Elapsed.TotalSeconds;
        latencies.Sort();
        return new ServeBenchLevel(clients, requests, latencies.Count, errors,
            Math.Round(Percentile(latencies, 0.50), 2), Math.Round(Percentile(latencies, 0.95), 2),
            Math.Round(latencies.Count / elapsed, 2), service.Batches - batchesBefore, rssBefore, ResidentKb(), bound, firstError);
    }

    // Nearest-rank percentile of sorted values; NaN for none.
    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static async Task<(bool Ok, double Ms, string? Error)> Send(HttpClient http, List<(string Name, byte[] Bytes)> files)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", name);
        }
        var sw = Stopwatch.StartNew();
        try
        {
            using var response = await http.PostAsync("/api/v1/analyze", form);
            string body = await response.Content.ReadAsStringAsync();
            double ms = sw.Elapsed.TotalMilliseconds;
            return response.IsSuccessStatusCode && body.Length > 0
                ? (true, ms, null)
                : (false, ms, $"{(int)response.StatusCode}: {(body.Length > 300 ? body[..300] : body)}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (false, sw.Elapsed.TotalMilliseconds, $"{e.GetType().Name}: {e.Message}");
        }
    }
}
