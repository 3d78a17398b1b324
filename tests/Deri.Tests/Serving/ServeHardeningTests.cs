using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Deri.Server;
using Deri.Serving;
using Deri.Signals;
using Deri.Tests.Data;
using Microsoft.AspNetCore.Builder;

namespace Deri.Tests.Serving;

/// <summary>
/// The real server (Kestrel on a free loopback port) against the hostile requests a tester sent: every refusal is a problem
/// document with the right status, the Host and Origin checks, security headers, the API key, rate limit and request timeout,
/// and no server path in any answer.
/// </summary>
[Collection("serve-run")]
public sealed class ServeHardeningTests(ServeRunFixture fx)
{
    private static readonly string Ptb = DataFiles.Shared("ptbxl", "records100", "00000", "00001_lr");

    private sealed class Server(WebApplication app) : IAsyncDisposable
    {
        public HttpClient Client { get; } = new() { BaseAddress = new Uri(app.Urls.Single()), Timeout = TimeSpan.FromSeconds(120) };

        public int Port => Client.BaseAddress!.Port;

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private async Task<Server> Start(ServerOptions? options = null)
    {
        var app = DeriServer.Build(fx.Service, (options ?? new ServerOptions()) with { Port = 0, Limits = new UploadLimits { MaxBytes = 2 << 20 } });
        await app.StartAsync();
        return new Server(app);
    }

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files) form.Add(new ByteArrayContent(bytes), "file", name);
        return form;
    }

    private static MultipartFormDataContent PtbForm() => Form(("00001_lr.hea", File.ReadAllBytes(Ptb + ".hea")), ("00001_lr.dat", File.ReadAllBytes(Ptb + ".dat")));

    private static ByteArrayContent Raw(byte[] bytes, string type)
    {
        var c = new ByteArrayContent(bytes);
        c.Headers.TryAddWithoutValidation("Content-Type", type);
        return c;
    }

    /// <summary>Sends, and checks the status, the problem content type, the security headers and that the detail is capped.</summary>
    private static async Task<JsonElement> Expect(HttpClient client, HttpRequestMessage request, int status, string? needle = null)
    {
        using var response = await client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{request.Method} {request.RequestUri}: expected {status}, got {(int)response.StatusCode}: {text}");
        AssertSecurityHeaders(response);
        if (status == 200)
        {
            using var ok = JsonDocument.Parse(text);
            return ok.RootElement.Clone();
        }
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(text.Length < 2048, $"problem document of {text.Length} characters");
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(status, doc.RootElement.GetProperty("status").GetInt32());
        if (needle is not null) Assert.Contains(needle, doc.RootElement.GetProperty("detail").GetString() ?? "", StringComparison.OrdinalIgnoreCase);
        return doc.RootElement.Clone();
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response)
    {
        string csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    private static HttpRequestMessage Post(HttpContent content) => new(HttpMethod.Post, "/api/v1/analyze") { Content = content };

    [Fact]
    public async Task EveryRefusalIsAProblemDocumentWithTheRightStatusAndNoneIsA500()
    {
        await using var s = await Start();
        var c = s.Client;
        await Expect(c, new HttpRequestMessage(HttpMethod.Get, "/no/such/page"), 404, "/no/such/page");
        await Expect(c, new HttpRequestMessage(HttpMethod.Delete, "/api/v1/model"), 405);
        await Expect(c, Post(Raw("hello"u8.ToArray(), "text/plain")), 415);
        await Expect(c, Post(Raw("rate=500"u8.ToArray(), "application/x-www-form-urlencoded")), 415);
        await Expect(c, Post(Form(("r.png", [137, 80, 78, 71]))), 415, "r.png");
        // 65 parts and an overlong boundary are malformed requests (400), not "too large" (413) as their "limit" message once made them.
        var parts = PtbForm();
        for (int i = 0; i < 65; i++) parts.Add(new StringContent("x"), $"f{i}");
        await Expect(c, Post(parts), 400);
        string boundary = new('b', 200);
        await Expect(c, Post(Raw(Encoding.ASCII.GetBytes($"--{boundary}\r\n\r\nx\r\n--{boundary}--\r\n"), "multipart/form-data; boundary=" + boundary)), 400);
        // A multipart body cut in half (was a 500 with a stack trace in the log).
        var whole = PtbForm();
        byte[] body = await whole.ReadAsByteArrayAsync();
        await Expect(c, Post(Raw(body[..(body.Length / 2)], whole.Headers.ContentType!.ToString())), 400, "ends early");
        // Over the 2 MB limit but within Kestrel's cap (limit + 1 MB of framing), so the whole body is read and answered
        // rather than the connection closed while the client still writes.
        await Expect(c, Post(Form(("big.dat", new byte[5 << 19]), ("big.hea", File.ReadAllBytes(Ptb + ".hea")))), 413, "limit");
        // The format-0 header declaring 12 × 5e7 samples: refused before allocating, with a 422.
        string bomb = "bomb 12 500 50000000\n" + string.Concat(LeadOrder.Model.Select(l => $"bomb.dat 0 200 16 0 0 0 0 {l}\n"));
        await Expect(c, Post(Form(("bomb.hea", Encoding.ASCII.GetBytes(bomb)), ("bomb.dat", [0, 0]))), 422, "longer than 120 s");
        // 100,000 unknown column names: 422 with the echoed detail capped (it was a 10.9 MB problem document for 1e6).
        byte[] wide = Encoding.ASCII.GetBytes(string.Join(',', Enumerable.Range(0, 100_000).Select(i => $"column{i}")) + "\n" + string.Join(',', Enumerable.Repeat("0", 100_000)) + "\n");
        await Expect(c, Post(new MultipartFormDataContent { { new ByteArrayContent(wide), "file", "wide.csv" }, { new StringContent("500"), "rate" } }), 422, "columns");
        await Expect(c, Post(new MultipartFormDataContent { { new ByteArrayContent(Csv(500, 2)), "file", "ecg.csv" }, { new StringContent("fast"), "rate" } }), 400, "fast");
        var headers = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
        for (int i = 0; i < 10; i++) headers.Headers.Add($"X-Pad-{i}", new string('p', 4000));
        await Expect(c, headers, 431);
        await Expect(c, new HttpRequestMessage(HttpMethod.Get, "/api/v1/health"), 200);
    }

    [Fact]
    public async Task NonIntegerRatesAreAnalysed()
    {
        await using var s = await Start();
        // CSV at 499.5 Hz, and a WFDB header at 499.5 Hz (both were 500s: the resampler took only whole rates).
        var csv = await Expect(s.Client, Post(new MultipartFormDataContent { { new ByteArrayContent(Csv(499.5, 2)), "file", "ecg.csv" }, { new StringContent("499.5"), "rate" } }), 200);
        Assert.Equal(499.5, csv.GetProperty("record").GetProperty("sampling_rate").GetDouble());
        var values = new float[12 * 4995];
        for (int k = 0; k < 12; k++)
            for (int t = 0; t < 4995; t++) values[k * 4995 + t] = (float)(0.8 * Math.Pow(Math.Sin(Math.PI * 1.2 * t / 499.5), 16));
        var record = WfdbWriter.FromPhysical("frac", values, LeadOrder.Model, 499.5, gain: 1000);
        var wfdb = await Expect(s.Client, Post(Form(("frac.hea", Encoding.ASCII.GetBytes(WfdbWriter.Header(record))), ("frac.dat", WfdbWriter.EncodeFormat16(record)))), 200);
        Assert.Equal(10, wfdb.GetProperty("record").GetProperty("duration_s").GetDouble());
        Assert.Equal(250, wfdb.GetProperty("signal").GetProperty("sampling_rate").GetDouble());
    }

    [Fact]
    public async Task OnlyTheLoopbackHostAndTheServersOwnOriginAreAnswered()
    {
        await using var s = await Start();
        var c = s.Client;
        HttpRequestMessage Get(string host, string? origin = null)
        {
            var r = new HttpRequestMessage(HttpMethod.Get, "/api/v1/model");
            r.Headers.Host = host;
            if (origin is not null) r.Headers.Add("Origin", origin);
            return r;
        }
        // DNS rebinding: a name the attacker controls resolving to 127.0.0.1.
        await Expect(c, Get($"attacker.example:{s.Port}"), 421);
        await Expect(c, Get($"127.0.0.1:{(s.Port == 65535 ? 1 : s.Port + 1)}"), 421);
        await Expect(c, Get($"localhost:{s.Port}"), 200);
        await Expect(c, Get($"[::1]:{s.Port}"), 200);
        // Cross-site: another page's script posting to the loopback service.
        await Expect(c, Get($"127.0.0.1:{s.Port}", "http://attacker.example"), 403);
        await Expect(c, Get($"127.0.0.1:{s.Port}", "null"), 403);
        await Expect(c, Get($"127.0.0.1:{s.Port}", $"http://127.0.0.1:{s.Port}"), 200);
        var page = await c.GetAsync("/");
        AssertSecurityHeaders(page);
        // The page works under the policy: no inline script or style in any of its documents.
        foreach (string doc in new[] { "/", "/api" })
        {
            string html = await c.GetStringAsync(doc);
            Assert.DoesNotContain("<script>", html);
            Assert.DoesNotContain("style=", html);
            Assert.DoesNotContain("<style", html);
        }
    }

    [Fact]
    public async Task AKeyedServerWantsTheKeyAndThePageSendsIt()
    {
        await using var s = await Start(new ServerOptions { ApiKey = "s3cret-key" });
        var c = s.Client;
        HttpRequestMessage Model(string? key)
        {
            var r = new HttpRequestMessage(HttpMethod.Get, "/api/v1/model");
            if (key is not null) r.Headers.Add(DeriServer.ApiKeyHeader, key);
            return r;
        }
        await Expect(c, Model(null), 401, DeriServer.ApiKeyHeader);
        await Expect(c, Model("s3cret-kez"), 401);
        await Expect(c, Model("s3cret-key"), 200);
        await Expect(c, new HttpRequestMessage(HttpMethod.Get, "/api/v1/health"), 200);
        Assert.True(DeriServer.KeyMatches("abc", "abc"));
        Assert.False(DeriServer.KeyMatches("abcd", "abc"));
        Assert.False(DeriServer.KeyMatches(null, "abc"));
        // The page is served without the key, asks for it on a 401, keeps it in sessionStorage and sends it.
        string js = await c.GetStringAsync("/app.js");
        Assert.Contains("sessionStorage.setItem", js);
        Assert.Contains("headers.set(\"X-Api-Key\"", js);
        Assert.Contains("res.status !== 401", js);
        Assert.Contains("id=\"keyForm\"", await c.GetStringAsync("/"));
    }

    [Fact]
    public async Task ARateLimitAndARequestTimeoutAnswerWithProblems()
    {
        await using (var s = await Start(new ServerOptions { MaxRequestsPerMinute = 3 }))
        {
            for (int i = 0; i < 3; i++) await Expect(s.Client, new HttpRequestMessage(HttpMethod.Get, "/api/v1/health"), 200);
            using var limited = await s.Client.GetAsync("/api/v1/model");
            Assert.Equal(429, (int)limited.StatusCode);
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            Assert.Equal("60", limited.Headers.GetValues("Retry-After").Single());
            // The page itself is not limited.
            Assert.Equal(HttpStatusCode.OK, (await s.Client.GetAsync("/")).StatusCode);
        }
        await using (var s = await Start(new ServerOptions { MaxRequestSeconds = 1 }))
        {
            // A client that sends half its upload and stalls (slowloris) is cut off at --max-request-seconds rather than
            // holding its connection. Kestrel then closes a connection whose body was left unread (often with a reset, which
            // may discard the 408 problem it wrote), so what is checked is the cut and, when it arrived, the answer.
            var form = PtbForm();
            byte[] body = await form.ReadAsByteArrayAsync();
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, s.Port);
            var stream = tcp.GetStream();
            string head = $"POST /api/v1/analyze HTTP/1.1\r\nHost: 127.0.0.1:{s.Port}\r\nContent-Type: {form.Headers.ContentType}\r\nContent-Length: {body.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var answer = new MemoryStream();
            var buffer = new byte[4096];
            try
            {
                for (int read; (read = await stream.ReadAsync(buffer, timeout.Token)) > 0;) answer.Write(buffer, 0, read);
            }
            catch (IOException)
            {
                // Reset by the server: the cut.
            }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"the stalled upload held its connection for {sw.Elapsed}");
            string text = Encoding.ASCII.GetString(answer.ToArray());
            if (text.Length > 0)
            {
                Assert.StartsWith("HTTP/1.1 408", text);
                Assert.Contains("application/problem+json", text);
            }
        }
    }

    [Fact]
    public async Task NoAnswerNamesAServerPath()
    {
        await using var s = await Start();
        string text = await s.Client.GetStringAsync("/api/v1/model");
        Assert.DoesNotContain(fx.Root, text);
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), text);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal("run", doc.RootElement.GetProperty("run").GetString());
        Assert.Equal("best.ckpt", doc.RootElement.GetProperty("checkpoint").GetString());
        Assert.Equal("index", doc.RootElement.GetProperty("index").GetString());
        Assert.Matches("^[0-9a-f]{16}$", doc.RootElement.GetProperty("checkpoint_sha256").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("checkpoint_epoch").GetInt32());
        using var refused = await s.Client.PostAsync("/api/v1/analyze", Form(("00001_lr.hea", File.ReadAllBytes(Ptb + ".hea")), ("00001_lr.dat", new byte[1000])));
        string problem = await refused.Content.ReadAsStringAsync();
        Assert.Equal(422, (int)refused.StatusCode);
        Assert.DoesNotContain(UploadFolders.Prefix, problem);
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), problem);
    }

    private static byte[] Csv(double rate, double seconds)
    {
        var sb = new StringBuilder("I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6\n");
        int n = (int)(rate * seconds);
        for (int t = 0; t < n; t++)
            sb.AppendJoin(',', Enumerable.Range(0, 12).Select(k => (0.5 * Math.Sin(2 * Math.PI * 1.2 * t / rate + k)).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture))).Append('\n');
        return Encoding.ASCII.GetBytes(sb.ToString());
    }
}
