using System.CommandLine;
using Deri.Runtime;
using Deri.Server;
using Deri.Serving;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary>
/// The options of <c>deri serve</c> and <c>deri bench serve</c>, declared and bound in one place: what the service loads
/// (<see cref="ServiceOptions"/>) and how the server listens and what it tolerates (<see cref="ServerOptions"/>).
/// <c>bench serve</c> always listens on a free loopback port, so it leaves out <c>--host</c>, <c>--port</c> and the key.
/// </summary>
internal sealed class ServeOptionsBinder
{
    /// <summary>Environment variable that may hold the API key.</summary>
    public const string ApiKeyVariable = "DERI_API_KEY";

    private readonly Option<string?> run = new("--run") { Description = "DERI or MERL run folder, or a model bundle (`deri model build`; default: models/deri-ptbxl, see `deri model info`)" };
    private readonly Option<string> checkpoint = DownstreamOptions.Checkpoint();
    private readonly Option<string?> reportModel = new("--report-model") { Description = "Report-generation run (`deri report train`): adds a generated report to each answer" };
    private readonly Option<string?> index = new("--index") { Description = "Retrieval index (`deri index build`): adds the most similar cases to each answer" };
    private readonly Option<string?> store = new("--store") { Description = "Store whose preprocessing and validation thresholds to use (default: the index's store, else the run's dataset.data_path)" };
    private readonly Option<string?> prompts = new("--prompts") { Description = "Prompt file (default: the run's zeroshot.prompt_dict)" };
    private readonly Option<int> maxUpload = new("--max-upload-mb") { Description = "Largest upload, archives unpacked included (MB)", DefaultValueFactory = _ => 20 };
    private readonly Option<int> maxBatch = new("--max-batch") { Description = "Most queued requests one forward pass serves", DefaultValueFactory = _ => 16 };
    private readonly Option<int> maxRequests = new("--max-requests-per-minute") { Description = "Most API requests per client (IP address) and minute, then 429 (0: no limit)", DefaultValueFactory = _ => 300 };
    private readonly Option<double> maxSeconds = new("--max-request-seconds") { Description = "Longest a request may take, upload included, then 408", DefaultValueFactory = _ => 60 };
    private readonly Option<int> maxConnections = new("--max-connections") { Description = "Most open connections", DefaultValueFactory = _ => 256 };
    private readonly Option<string> host = new("--host") { Description = "Address to bind (an IP address or localhost); anything beyond loopback requires an API key", DefaultValueFactory = _ => "127.0.0.1" };
    private readonly Option<int> port = new("--port") { Description = "Port (0: a free one)", DefaultValueFactory = _ => 8080 };
    private readonly Option<string?> apiKey = new("--api-key") { Description = $"Key clients must send in the {DeriServer.ApiKeyHeader} header (required beyond loopback; also from ${ApiKeyVariable} or --api-key-file)" };
    private readonly Option<string?> apiKeyFile = new("--api-key-file") { Description = "File whose first line is the API key (keeps the key out of the process list)" };
    private readonly Option<string> device = CommonOptions.Device();
    private readonly Option<int> threads = CommonOptions.Threads();
    private readonly bool listen;

    /// <summary>Declares the options; <paramref name="listen"/> adds <c>--host</c>, <c>--port</c> and the API key options.</summary>
    public ServeOptionsBinder(bool listen)
    {
        this.listen = listen;
        if (!listen)
        {
            maxRequests.DefaultValueFactory = _ => 0;
            maxRequests.Description = "Most API requests per client and minute, then 429 (0, the default here: no limit)";
        }
    }

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        Option[] options = listen
            ? [run, checkpoint, reportModel, index, store, prompts, host, port, apiKey, apiKeyFile, maxUpload, maxBatch, maxRequests, maxSeconds, maxConnections, device, threads]
            : [run, checkpoint, reportModel, index, store, prompts, maxUpload, maxBatch, maxRequests, maxSeconds, maxConnections, device, threads];
        foreach (var o in options) command.Options.Add(o);
    }

    /// <summary>The server options; a wrong value or combination is a <see cref="CliUsageException"/>.</summary>
    /// <exception cref="CliUsageException">A value out of range, a host that is not an address, or a non-loopback host without a key.</exception>
    /// <exception cref="IOException">The key file cannot be read.</exception>
    public ServerOptions Server(ParseResult result)
    {
        int upload = result.GetValue(maxUpload), batch = result.GetValue(maxBatch), perMinute = result.GetValue(maxRequests), connections = result.GetValue(maxConnections);
        double seconds = result.GetValue(maxSeconds);
        if (upload <= 0) throw new CliUsageException($"--max-upload-mb must be positive, got {upload}");
        if (batch <= 0) throw new CliUsageException($"--max-batch must be positive, got {batch}");
        if (perMinute < 0) throw new CliUsageException($"--max-requests-per-minute must be 0 (no limit) or positive, got {perMinute}");
        if (!(seconds > 0) || !double.IsFinite(seconds)) throw new CliUsageException($"--max-request-seconds must be positive, got {seconds}");
        if (connections <= 0) throw new CliUsageException($"--max-connections must be positive, got {connections}");
        var options = new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            Limits = new UploadLimits { MaxBytes = (long)upload * 1024 * 1024 },
            MaxRequestsPerMinute = perMinute,
            MaxRequestSeconds = seconds,
            MaxConnections = connections,
        };
        if (!listen) return options;
        string h = result.GetValue(host)!;
        int p = result.GetValue(port);
        if (!DeriServer.IsBindable(h)) throw new CliUsageException($"--host '{h}' is neither an IP address nor localhost");
        if (p is < 0 or > 65535) throw new CliUsageException($"--port {p} is outside 0–65535");
        string? key = Key(result);
        if (!DeriServer.IsLoopback(h) && string.IsNullOrEmpty(key))
            throw new CliUsageException($"--host {h} is beyond loopback: give an API key (--api-key, --api-key-file or ${ApiKeyVariable})");
        return options with { Host = h, Port = p, ApiKey = key };
    }

    /// <summary>The service options (device resolved here).</summary>
    public ServiceOptions Service(ParseResult result, DeviceSettings? settings = null) => new()
    {
        Run = ModelCommand.RunOrDefault(result.GetValue(run)),
        Checkpoint = result.GetValue(checkpoint)!,
        ReportModel = result.GetValue(reportModel),
        Index = result.GetValue(index),
        Store = result.GetValue(store),
        Prompts = result.GetValue(prompts),
        Device = (settings ?? Settings(result)).Resolve(),
        MaxBatch = result.GetValue(maxBatch),
    };

    /// <summary>The <c>--device</c> and <c>--threads</c> settings.</summary>
    public DeviceSettings Settings(ParseResult result) => CommonOptions.Settings(result, device, threads);

    // One source of the key: --api-key, --api-key-file or the environment, in that order; giving both options is a mistake.
    private string? Key(ParseResult result)
    {
        string? given = result.GetValue(apiKey), file = result.GetValue(apiKeyFile);
        if (given is not null && file is not null) throw new CliUsageException("give --api-key or --api-key-file, not both");
        if (file is not null)
        {
            if (!File.Exists(file)) throw new InputFileNotFoundException($"{file}: API key file not found", file);
            string key = File.ReadLines(file).FirstOrDefault()?.Trim() ?? "";
            if (key.Length == 0) throw new InputFormatException($"{file}: the API key file's first line is empty");
            return key;
        }
        if (given is not null)
            return given.Length > 0 ? given : throw new CliUsageException("--api-key is empty");
        string? env = Environment.GetEnvironmentVariable(ApiKeyVariable);
        return string.IsNullOrEmpty(env) ? null : env;
    }
}
