using System.Net;
using System.Reflection;
using Deri.Serving;
using Deri.Serving.Fhir;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Deri.Server;

/// <summary>How <c>deri serve</c> listens.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to bind; loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port; 0 picks a free one.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Key that API requests must send in the <see cref="DeriServer.ApiKeyHeader"/> header; required to bind beyond loopback.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Upload limits (size cap, files, duration).</summary>
    public UploadLimits Limits { get; init; } = new();
}

/// <summary>
/// The HTTP side of <c>deri serve</c> (ASP.NET Core minimal APIs): <c>POST /api/v1/analyze</c>, <c>GET /api/v1/health</c>,
/// <c>GET /api/v1/model</c>, <c>GET /api/v1/cases/{id}</c>, the OpenAPI document at <c>/openapi/v1.json</c> with a
/// local page listing it at <c>/api</c>, and the web page at <c>/</c> (embedded assets, nothing from a CDN).
/// Every refusal is a JSON problem document (RFC 9457) with a 4xx status; an unexpected error is a 500 problem and
/// the process goes on.
/// </summary>
public static class DeriServer
{
    /// <summary>Header carrying the API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Whether <paramref name="host"/> is a loopback address or <c>localhost</c>.</summary>
    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var a) && IPAddress.IsLoopback(a));

    /// <summary>
    /// Builds the application around a loaded <paramref name="service"/> (not yet started). <paramref name="configure"/>
    /// may change the builder before it is built (tests use a test server there).
    /// </summary>
    /// <exception cref="ArgumentException">A non-loopback host without an API key.</exception>
    public static WebApplication Build(InferenceService service, ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        if (!IsLoopback(options.Host) && string.IsNullOrEmpty(options.ApiKey))
            throw new ArgumentException($"binding to {options.Host} (beyond loopback) requires --api-key: clients then send it in the {ApiKeyHeader} header");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        long requestCap = options.Limits.MaxBytes + 1024 * 1024;   // the files plus multipart framing
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = requestCap;
            k.Listen(options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host), options.Port);
        });
        builder.Services.Configure<FormOptions>(f =>
        {
            f.MultipartBodyLengthLimit = requestCap;
            f.ValueCountLimit = 64;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(service);
        configure?.Invoke(builder);
        var app = builder.Build();

        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e switch
            {
                BadUploadException b => b.Status,
                BadHttpRequestException h => h.StatusCode,
                ServiceBusyException => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            },
        });
        if (!string.IsNullOrEmpty(options.ApiKey))
            app.Use(async (context, next) =>
            {
                bool api = context.Request.Path.StartsWithSegments("/api/v1") && !context.Request.Path.StartsWithSegments("/api/v1/health");
                if (api && context.Request.Headers[ApiKeyHeader] != options.ApiKey)
                {
                    await Results.Problem(statusCode: 401, title: "missing or wrong API key", detail: $"send the key in the {ApiKeyHeader} header").ExecuteAsync(context);
                    return;
                }
                await next(context);
            });

        app.MapOpenApi("/openapi/{documentName}.json");
        var api = app.MapGroup("/api/v1");
        api.MapGet("/health", (InferenceService s) => Results.Json(new { status = "ok", served = s.Served, batches = s.Batches }))
            .WithName("health").WithSummary("Liveness and request counters");
        api.MapGet("/model", (InferenceService s) => Results.Json(s.Describe()))
            .WithName("model").WithSummary("The run, classes with prompts and thresholds, preprocessing and versions");
        api.MapGet("/cases/{id}", (string id, InferenceService s) => s.Case(id) is { } c ? Results.Json(c)
                : Results.Problem(statusCode: 404, title: "unknown case", detail: $"no case '{id}' in the index"))
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
    public static void RunUntilStopped(WebApplication app, Action<IReadOnlyCollection<string>> started)
    {
        app.Start();
        started(app.Urls.ToList());
        app.WaitForShutdown();
    }

    private static readonly (string Route, string Resource, string Type)[] StaticAssets =
    [
        ("/", "wwwroot/index.html", "text/html; charset=utf-8"),
        ("/app.js", "wwwroot/app.js", "text/javascript; charset=utf-8"),
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

    private static async Task<IResult> Analyze(HttpRequest request, InferenceService service, UploadLimits limits, CancellationToken ct)
    {
        if (request.ContentLength is long length && length > limits.MaxBytes + 1024 * 1024)
            return Results.Problem(statusCode: 413, title: "upload too large", detail: $"{length} bytes; the limit is {limits.MaxBytes}");
        if (!request.HasFormContentType)
            return Results.Problem(statusCode: 415, title: "not a form upload", detail: "send multipart/form-data with the record's files in parts named 'file'");
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (InvalidDataException e)
        {
            bool tooLarge = e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase);
            return Results.Problem(statusCode: tooLarge ? 413 : 400, title: tooLarge ? "upload too large" : "malformed form", detail: e.Message);
        }
        var files = new List<UploadedFile>();
        foreach (var f in form.Files)
        {
            if (f.Name != "file") return Results.Problem(statusCode: 400, title: "unexpected part", detail: $"file part '{f.Name}': name each file part 'file'");
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
                catch (InvalidDataException e)
                {
                    return Results.Problem(statusCode: 422, title: "record does not fit FHIR", detail: e.Message);
                }
            }
            return Results.Json(result);
        }
        catch (BadUploadException e)
        {
            return Results.Problem(statusCode: e.Status, title: e.Title, detail: e.Message);
        }
        catch (ServiceBusyException e)
        {
            return Results.Problem(statusCode: 503, title: "busy", detail: e.Message);
        }
    }
}
