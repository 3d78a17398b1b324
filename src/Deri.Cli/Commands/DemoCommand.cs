using System.CommandLine;
using Deri.Cli.Progress;
using Deri.Workflows;

namespace Deri.Cli.Commands;

/// <summary><c>deri demo</c>: the main job on the embedded synthetic data, end to end.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Folder for data, store, run and tables", DefaultValueFactory = _ => "runs/demo" };
        var records = new Option<int>("--records") { Description = "Synthetic ECG–report pairs to generate", DefaultValueFactory = _ => 8000 };
        var seed = new Option<int>("--seed") { Description = "Seed of data, split and training", DefaultValueFactory = _ => 7 };
        var set = ConfigOptions.Set();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("demo",
            "Synthesise ECG–report pairs, pretrain a small DERI on them and print a zero-shot table on a held-out split (about 10 minutes on 2 CPU cores)")
        {
            output, records, seed, set, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var settings = CommonOptions.Settings(result, device, threads);
            var dev = settings.Resolve();
            var options = new DemoOptions(result.GetValue(output)!, result.GetValue(records), result.GetValue(seed),
                result.GetValue(set), settings.Threads);
            var demo = Demo.Run(options, dev, stderr.WriteLine, ConsoleProgress.For(Demo.LogEverySteps),
                "deri " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
            // Status went to stderr while it ran; the result table and its summary line are the command's output.
            stdout.WriteLine(demo.Summary());
            return 0;
        });
        return cmd;
    }
}
