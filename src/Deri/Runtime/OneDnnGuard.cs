using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Deri.Runtime;

/// <summary>
/// Keeps LibTorch's oneDNN off its AVX-512 kernels on AMD processors, where the AVX-512 1×1 convolution
/// backward-weights kernel of the oneDNN bundled with LibTorch 2.10 corrupts the heap (seen on an AMD EPYC
/// with AVX-512: glibc aborts with "corrupted size vs. prev_size", or a segfault inside
/// <c>jit_avx512_common_1x1_convolution_bwd_weights_t</c>). oneDNN reads <c>ONEDNN_MAX_CPU_ISA</c> from the
/// process environment when it creates its first primitive, so the variable is set natively (with
/// <c>setenv</c>; .NET's <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the
/// C environment on Unix) when this assembly loads, before any tensor exists.
/// </summary>
/// <remarks>
/// A value the user already set (<c>ONEDNN_MAX_CPU_ISA</c> or the older <c>DNNL_MAX_CPU_ISA</c>) is never
/// changed, so <c>ONEDNN_MAX_CPU_ISA=ALL</c> restores the AVX-512 kernels. Intel processors and non-Linux
/// systems are left alone.
/// </remarks>
public static class OneDnnGuard
{
    /// <summary>The instruction-set limit applied on affected processors.</summary>
    public const string Limit = "AVX2";

    private static int _applied;

    /// <summary>What <see cref="Apply"/> decided, for <c>deri info</c>: the limit set, the user's own value, or why nothing was set.</summary>
    public static string Status { get; private set; } = "not applied";

    /// <summary>Sets the limit once per process if this machine needs it; later calls do nothing.</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1) return;
        string? user = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");
        if (user is not null)
        {
            Status = $"ONEDNN_MAX_CPU_ISA={user} (set by the user)";
            return;
        }
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Status = "no limit (not Linux x64)";
            return;
        }
        if (!IsAmdWithAvx512(ReadCpuInfo()))
        {
            Status = "no limit (not an AMD processor with AVX-512)";
            return;
        }
        Status = setenv("ONEDNN_MAX_CPU_ISA", Limit, 0) == 0
            ? $"ONEDNN_MAX_CPU_ISA={Limit} (AMD processor with AVX-512)"
            : "could not set ONEDNN_MAX_CPU_ISA";
    }

    /// <summary>Whether <c>/proc/cpuinfo</c> text describes an AMD processor whose flags include <c>avx512f</c>.</summary>
    public static bool IsAmdWithAvx512(string cpuInfo)
    {
        bool amd = false, avx512 = false;
        foreach (string line in cpuInfo.Split('\n'))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string key = line[..colon].Trim(), value = line[(colon + 1)..];
            if (key == "vendor_id") amd |= value.Trim() == "AuthenticAMD";
            else if (key == "flags") avx512 |= value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("avx512f");
            if (amd && avx512) return true;
        }
        return false;
    }

    private static string ReadCpuInfo()
    {
        try
        {
            return File.ReadAllText("/proc/cpuinfo");
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

#pragma warning disable CA2255 // A library initializer is the point: it must run before LibTorch creates any oneDNN primitive.
    [ModuleInitializer]
    internal static void OnLoad() => Apply();
#pragma warning restore CA2255

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
