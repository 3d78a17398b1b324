using Deri.Retrieval;
using Deri.Server;
using Deri.Serving;
using Deri.Tests.Cli;
using Deri.Tests.Downstream;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace Deri.Tests.Serving;

/// <summary>
/// The session's demo run (<see cref="DownstreamRunFixture"/>) with what the retrieval and serving tests add once: a
/// retrieval index of its store's test split built with <c>deri index build</c>, and a report model on top of the run
/// (<c>deri report train</c>: frozen ECG side, a one-layer word-level GPT-2 of width 32, one epoch) so that the service
/// answers with a generated report.
/// </summary>
public sealed class ServeRunFixture : DownstreamRunFixture
{
    public ServeRunFixture()
    {
        BuildOutput = CliRunner.Ok("index", "build", "--run", Run, "--store", Store, "--split", "test", "--out", Index, "--threads", "1");
        string reportConfig = Path.Combine(Root, "report.yaml");
        File.WriteAllText(reportConfig, $"""
            pretrained_run: {Run}
            data_path: {Store}
            freeze_ecg: true
            small_decoder:
              n_layer: 1
              n_embd: 32
              n_head: 2
              dropout: 0.0
            trainer:
              batch_size: 32
              max_epochs: 1
              checkpoint_every_steps: 0
              num_workers: 0
              seed: 3
            decoding:
              num_beams: 1
              max_new_tokens: 40
            """);
        CliRunner.Ok("report", "train", "--config", reportConfig, "--out", ReportModel, "--threads", "1");
        server = new Lazy<(InferenceService, WebApplication, HttpClient)>(StartServer);
    }

    private readonly Lazy<(InferenceService Service, WebApplication App, HttpClient Client)> server;

    /// <summary>The service on the run and index, loaded once.</summary>
    public InferenceService Service => server.Value.Service;

    /// <summary>A client of the in-memory test server around <see cref="Service"/> (upload cap 2 MB so that the size tests stay small).</summary>
    public HttpClient Client => server.Value.Client;

    private (InferenceService, WebApplication, HttpClient) StartServer()
    {
        var service = new InferenceService(new ServiceOptions { Run = Run, Index = Index, ReportModel = ReportModel, MaxBatch = 8 });
        var app = DeriServer.Build(service, new ServerOptions { Port = 0, Limits = new UploadLimits { MaxBytes = 2 * 1024 * 1024 } },
            b => b.WebHost.UseTestServer());
        app.StartAsync().GetAwaiter().GetResult();
        return (service, app, app.GetTestClient());
    }

    public string Index => Path.Combine(Root, "index");
    public string ReportModel => Path.Combine(Root, "report");
    public string BuildOutput { get; }

    /// <summary>Opens the index (the caller disposes it).</summary>
    public RetrievalIndex OpenIndex() => RetrievalIndex.Open(Index);

    protected override void Dispose(bool disposing)
    {
        if (disposing && server.IsValueCreated)
        {
            server.Value.Client.Dispose();
            server.Value.App.StopAsync().GetAwaiter().GetResult();
            ((IDisposable)server.Value.App).Dispose();
            server.Value.Service.Dispose();
        }
        base.Dispose(disposing);
    }
}

[CollectionDefinition("serve-run")]
public sealed class ServeRunCollection : ICollectionFixture<ServeRunFixture>;
