using System.Reflection;
using TorchSharp;

namespace Deri.Runtime;

/// <summary>What the native runtime provides on this machine, as printed by <c>deri info</c>.</summary>
/// <param name="DeriVersion">Version of the Deri library.</param>
/// <param name="TorchSharpVersion">Version of the TorchSharp managed assembly.</param>
/// <param name="LibTorchVersion">Version of the LibTorch native library TorchSharp loaded.</param>
/// <param name="Threads">Intra-op threads LibTorch uses now.</param>
/// <param name="InteropThreads">Inter-op threads LibTorch uses now.</param>
/// <param name="CudaAvailable">Whether a CUDA device can be used.</param>
/// <param name="CudaDevices">Number of CUDA devices.</param>
/// <param name="ProcessorCount">Logical processors the process may use.</param>
public sealed record RuntimeInfo(
    string DeriVersion, string TorchSharpVersion, string LibTorchVersion, int Threads, int InteropThreads,
    bool CudaAvailable, int CudaDevices, int ProcessorCount)
{
    /// <summary>Loads the native runtime (if not yet loaded) and reads its facts.</summary>
    public static RuntimeInfo Collect()
    {
        bool cuda = torch.cuda.is_available();
        return new RuntimeInfo(
            Informational(typeof(RuntimeInfo).Assembly),
            Informational(typeof(torch).Assembly),
            TrimVersion(torch.__version__),
            torch.get_num_threads(),
            torch.get_num_interop_threads(),
            cuda,
            cuda ? torch.cuda.device_count() : 0,
            Environment.ProcessorCount);
    }

    /// <summary>The devices a command can run on, CPU first.</summary>
    public IReadOnlyList<string> Devices =>
        CudaAvailable ? ["cpu", .. Enumerable.Range(0, CudaDevices).Select(i => $"cuda:{i}")] : ["cpu"];

    // LibTorch reports four components ("2.10.0.0"); PyTorch users know it by three.
    private static string TrimVersion(string v) => v.Count(c => c == '.') == 3 && v.EndsWith(".0", StringComparison.Ordinal) ? v[..^2] : v;

    private static string Informational(Assembly assembly)
    {
        string? v = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        v ??= assembly.GetName().Version?.ToString() ?? "unknown";
        int plus = v.IndexOf('+');
        return plus >= 0 ? v[..plus] : v;
    }
}
