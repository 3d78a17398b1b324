using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Deri.Runtime;

/// <summary>
/// Keeps LibTorch's convolutions off oneDNN (mkldnn) on AMD processors with AVX-512, where the AVX-512 and AVX2 1×1
/// convolution backward-weights kernel of the oneDNN bundled with LibTorch 2.10 corrupts the heap (seen on an AMD EPYC
/// with AVX-512: glibc aborts with "corrupted size vs. prev_size", or a segfault inside
/// <c>jit_avx512_common_1x1_convolution_bwd_weights_t</c>).
/// </summary>
/// <remarks>
/// <para>
/// The guard switches LibTorch's mkldnn backend off (<c>at::globalContext().setUserEnabledMkldnn(false)</c>, what
/// <c>torch.backends.mkldnn.enabled = False</c> does in Python) and NNPACK with it (it does not support these
/// processors and would only print a warning), so convolutions run on LibTorch's own im2col + BLAS kernels at the full
/// instruction set. Measured with <c>deri bench train --batch 64 --length 1000 --text-len 64</c> (the demo's shape) on
/// the affected EPYC, in process CPU ms per step: 16,516 with oneDNN limited to SSE4.1 (this guard's earlier form),
/// 10,943 with mkldnn off. Where the native call is unavailable the guard falls back to limiting oneDNN to SSE4.1
/// (<c>ONEDNN_MAX_CPU_ISA</c>, set with <c>setenv</c> because .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the C environment on Unix).
/// </para>
/// <para>
/// The crash is not the only defect: with oneDNN's AVX-512 kernels (<c>ONEDNN_MAX_CPU_ISA=ALL</c> or <c>AVX512_CORE</c>),
/// <c>ParityTests.BasicBlockMatchesPyTorch</c> finds a 51 % relative error in the gradient of a k3 stride-2 convolution's
/// weight, and with its AVX2 kernels the ViT's patch-embedding convolution gives embeddings 0.24 away from ONNX Runtime's
/// (<c>OnnxExportTests</c>). Both pass with the guard. Measured with LibTorch 2.10 (TorchSharp 0.107) on an AMD EPYC, 2026-12-05.
/// </para>
/// <para>
/// A user who sets <c>ONEDNN_MAX_CPU_ISA</c> (or the older <c>DNNL_MAX_CPU_ISA</c>) decides alone: the guard then
/// changes nothing, so <c>ONEDNN_MAX_CPU_ISA=ALL</c> restores oneDNN's AVX-512 kernels. Intel processors and non-Linux
/// systems are left alone.
/// </para>
/// </remarks>
public static class OneDnnGuard
{
    /// <summary>The instruction-set limit applied on affected processors when mkldnn cannot be switched off.</summary>
    public const string Limit = "SSE41";

    /// <summary>The <see cref="Status"/> when the guard switched mkldnn off.</summary>
    public const string MkldnnOff = "mkldnn convolutions off (AMD processor with AVX-512; ONEDNN_MAX_CPU_ISA=ALL keeps them)";

    private static int _applied;

    /// <summary>What <see cref="Apply"/> decided, for <c>deri info</c>: what was changed, the user's own value, or why nothing was.</summary>
    public static string Status { get; private set; } = "not applied";

    /// <summary>Whether LibTorch's mkldnn backend is enabled in this process (<c>torch.backends.mkldnn.enabled</c>).</summary>
    public static bool MkldnnEnabled => userEnabledMkldnn(globalContext());

    /// <summary>Applies the guard once per process if this machine needs it; later calls do nothing.</summary>
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
            Status = "no change (not Linux x64)";
            return;
        }
        if (!IsAmdWithAvx512(ReadCpuInfo()))
        {
            Status = "no change (not an AMD processor with AVX-512)";
            return;
        }
        try
        {
            var context = globalContext();
            setUserEnabledMkldnn(context, false);
            setUserEnabledNNPACK(context, false);
            Status = MkldnnOff;
            return;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A LibTorch build without these exported symbols: limit oneDNN's instruction set instead (slower, also safe).
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

    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr globalContext();

    // at::globalContext() and at::Context members, exported by libtorch_cpu with C++ names; a member function takes the
    // object as its first argument in the x86-64 System V ABI, which is why this is limited to Linux x64.
    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void setUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    [DllImport("torch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.I1)]
    private static extern bool userEnabledMkldnn(IntPtr context);

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void setUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
