using System.CommandLine;
using System.Text.Json;
using Deri.Runtime;

namespace Deri.Cli.Commands;

/// <summary><c>deri info</c>: versions, threads and devices of the native runtime.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var cmd = new Command("info", "Print the Deri, TorchSharp and LibTorch versions, threads in use and available devices") { device, threads, json };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var settings = CommonOptions.Settings(result, device, threads);
            var selected = settings.Resolve();
            var info = RuntimeInfo.Collect();
            if (result.GetValue(json))
            {
                var o = new Dictionary<string, object>
                {
                    ["deri"] = info.DeriVersion, ["torchsharp"] = info.TorchSharpVersion, ["libtorch"] = info.LibTorchVersion,
                    ["threads"] = info.Threads, ["interop_threads"] = info.InteropThreads, ["processors"] = info.ProcessorCount,
                    ["devices"] = info.Devices, ["selected_device"] = selected.ToString(), ["onednn"] = OneDnnGuard.Status, ["malloc"] = NativeHeap.Status,
                };
                stdout.WriteLine(JsonSerializer.Serialize(o));
                return 0;
            }
            stdout.WriteLine($"Deri        {info.DeriVersion}");
            stdout.WriteLine($"TorchSharp  {info.TorchSharpVersion}");
            stdout.WriteLine($"LibTorch    {info.LibTorchVersion}");
            stdout.WriteLine($"Threads     {info.Threads} intra-op, {info.InteropThreads} inter-op ({info.ProcessorCount} processors)");
            stdout.WriteLine($"Devices     {string.Join(", ", info.Devices)}{(info.CudaAvailable ? "" : " (CUDA not available)")}");
            stdout.WriteLine($"Selected    {selected}");
            stdout.WriteLine($"oneDNN      {OneDnnGuard.Status}");
            stdout.WriteLine($"malloc      {NativeHeap.Status}");
            return 0;
        });
        return cmd;
    }
}
