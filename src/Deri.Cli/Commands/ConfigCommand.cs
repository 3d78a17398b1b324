using System.CommandLine;
using Deri.Config;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary><c>deri config</c>: prints or saves the resolved pretraining config (defaults, file, overrides).</summary>
internal static class ConfigCommand
{
    /// <summary>The first line of the printed or saved config: how its relative paths are read back.</summary>
    public const string PathNote =
        "# Relative paths in a config file resolve against the folder of that file (paths given with --set: against the working folder).\n";

    public static Command Create()
    {
        var file = ConfigOptions.File();
        var set = ConfigOptions.Set();
        var output = new Option<string?>("--out") { Description = "Write the resolved config to this YAML file instead of printing it" };
        var cmd = new Command("config", "Resolve a pretraining config (defaults < file < --set overrides), check it, and print or save it as YAML")
        {
            file, set, output,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var config = ConfigOptions.Load(result, file, set);
            string? path = result.GetValue(output);
            if (path is null)
            {
                stdout.Write(PathNote + config.ToYaml());
                return 0;
            }
            AtomicFile.WriteAllText(path, PathNote + config.ToYaml());
            stdout.WriteLine($"wrote {Path.GetFullPath(path)}");
            return 0;
        });
        return cmd;
    }
}
