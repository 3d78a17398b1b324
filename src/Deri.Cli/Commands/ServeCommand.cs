using System.CommandLine;
using Deri.Server;
using Deri.Serving;

namespace Deri.Cli.Commands;

/// <summary><c>deri serve</c>: the HTTP service and web page around a loaded run.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var binder = new ServeOptionsBinder(listen: true);
        var cmd = new Command("serve", "Serve a run over HTTP: POST /api/v1/analyze (zero-shot findings, report, similar cases), the web page at /, OpenAPI at /api");
        binder.AddTo(cmd);
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var server = binder.Server(result) with { Log = result.InvocationConfiguration.Error };
            using var service = new InferenceService(binder.Service(result), stderr.WriteLine);
            using var app = DeriServer.Build(service, server);
            DeriServer.RunUntilStopped(app, urls => stdout.WriteLine($"listening on {string.Join(", ", urls)} (Ctrl+C stops)"));
            return 0;
        });
        return cmd;
    }
}
