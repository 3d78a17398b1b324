using System.CommandLine;
using Deri.Server;
using Deri.Serving;

namespace Deri.Cli.Commands;

/// <summary><c>deri serve</c>: the HTTP service and web page around a loaded run.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "DERI or MERL run folder (`deri pretrain`, `deri demo`)", Required = true };
        var checkpoint = DownstreamOptions.Checkpoint();
        var reportModel = new Option<string?>("--report-model") { Description = "Report-generation run (`deri report train`): adds a generated report to each answer" };
        var index = new Option<string?>("--index") { Description = "Retrieval index (`deri index build`): adds the most similar cases to each answer" };
        var store = new Option<string?>("--store") { Description = "Store whose preprocessing and validation thresholds to use (default: the index's store, else the run's dataset.data_path)" };
        var prompts = new Option<string?>("--prompts") { Description = "Prompt file (default: the run's zeroshot.prompt_dict)" };
        var host = new Option<string>("--host") { Description = "Address to bind; anything beyond loopback requires --api-key", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port (0: a free one)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = $"Key clients must send in the {DeriServer.ApiKeyHeader} header (required beyond loopback)" };
        var maxUpload = new Option<int>("--max-upload-mb") { Description = "Largest upload, archives unpacked included (MB)", DefaultValueFactory = _ => 20 };
        var maxBatch = new Option<int>("--max-batch") { Description = "Most queued requests one forward pass serves", DefaultValueFactory = _ => 16 };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("serve", "Serve a run over HTTP: POST /api/v1/analyze (zero-shot findings, report, similar cases), the web page at /, OpenAPI at /api")
        {
            run, checkpoint, reportModel, index, store, prompts, host, port, apiKey, maxUpload, maxBatch, device, threads,
        };
        cmd.SetAction(result =>
        {
            var server = new ServerOptions
            {
                Host = result.GetValue(host)!,
                Port = result.GetValue(port),
                ApiKey = result.GetValue(apiKey),
                Limits = new UploadLimits { MaxBytes = (long)result.GetValue(maxUpload) * 1024 * 1024 },
            };
            if (!DeriServer.IsLoopback(server.Host) && string.IsNullOrEmpty(server.ApiKey))
                throw new CliUsageException($"--host {server.Host} is beyond loopback: give --api-key too");
            if (server.Limits.MaxBytes <= 0 || result.GetValue(maxBatch) <= 0) throw new CliUsageException("--max-upload-mb and --max-batch must be positive");
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            using var service = new InferenceService(new ServiceOptions
            {
                Run = result.GetValue(run)!,
                Checkpoint = result.GetValue(checkpoint)!,
                ReportModel = result.GetValue(reportModel),
                Index = result.GetValue(index),
                Store = result.GetValue(store),
                Prompts = result.GetValue(prompts),
                Device = dev,
                MaxBatch = result.GetValue(maxBatch),
            }, Console.Error.WriteLine);
            using var app = DeriServer.Build(service, server);
            DeriServer.RunUntilStopped(app, urls => Console.WriteLine($"listening on {string.Join(", ", urls)} (Ctrl+C stops)"));
            return 0;
        });
        return cmd;
    }
}
