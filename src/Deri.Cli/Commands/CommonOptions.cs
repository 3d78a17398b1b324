using System.CommandLine;
using Deri.Runtime;

namespace Deri.Cli.Commands;

/// <summary>Options that every compute command takes.</summary>
internal static class CommonOptions
{
    public static Option<string> Device() => new("--device")
    {
        Description = "Compute device: cpu, cuda or auto (CUDA when available)",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads for LibTorch (0 = one per core)",
        DefaultValueFactory = _ => 0,
    };

    public static DeviceSettings Settings(ParseResult result, Option<string> device, Option<int> threads) =>
        new(DeviceSettings.ParseKind(result.GetValue(device)!), result.GetValue(threads));
}
