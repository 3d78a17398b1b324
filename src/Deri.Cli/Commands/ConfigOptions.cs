using System.CommandLine;
using Deri.Config;

namespace Deri.Cli.Commands;

/// <summary><c>--config FILE</c> and repeatable <c>--set KEY.PATH=VALUE</c>, shared by every command that reads a pretraining config.</summary>
internal static class ConfigOptions
{
    public static Option<string?> File() => new("--config")
    {
        Description = "Pretraining config (YAML with the release's sections: network, dataset, trainer, optimizer, zeroshot); defaults when omitted",
    };

    public static Option<string[]> Set() => new("--set")
    {
        Description = "Override one value by its dotted key, e.g. --set trainer.batch_size=64 (repeatable)",
        DefaultValueFactory = _ => [],
    };

    public static DeriConfig Load(ParseResult result, Option<string?> file, Option<string[]> set) =>
        DeriConfig.Load(result.GetValue(file), result.GetValue(set));
}
