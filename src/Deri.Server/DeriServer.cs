using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Deri.IO;
using Deri.Serving;
using Deri.Serving.Fhir;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Deri.Server;

/// <summary>How <c>deri serve</c> listens and what it tolerates from one client.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to bind (an IP address or <c>localhost</c>); loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port; 0 picks a free one.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Key that API requests must send in the <see cref="DeriServer.ApiKeyHeader"/> header; required to bind beyond loopback.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Upload limits (size cap, files, duration, declared sizes).</summary>
    public UploadLimits Limits { get; init; } = new();

    /// <summary>Most API requests one client (IP address) may make per minute; 0 for no limit. Beyond it: 429.</summary>
    public int MaxRequestsPerMinute { get; init; } = 300;

    /// <summary>Longest a request may take, body upload included (s); beyond it the request is cancelled (a 408 problem where
    /// the connection survives; a stalled upload's connection is reset by Kestrel, its body being unread).</summary>
    public double MaxRequestSeconds { get; init; } = 60;

    /// <summary>Most open connections.</summary>
    public int MaxConnections { get; init; } = 256;

    /// <summary>
    /// Where the server writes its log, one line per warning or error (an unexpected 500, never a stack trace): the CLI
    /// gives its error writer. Null (the default): the library writes nothing.
    /// </summary>
    public TextWriter? Log { get; init; }
}

/// <summary>
/// The HTTP side of <c>deri serve</c> (ASP.NET Core minimal APIs): <c>POST /api/v1/analyze</c>, <c>GET /api/v1/health</c>,
/// <c>GET /api/v1/model</c>, <c>GET /api/v1/cases/{id}</c>, the OpenAPI document at <c>/openapi/v1.json</c> with a
/// local page listing it at <c>/api</c>, and the web page at <c>/</c> (embedded assets, nothing from a CDN).
/// Every refusal is an RFC 9457 (7807) problem document with a 4xx status: 400 malformed request, 401 missing key,
/// 403 foreign origin, 404 unknown path, 408 too slow (where the connection survives), 413 too large, 415 unknown kind, 421 foreign Host, 422 unreadable
/// record, 429 too many requests, 431 headers too large; an unexpected error is a 500 problem (one log line, no stack
/// trace) and the process goes on. Every response carries a Content-Security-Policy, nosniff and a Referrer-Policy.
/// </summary>
public static class DeriServer
{
    /// <summary>Header carrying the API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>The Content-Security-Policy of every response: own scripts and styles only, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Most bytes of all request headers together; Kestrel's own (empty-bodied) 431 starts at 8 times this.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    /// <summary>Whether <paramref name="host"/> is a loopback address or <c>localhost</c>.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var a) && IPAddress.IsLoopback(a));

    /// <summary>Whether <paramref name="host"/> can be bound: <c>localhost</c> or an IP address.</summary>
    public static bool IsBindable(string host) => host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(host, out _);

    /// <summary>
    /// Builds the application around a loaded <paramref name="service"/> (not yet started). <paramref name="configure"/>
    /// may change the builder before it is built (tests use a test server there).
    /// </summary>
    /// <exception cref="InputException">A host that is not an IP address or localhost, a port outside 0–65535, or a
    /// non-loopback host without an API key.</exception>
    public static WebApplication Build(InferenceService service, ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        if (!IsBindable(options.Host)) throw new InputException($"host '{options.Host}' is neither an IP address nor localhost");
        if (options.Port is < 0 or > 65535) throw new InputException($"port {options.Port} is outside 0–65535");
        if (!IsLoopback(options.Host) && string.IsNullOrEmpty(options.ApiKey))
            throw new InputException($"binding to {options.Host} (beyond loopback) requires an API key: clients then send it in the {ApiKeyHeader} header");
        // Upload folders a killed server left behind (older than 10 minutes: no request of a live server lasts that long).
        UploadFolders.RemoveStale(TimeSpan.FromMinutes(10));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // One line per event on the caller's writer (none without one), never a stack trace; the host's and Kestrel's
        // start-up failures reach the caller as exceptions (e.g. a port in use), so their own log lines would only repeat them.
        if (options.Log is not null) builder.Logging.AddProvider(new OneLineLoggerProvider(options.Log));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", LogLevel.None);
        long requestCap = options.Limits.MaxBytes + 1024 * 1024;   // the files plus multipart framing
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = requestCap;
            k.Limits.MaxConcurrentConnections = options.MaxConnections;
            k.Limits.MaxConcurrentUpgradedConnections = 0;
            // Kestrel answers an oversized header block with an empty 431 before any middleware runs: let it through up to
            // 8× our limit so that the middleware below answers with a problem document.
            k.Limits.MaxRequestHeadersTotalSize = 8 * MaxHeaderBytes;
            k.Listen(options.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Parse(options.Host), options.Port);
        });
        builder.Services.Configure<FormOptions>(f =>
        {
            f.MultipartBodyLengthLimit = requestCap;
            f.ValueCountLimit = 64;
        });
        builder.Services.AddProblemDetails(p => p.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Detail = Cap(c.ProblemDetails.Detail, options.Limits.MaxDetailChars);
            c.ProblemDetails.Extensions.Remove("traceId");
            c.ProblemDetails.Extensions.Remove("requestId");
        });
        builder.Services.AddRequestTimeouts(t => t.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = TimeSpan.FromSeconds(options.MaxRequestSeconds),
            TimeoutStatusCode = StatusCodes.Status408RequestTimeout,
            WriteTimeoutResponse = c => Problem(c, 408, "request timeout", $"the request took longer than {options.MaxRequestSeconds} s", options.Limits),
        });
        if (options.MaxRequestsPerMinute > 0)
            builder.Services.AddRateLimiter(r =>
            {
                r.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(c =>
                    c.Request.Path.StartsWithSegments("/api/v1")
                        ? RateLimitPartition.GetFixedWindowLimiter(c.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
                        {
                            PermitLimit = options.MaxRequestsPerMinute,
                            Window = TimeSpan.FromMinutes(1),
                            QueueLimit = 0,
                        })
                        : RateLimitPartition.GetNoLimiter("page"));
                r.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                r.OnRejected = async (c, ct) =>
                {
                    c.HttpContext.Response.Headers.RetryAfter = "60";
                    await Problem(c.HttpContext, 429, "too many requests", $"more than {options.MaxRequestsPerMinute} API requests in a minute from this client", options.Limits);
                };
            });
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(service);
        configure?.Invoke(builder);
        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Deri.Server");
        app.Lifetime.ApplicationStopped.Register(UploadFolders.DeleteAll);

        app.Use(async (context, next) =>
        {
            // Set when the response starts, so that the exception handler's clearing of the response keeps them too.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers.XFrameOptions = "DENY";
                return Task.CompletedTask;
            });
            await next(context);
        });
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e switch
            {
                BadUploadException b => b.Status,
                BadHttpRequestException h => h.StatusCode,
                ServiceBusyException => StatusCodes.Status503ServiceUnavailable,
                OperationCanceledException => 499,
                _ => StatusCodes.Status500InternalServerError,
            },
            ExceptionHandler = async context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                int status = context.Response.StatusCode;
                if (status >= 500 && error is not null && error is not ServiceBusyException)
                    log.LogError("{Method} {Path}: unexpected {Type}: {Message}", context.Request.Method, context.Request.Path, error.GetType().Name, FirstLine(error.Message));
                string detail = error switch
                {
                    BadUploadException or BadHttpRequestException or ServiceBusyException => error.Message,
                    _ => "an unexpected error; the service goes on",
                };
                if (status == 499) return;   // the client went away: nobody to answer
                await Problem(context, status, status >= 500 ? "internal error" : "bad request", detail, options.Limits);
            },
        });
        // Empty-bodied refusals (unknown path, wrong method, a body type the endpoint does not accept) become problem documents.
        app.UseStatusCodePages(async c =>
        {
            var r = c.HttpContext.Response;
            string title = r.StatusCode switch
            {
                404 => "not found",
                405 => "method not allowed",
                415 => "unsupported media type",
                _ => ReasonPhrase(r.StatusCode),
            };
            string detail = r.StatusCode switch
            {
                404 => $"no resource at {c.HttpContext.Request.Path}",
                405 => $"{c.HttpContext.Request.Method} is not allowed on {c.HttpContext.Request.Path}",
                415 => "send multipart/form-data with the record's files in parts named 'file'",
                _ => ReasonPhrase(r.StatusCode),
            };
            await Problem(c.HttpContext, r.StatusCode, title, detail, options.Limits);
        });
        app.Use(async (context, next) =>
        {
            if (Refusal(context, options) is { } refusal)
            {
                await Problem(context, refusal.Status, refusal.Title, refusal.Detail, options.Limits);
                return;
            }
            await next(context);
        });
        if (options.MaxRequestsPerMinute > 0) app.UseRateLimiter();
        app.UseRequestTimeouts();

        app.MapOpenApi("/openapi/{documentName}.json");
        var api = app.MapGroup("/api/v1");
        api.MapGet("/health", (InferenceService s) => Results.Json(new { status = "ok", served = s.Served, batches = s.Batches }))
            .WithName("health").WithSummary("Liveness and request counters");
        api.MapGet("/model", (InferenceService s) => Results.Json(s.Describe()))
            .WithName("model").WithSummary("The run's name, checkpoint epoch and SHA-256, classes with prompts and thresholds, preprocessing and versions");
        api.MapGet("/model/card", (InferenceService s) => s.ModelCardPath is { } card && File.Exists(card)
                ? Results.Text(File.ReadAllText(card), "text/markdown; charset=utf-8")
                : Problem(404, "no model card", "the served model is a run folder, not a model bundle: it has no card", options.Limits))
            .WithName("modelCard").WithSummary("The model card (Markdown) of the served bundle; 404 when serving a run folder");
        api.MapGet("/cases/{id}", (string id, InferenceService s) => s.Case(id) is { } c ? Results.Json(c)
                : Problem(404, "unknown case", $"no case '{id}' in the index", options.Limits))
            .WithName("case").WithSummary("A case of the retrieval index: report, labels and tracing");
        api.MapPost("/analyze", (HttpRequest request, InferenceService s, CancellationToken ct) => Analyze(request, s, options.Limits, ct))
            .WithName("analyze").WithSummary("Analyse one ECG sent as multipart/form-data parts named 'file' (WFDB .hea+.dat, CinC .mat+.hea, CPSC2018 .mat, .zip, or CSV with a 'rate' field)")
            .WithDescription("Answers Deri's JSON (AnalysisResult); with 'Accept: application/fhir+json' an HL7 FHIR R4 Bundle (type collection): a DiagnosticReport (LOINC 11524-6), an Observation per measurement (LOINC, UCUM), per zero-shot finding and for the tracing (SampledData per lead), and the model as a Device")
            .Accepts<IFormFile>("multipart/form-data").Produces<AnalysisResult>().ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // A second Produces for 200 would replace the JSON one: the FHIR media type is added beside it.
                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content is { } content)
                    content[FhirBundleBuilder.MediaType] = new Microsoft.OpenApi.OpenApiMediaType
                    {
                        Schema = new Microsoft.OpenApi.OpenApiSchema
                        {
                            Type = Microsoft.OpenApi.JsonSchemaType.Object,
                            Description = "HL7 FHIR R4 Bundle (type collection), see http://hl7.org/fhir/R4/bundle.html",
                        },
                    };
                return Task.CompletedTask;
            })
            .DisableAntiforgery();

        foreach (var (route, resource, type) in StaticAssets)
            app.MapGet(route, () => Asset(resource, type)).ExcludeFromDescription();
        return app;
    }

    /// <summary>Starts <paramref name="app"/>, reports its addresses to <paramref name="started"/> and blocks until it is stopped (Ctrl+C, SIGTERM).</summary>
    /// <exception cref="Deri.IO.InputValueException">The address cannot be bound (e.g. the port is in use); the message names it.</exception>
    public static void RunUntilStopped(WebApplication app, Action<IReadOnlyCollection<string>> started)
    {
        try
        {
            app.Start();
        }
        catch (IOException e)
        {
            // Kestrel's message names the address ("Failed to bind to address http://127.0.0.1:8080: address already in
            // use"): the user's --host/--port, so a user's error (exit 1), not Deri's.
            throw new Deri.IO.InputValueException($"cannot listen: {e.Message}", e);
        }
        started(app.Urls.ToList());
        app.WaitForShutdown();
    }

    /// <summary>Compares two keys in time that does not depend on where they differ.</summary>
    public static bool KeyMatches(string? given, string expected)
    {
        if (given is null) return false;
        // Hash both first so that the comparison also hides the expected key's length.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
    }

    // The checks every request passes before routing: header size, Host (DNS rebinding), Origin (cross-site), API key.
    private static (int Status, string Title, string Detail)? Refusal(HttpContext context, ServerOptions options)
    {
        var request = context.Request;
        long headerBytes = 0;
        foreach (var h in request.Headers)
        {
            headerBytes += h.Key.Length + 4;
            foreach (string? v in h.Value) headerBytes += v?.Length ?? 0;
        }
        if (headerBytes > MaxHeaderBytes)
            return (431, "request headers too large", $"{headerBytes} bytes of headers; at most {MaxHeaderBytes}");
        if (IsLoopback(options.Host) && !HostAllowed(request.Host, context.Connection.LocalPort))
            return (421, "misdirected request", $"this server answers only requests for its loopback address (Host 127.0.0.1, localhost or [::1] with port {context.Connection.LocalPort})");
        if (request.Headers.Origin is { Count: > 0 } origin && !string.Equals(origin.ToString(), $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase))
            return (403, "foreign origin", "requests from pages of other sites are refused");
        bool protectedPath = request.Path.StartsWithSegments("/api/v1") && !request.Path.StartsWithSegments("/api/v1/health");
        if (!string.IsNullOrEmpty(options.ApiKey) && protectedPath && !KeyMatches(request.Headers[ApiKeyHeader].FirstOrDefault(), options.ApiKey))
            return (401, "missing or wrong API key", $"send the key in the {ApiKeyHeader} header");
        return null;
    }

    // Loopback names with the bound port (no port: only where the connection's port is the default 80, or unknown as in a test server).
    private static bool HostAllowed(HostString host, int localPort)
    {
        if (!host.HasValue) return false;
        string name = host.Host;
        bool loopbackName = name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name == "127.0.0.1" || name is "[::1]" or "::1";
        if (!loopbackName) return false;
        return host.Port is int port ? port == localPort || localPort == 0 : localPort is 80 or 0;
    }

    private static readonly (string Route, string Resource, string Type)[] StaticAssets =
    [
        ("/", "wwwroot/index.html", "text/html; charset=utf-8"),
        ("/app.js", "wwwroot/app.js", "text/javascript; charset=utf-8"),
        ("/api.js", "wwwroot/api.js", "text/javascript; charset=utf-8"),
        ("/style.css", "wwwroot/style.css", "text/css; charset=utf-8"),
        ("/api", "wwwroot/api.html", "text/html; charset=utf-8"),
    ];

    private static IResult Asset(string resource, string type)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded asset {resource} is missing from the build");
        using var m = new MemoryStream();
        s.CopyTo(m);
        return Results.Bytes(m.ToArray(), type);
    }

    // Whether the Accept header names FHIR JSON (application/fhir+json, any parameters) with a non-zero quality.
    private static bool WantsFhir(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(FhirBundleBuilder.MediaType, StringComparison.OrdinalIgnoreCase) && (a.Quality ?? 1) > 0);

    /// <summary>A problem document with the detail capped at <see cref="UploadLimits.MaxDetailChars"/>.</summary>
    private static IResult Problem(int status, string title, string detail, UploadLimits limits) =>
        Results.Problem(statusCode: status, title: title, detail: Cap(detail, limits.MaxDetailChars));

    private static Task Problem(HttpContext context, int status, string title, string detail, UploadLimits limits)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.StatusCode = status;
        return Problem(status, title, detail, limits).ExecuteAsync(context);
    }

    private static string? Cap(string? detail, int most) =>
        detail is null || detail.Length <= most ? detail : detail[..most] + $"… ({detail.Length - most} more characters)";

    private static string FirstLine(string message)
    {
        int nl = message.IndexOf('\n');
        return nl < 0 ? message : message[..nl].TrimEnd('\r');
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } p ? p.ToLowerInvariant() : $"status {status}";

    private static async Task<IResult> Analyze(HttpRequest request, InferenceService service, UploadLimits limits, CancellationToken ct)
    {
        if (request.ContentLength is long length && length > limits.MaxBytes + 1024 * 1024)
            return Problem(413, "upload too large", $"{length} bytes; the limit is {limits.MaxBytes}", limits);
        if (!request.HasFormContentType)
            return Problem(415, "not a form upload", "send multipart/form-data with the record's files in parts named 'file'", limits);
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (InvalidDataException e)
        {
            // Only the body-length limit means "too large"; the other form limits (part count, boundary or key length) and
            // framing errors are a malformed request.
            bool tooLarge = e.Message.Contains("body length limit", StringComparison.OrdinalIgnoreCase);
            return Problem(tooLarge ? 413 : 400, tooLarge ? "upload too large" : "malformed form", e.Message, limits);
        }
        catch (BadHttpRequestException e)
        {
            return Problem(e.StatusCode, e.StatusCode == 413 ? "upload too large" : "malformed request", e.Message, limits);
        }
        catch (IOException e) when (!ct.IsCancellationRequested)
        {
            // A multipart body that ends before its closing boundary.
            return Problem(400, "malformed form", $"the form ends early: {e.Message}", limits);
        }
        var files = new List<UploadedFile>();
        foreach (var f in form.Files)
        {
            if (f.Name != "file") return Problem(400, "unexpected part", $"file part '{f.Name}': name each file part 'file'", limits);
            using var m = new MemoryStream();
            await f.CopyToAsync(m, ct);
            files.Add(new UploadedFile(f.FileName, m.ToArray()));
        }
        try
        {
            var record = UploadReader.Read(files, form["rate"].FirstOrDefault(), limits);
            var result = await service.AnalyzeAsync(record, ct);
            // Accept: application/fhir+json asks for an HL7 FHIR R4 Bundle (Serving/Fhir/FhirBundleBuilder) instead of Deri's JSON.
            if (WantsFhir(request))
            {
                try
                {
                    return Results.Text(FhirBundleBuilder.ToJson(FhirBundleBuilder.Build(result, service.Describe(), record)), FhirBundleBuilder.MediaType, System.Text.Encoding.UTF8);
                }
                catch (InputFormatException e)
                {
                    return Problem(422, "record does not fit FHIR", e.Message, limits);
                }
            }
            return Results.Json(result);
        }
        catch (BadUploadException e)
        {
            return Problem(e.Status, e.Title, e.Message, limits);
        }
        catch (ServiceBusyException e)
        {
            return Problem(503, "busy", e.Message, limits);
        }
    }
}

/// <summary>Log events as one line each on a writer (stderr): level, category, message, and an exception's type and first line only.</summary>
internal sealed class OneLineLoggerProvider(TextWriter writer) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(writer, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TextWriter writer, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string message = formatter(state, exception).ReplaceLineEndings(" ");
            if (exception is not null) message += $" ({exception.GetType().Name}: {exception.Message.Split('\n')[0].TrimEnd('\r')})";
            string level = logLevel switch
            {
                LogLevel.Critical => "crit",
                LogLevel.Error => "fail",
                LogLevel.Warning => "warn",
                _ => "info",
            };
            lock (writer) writer.WriteLine($"{level}: {category}: {message}");
        }
    }
}
