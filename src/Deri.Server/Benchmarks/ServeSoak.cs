using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Deri.Serving;
using Deri.Signals;
using Deri.IO;

namespace Deri.Server.Benchmarks;

/// <summary>One kind of request the soak sends: valid ones expect 200, hostile ones a refusal.</summary>
/// <param name="Name">Short name (e.g. <c>wfdb</c>, <c>format0-bomb</c>).</param>
/// <param name="Valid">Whether the request is a valid record (expects 200 with an analysis).</param>
/// <param name="Make">Builds the request (a fresh one per send).</param>
public sealed record SoakCase(string Name, bool Valid, Func<HttpRequestMessage> Make);

/// <summary>What <see cref="ServeSoak.Run"/> does.</summary>
public sealed record SoakOptions
{
    /// <summary>Minutes to run; no request starts after them.</summary>
    public required double Minutes { get; init; }

    /// <summary>Simultaneous clients.</summary>
    public int Clients { get; init; } = 8;

    /// <summary>Seconds between resident-memory samples.</summary>
    public double SampleSeconds { get; init; } = 2;

    /// <summary>The valid records: the files of each, by kind (see <see cref="ServeSoak.ValidCases"/>).</summary>
    public required IReadOnlyList<SoakCase> Cases { get; init; }
}

/// <summary>One minute of the soak (or the part of a minute before the end).</summary>
/// <param name="Minute">1-based minute.</param>
/// <param name="ValidSent">Valid requests answered in the minute.</param>
/// <param name="ValidFailed">Valid requests not answered 200.</param>
/// <param name="HostileSent">Hostile requests answered.</param>
/// <param name="Status500">Answers with status 500 (any request).</param>
/// <param name="RssKb">Resident memory at the minute's end (kB).</param>
public sealed record SoakMinute(int Minute, int ValidSent, int ValidFailed, int HostileSent, int Status500, long RssKb);

/// <summary>The soak's result.</summary>
/// <param name="Seconds">Wall time.</param>
/// <param name="ValidSent">Valid requests answered.</param>
/// <param name="ValidFailed">Valid requests not answered 200 with an analysis.</param>
/// <param name="Status500">Answers with status 500.</param>
/// <param name="HostileSent">Hostile requests answered.</param>
/// <param name="HostileByStatus">Hostile answers by status code.</param>
/// <param name="ByCase">Answers per case and status code.</param>
/// <param name="NotProblemDocuments">Refusals (4xx/5xx) that were not <c>application/problem+json</c>.</param>
/// <param name="OversizedProblems">Problem documents longer than 4 kB (echoed detail not capped).</param>
/// <param name="P50Ms">Median latency of valid requests (ms).</param>
/// <param name="P95Ms">95th percentile latency of valid requests (ms).</param>
/// <param name="Rss">Resident memory samples: seconds since start and kB.</param>
/// <param name="FirstFailure">The first failed valid request or 500, or null.</param>
public sealed record SoakResult(double Seconds, int ValidSent, int ValidFailed, int Status500, int HostileSent,
    IReadOnlyDictionary<int, int> HostileByStatus, IReadOnlyDictionary<string, IReadOnlyDictionary<int, int>> ByCase,
    int NotProblemDocuments, int OversizedProblems, double P50Ms, double P95Ms, IReadOnlyList<(double Seconds, long Kb)> Rss, string? FirstFailure)
{
    /// <summary>Whether the service passed: every valid request answered 200 and no 500 at all.</summary>
    public bool Passed => ValidFailed == 0 && Status500 == 0;
}

/// <summary>
/// Soak test of <c>deri serve</c> (<c>deri bench serve --soak MINUTES</c>): the real server on a free loopback port, N clients
/// sending a fixed mix of valid records of every accepted kind and hostile requests (the cases that once exhausted memory,
/// answered 500 or answered without a problem document) for a bounded time, with resident memory sampled throughout.
/// </summary>
public static class ServeSoak
{
    /// <summary>
    /// The valid cases: a synthetic 12-lead WFDB record (.hea + .dat), the same zipped, the same at a fractional rate
    /// (499.5 Hz), CSV at 500 Hz and CSV at rates 8001–8150 Hz (one per request: the resampler cache must stay bounded),
    /// the given CinC (.hea + .mat) and CPSC2018 (.mat) records, and the WFDB record written as DICOM, aECG and EDF.
    /// </summary>
    /// <param name="cinc">The files of a CinC record (its .hea and .mat).</param>
    /// <param name="cpsc">A CPSC2018 .mat file.</param>
    /// <exception cref="InputFileNotFoundException">A given file is missing.</exception>
    public static IReadOnlyList<SoakCase> ValidCases(IReadOnlyList<string> cinc, string cpsc)
    {
        foreach (string f in cinc.Append(cpsc))
            if (!File.Exists(f)) throw new InputFileNotFoundException($"{f}: no such record file", f);
        var (hea, dat) = SyntheticWfdb("soak1", 500, 10);
        var (fhea, fdat) = SyntheticWfdb("soak2", 499.5, 10);
        byte[] zip = Zip(("soak1.hea", hea), ("soak1.dat", dat));
        byte[] csv = Csv(500, 10, 12);
        var cincFiles = cinc.Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        var cpscFile = (Path.GetFileName(cpsc), File.ReadAllBytes(cpsc));
        int csvRate = 0;
        var (dicom, aecg, edf) = ClinicalExports(hea, dat);
        return
        [
            new("wfdb", true, () => Post(Form(("soak1.hea", hea), ("soak1.dat", dat)))),
            new("wfdb-499.5hz", true, () => Post(Form(("soak2.hea", fhea), ("soak2.dat", fdat)))),
            new("zip", true, () => Post(Form(("soak1.zip", zip)))),
            new("csv", true, () => Post(Form(("ecg.csv", csv)).With("rate", "500"))),
            new("csv-8001-8150hz", true, () =>
            {
                int rate = 8001 + Interlocked.Increment(ref csvRate) % 150;
                return Post(Form(("fast.csv", Csv(rate, 1.2, 12))).With("rate", rate.ToString(CultureInfo.InvariantCulture)));
            }),
            new("cinc-mat", true, () => Post(Form(cincFiles))),
            new("cpsc2018-mat", true, () => Post(Form(cpscFile))),
            new("dicom", true, () => Post(Form(("soak1.dcm", dicom)))),
            new("aecg", true, () => Post(Form(("soak1.xml", aecg)))),
            new("edf", true, () => Post(Form(("soak1.edf", edf)))),
        ];
    }

    // The synthetic WFDB record converted by Deri's writers (Signals/Clinical) into the clinical formats uploads accept.
    private static (byte[] Dicom, byte[] Aecg, byte[] Edf) ClinicalExports(byte[] hea, byte[] dat)
    {
        string dir = Directory.CreateTempSubdirectory("deri-soak-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "soak1.hea"), hea);
            File.WriteAllBytes(Path.Combine(dir, "soak1.dat"), dat);
            var record = Deri.Signals.RecordReader.Read(Path.Combine(dir, "soak1.hea"));
            byte[] Export(string format)
            {
                using var m = new MemoryStream();
                Deri.Signals.Clinical.ClinicalWriters.Write(record, format, m);
                return m.ToArray();
            }
            return (Export("dicom"), Export("aecg"), Export("edf"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The hostile cases, each answered with a refusal: a 12-signal format-0 header declaring 5e7 samples (422), a multipart
    /// body cut in half (400), 65 parts (400), an overlong boundary (400), text/plain and urlencoded bodies (415), an unknown
    /// file kind (415), an upload over the limit (413), a zip bomb (413), a CSV of 100,000 unknown column names (422, capped
    /// detail), a non-numeric rate (400), a foreign Host (421), a foreign Origin (403), an unknown path (404) and 40 kB of
    /// headers (431).
    /// </summary>
    /// <param name="maxUploadBytes">The server's upload limit, to send just beyond it.</param>
    public static IReadOnlyList<SoakCase> HostileCases(long maxUploadBytes)
    {
        var (hea, dat) = SyntheticWfdb("soak1", 500, 10);
        byte[] bomb = Encoding.ASCII.GetBytes("bomb 12 500 50000000\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"bomb.dat 0 200 16 0 0 0 0 L{i}\n")));
        byte[] valid = BodyBytes(Form(("soak1.hea", hea), ("soak1.dat", dat)), out string validType);
        byte[] zipBomb = Zip(("soak1.hea", hea), ("soak1.dat", new byte[maxUploadBytes + 1024 * 1024]));
        byte[] columns = Encoding.ASCII.GetBytes(string.Join(',', Enumerable.Range(0, 100_000).Select(i => $"c{i}")) + "\n" + string.Join(',', Enumerable.Repeat("0", 100_000)) + "\n");
        byte[] big = new byte[maxUploadBytes + 512 * 1024];
        return
        [
            new("format0-bomb", false, () => Post(Form(("bomb.hea", bomb), ("bomb.dat", [0, 0, 0, 0])))),
            new("multipart-cut", false, () => Post(Raw(valid[..(valid.Length / 2)], validType))),
            new("65-parts", false, () =>
            {
                var form = Form(("soak1.hea", hea), ("soak1.dat", dat));
                for (int i = 0; i < 65; i++) form.Add(new StringContent("x"), $"f{i}");
                return Post(form);
            }),
            new("long-boundary", false, () => Post(Raw(Encoding.ASCII.GetBytes("--" + new string('b', 200) + "\r\n\r\nx\r\n--" + new string('b', 200) + "--\r\n"),
                "multipart/form-data; boundary=" + new string('b', 200)))),
            new("text-plain", false, () => Post(Raw("hello"u8.ToArray(), "text/plain"))),
            new("urlencoded", false, () => Post(Raw("rate=500&file=x"u8.ToArray(), "application/x-www-form-urlencoded"))),
            new("unknown-kind", false, () => Post(Form(("r.png", [137, 80, 78, 71])))),
            new("too-large", false, () => Post(Form(("big.dat", big), ("soak1.hea", hea)))),
            new("zip-bomb", false, () => Post(Form(("bomb.zip", zipBomb)))),
            new("csv-100k-columns", false, () => Post(Form(("wide.csv", columns)).With("rate", "500"))),
            new("csv-bad-rate", false, () => Post(Form(("ecg.csv", Csv(500, 2, 12))).With("rate", "fast"))),
            new("foreign-host", false, () =>
            {
                var r = new HttpRequestMessage(HttpMethod.Get, "/api/v1/model");
                r.Headers.Host = "attacker.example";
                return r;
            }),
            new("foreign-origin", false, () =>
            {
                var r = Post(Form(("soak1.hea", hea), ("soak1.dat", dat)));
                r.Headers.Add("Origin", "http://attacker.example");
                return r;
            }),
            new("unknown-path", false, () => new HttpRequestMessage(HttpMethod.Get, "/etc/passwd")),
            new("huge-headers", false, () =>
            {
                var r = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
                for (int i = 0; i < 10; i++) r.Headers.Add($"X-Pad-{i}", new string('p', 4000));
                return r;
            }),
        ];
    }

    /// <summary>
    /// Starts the server around <paramref name="service"/> with <paramref name="server"/> (on a free loopback port, whatever
    /// its host and port say) and runs the soak, reporting each minute to <paramref name="minute"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Non-positive minutes, clients or sampling interval, or no valid case.</exception>
    public static async Task<SoakResult> Run(InferenceService service, ServerOptions server, SoakOptions options, Action<SoakMinute> minute)
    {
        if (!(options.Minutes > 0) || options.Clients <= 0 || !(options.SampleSeconds > 0))
            throw new InputValueException($"minutes ({options.Minutes}), clients ({options.Clients}) and the sampling interval ({options.SampleSeconds}) must be positive");
        if (!options.Cases.Any(c => c.Valid)) throw new InputValueException("the soak needs at least one valid case");
        await using var app = DeriServer.Build(service, server with { Host = "127.0.0.1", Port = 0, ApiKey = null });
        await app.StartAsync();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Clients })
            {
                BaseAddress = new Uri(app.Urls.Single()),
                Timeout = TimeSpan.FromSeconds(Math.Max(60, server.MaxRequestSeconds * 2)),
            };
            return await Soak(http, options, minute);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private sealed class Tally
    {
        public int ValidSent, ValidFailed, Status500, HostileSent, NotProblem, Oversized;
        public readonly Dictionary<int, int> HostileByStatus = [];
        public readonly Dictionary<string, Dictionary<int, int>> ByCase = [];
        public readonly List<double> Latencies = [];
        public string? FirstFailure;
    }

    private static async Task<SoakResult> Soak(HttpClient http, SoakOptions options, Action<SoakMinute> minute)
    {
        // A fixed schedule: every valid case twice for every hostile case once, so about two thirds of requests are valid.
        var schedule = options.Cases.Where(c => c.Valid).SelectMany(c => new[] { c, c }).Concat(options.Cases.Where(c => !c.Valid)).ToArray();
        var total = new Tally();
        var current = new Tally();
        var rss = new List<(double, long)>();
        var wall = Stopwatch.StartNew();
        double end = options.Minutes * 60;
        int next = -1;
        async Task Client()
        {
            while (wall.Elapsed.TotalSeconds < end)
            {
                var c = schedule[(int)((uint)Interlocked.Increment(ref next) % (uint)schedule.Length)];
                var (status, ms, problem, length, body) = await Send(http, c);
                lock (total)
                    foreach (var t in new[] { total, current })
                    {
                        if (!t.ByCase.TryGetValue(c.Name, out var byStatus)) t.ByCase[c.Name] = byStatus = [];
                        byStatus[status] = byStatus.GetValueOrDefault(status) + 1;
                        if (status == 500) { t.Status500++; t.FirstFailure ??= $"{c.Name}: 500 {body}"; }
                        if (status >= 400 && !problem) t.NotProblem++;
                        if (problem && length > 4096) t.Oversized++;
                        if (c.Valid)
                        {
                            t.ValidSent++;
                            t.Latencies.Add(ms);
                            if (status != 200) { t.ValidFailed++; t.FirstFailure ??= $"{c.Name}: {status} {body}"; }
                        }
                        else
                        {
                            t.HostileSent++;
                            t.HostileByStatus[status] = t.HostileByStatus.GetValueOrDefault(status) + 1;
                        }
                    }
            }
        }
        async Task Sampler()
        {
            int reported = 0;
            while (true)
            {
                double s = wall.Elapsed.TotalSeconds;
                long kb = ServeBenchmark.ResidentKb();
                lock (rss) rss.Add((Math.Round(s, 1), kb));
                bool done = s >= end;
                int m = (int)(s / 60);
                if (m > reported || done)
                {
                    lock (total)
                    {
                        if (current.ValidSent + current.HostileSent > 0 || !done)
                            minute(new SoakMinute(reported + 1, current.ValidSent, current.ValidFailed, current.HostileSent, current.Status500, kb));
                        current = new Tally();
                    }
                    reported = m;
                }
                if (done) return;
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(options.SampleSeconds, Math.Max(0.05, end - s))));
            }
        }
        var sampler = Task.Run(Sampler);
        await Task.WhenAll(Enumerable.Range(0, options.Clients).Select(_ => Task.Run(Client)));
        end = Math.Min(end, wall.Elapsed.TotalSeconds);   // the clients are done: the sampler's last line now
        await sampler;
        total.Latencies.Sort();
        return new SoakResult(Math.Round(wall.Elapsed.TotalSeconds, 1), total.ValidSent, total.ValidFailed, total.Status500, total.HostileSent,
            total.HostileByStatus, total.ByCase.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<int, int>)kv.Value),
            total.NotProblem, total.Oversized, Math.Round(Percentile(total.Latencies, 0.5), 1), Math.Round(Percentile(total.Latencies, 0.95), 1),
            rss, total.FirstFailure);
    }

    /// <summary>Writes a PNG of resident memory over the soak (MB against minutes), atomically.</summary>
    public static void PlotRss(SoakResult result, string path)
    {
        var plot = new ScottPlot.Plot();
        var xs = result.Rss.Select(r => r.Seconds / 60).ToArray();
        var ys = result.Rss.Select(r => r.Kb / 1024.0).ToArray();
        plot.Add.Scatter(xs, ys);
        plot.Axes.Bottom.Label.Text = "minutes";
        plot.Axes.Left.Label.Text = "resident memory (MB)";
        plot.Axes.Title.Label.Text = $"deri serve soak: {result.ValidSent} valid, {result.HostileSent} hostile requests, {result.Status500} × 500";
        plot.Axes.SetLimitsY(0, Math.Max(1, ys.DefaultIfEmpty(0).Max() * 1.1));
        byte[] png = plot.GetImageBytes(800, 400, ScottPlot.ImageFormat.Png);
        Deri.IO.AtomicFile.Write(path, s => s.Write(png));
    }

    private static async Task<(int Status, double Ms, bool Problem, long Length, string Body)> Send(HttpClient http, SoakCase c)
    {
        using var request = c.Make();
        var sw = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request);
            byte[] body = await response.Content.ReadAsByteArrayAsync();
            bool problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json";
            string text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300));
            return ((int)response.StatusCode, sw.Elapsed.TotalMilliseconds, problem, body.Length, text);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // The server closed the connection (e.g. while refusing a too-large body): status 0.
            return (0, sw.Elapsed.TotalMilliseconds, false, 0, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static HttpRequestMessage Post(HttpContent content) => new(HttpMethod.Post, "/api/v1/analyze") { Content = content };

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", name);
        }
        return form;
    }

    private static MultipartFormDataContent With(this MultipartFormDataContent form, string name, string value)
    {
        form.Add(new StringContent(value), name);
        return form;
    }

    private static ByteArrayContent Raw(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static byte[] BodyBytes(HttpContent content, out string contentType)
    {
        contentType = content.Headers.ContentType!.ToString();
        using var m = new MemoryStream();
        content.CopyTo(m, null, CancellationToken.None);
        return m.ToArray();
    }

    /// <summary>A synthetic 12-lead record (a 1.2 Hz beat-like wave per lead) as WFDB format-16 header and signal bytes.</summary>
    private static (byte[] Header, byte[] Signal) SyntheticWfdb(string id, double rate, double seconds)
    {
        int n = (int)(rate * seconds);
        var values = new float[12 * n];
        for (int k = 0; k < 12; k++)
            for (int t = 0; t < n; t++)
                values[k * n + t] = (float)(0.8 * Math.Pow(Math.Sin(Math.PI * 1.2 * t / rate), 16) * (k % 2 == 0 ? 1 : -0.5) + 0.05 * Math.Sin(2 * Math.PI * 0.3 * t / rate + k));
        var record = WfdbWriter.FromPhysical(id, values, LeadOrder.Model, rate, gain: 1000);
        return (Encoding.ASCII.GetBytes(WfdbWriter.Header(record)), WfdbWriter.EncodeFormat16(record));
    }

    private static byte[] Csv(int rate, double seconds, int leads)
    {
        var sb = new StringBuilder(string.Join(',', LeadOrder.Model.Take(leads))).Append('\n');
        int n = (int)(rate * seconds);
        for (int t = 0; t < n; t++)
        {
            for (int k = 0; k < leads; k++)
            {
                if (k > 0) sb.Append(',');
                sb.Append((0.8 * Math.Pow(Math.Sin(Math.PI * 1.2 * t / rate), 16) + 0.01 * k).ToString("0.####", CultureInfo.InvariantCulture));
            }
            sb.Append('\n');
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static byte[] Zip(params (string Name, byte[] Bytes)[] entries)
    {
        using var m = new MemoryStream();
        using (var z = new ZipArchive(m, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var s = z.CreateEntry(name, CompressionLevel.Optimal).Open();
                s.Write(bytes);
            }
        return m.ToArray();
    }
}
