using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Deri.Runtime;

/// <summary>
/// Keeps glibc's allocator from handing LibTorch's large tensors back to the kernel after every use, which made
/// training on CPU spend a third of its time in page faults.
/// </summary>
/// <remarks>
/// <para>
/// By default glibc serves every allocation above its mmap threshold (128 KiB, rising to at most 32 MiB) with a fresh
/// <c>mmap</c> and returns it with <c>munmap</c> on free. A DERI training step allocates and frees about 2 GB of
/// activations and gradients, so each step faults every page in again and the kernel zeroes it: 2.2–2.7 million minor
/// faults and 16–23 s of system time per <c>deri bench train</c> run (batch 32, 12 × 5000, 2 threads) on this
/// project's machine. With <c>M_MMAP_MAX = 0</c> (serve large blocks from the heap, <c>mmap</c> only as glibc's own
/// fallback when the heap cannot grow), <c>M_TRIM_THRESHOLD</c> at its maximum (keep freed memory) and a 256 MiB
/// <c>M_TOP_PAD</c>, freed blocks are reused: ~0.6 million faults, ~5 s system time, 4.4–4.8 → 7.1–7.3 samples/s.
/// The price is that the process keeps its peak heap (2.6 GB instead of 2.2–2.4 GB peak RSS in that benchmark).
/// </para>
/// <para>
/// A user who sets any <c>MALLOC_*</c> variable or <c>GLIBC_TUNABLES</c> decides alone, and <c>DERI_MALLOC=default</c>
/// leaves glibc's defaults. Other C libraries (musl) and systems other than Linux are left alone.
/// </para>
/// </remarks>
public static class NativeHeap
{
    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_MAX = -4;

    /// <summary>Extra heap requested with each growth, bytes.</summary>
    public const int TopPad = 256 << 20;

    /// <summary>The <see cref="Status"/> when the tuning was applied.</summary>
    public const string Tuned = "glibc malloc keeps freed memory (M_MMAP_MAX=0, M_TRIM_THRESHOLD=max, M_TOP_PAD=256 MiB); DERI_MALLOC=default keeps glibc's defaults";

    private static int _applied;

    /// <summary>What <see cref="Apply"/> decided, for <c>deri info</c>.</summary>
    public static string Status { get; private set; } = "not applied";

    /// <summary>Applies the tuning once per process where it applies; later calls do nothing.</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1) return;
        if (Environment.GetEnvironmentVariable("DERI_MALLOC") is { } own)
        {
            Status = $"DERI_MALLOC={own}: glibc's defaults";
            return;
        }
        var userSettings = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k.StartsWith("MALLOC_", StringComparison.Ordinal) || k == "GLIBC_TUNABLES").Order().ToList();
        if (userSettings.Count > 0)
        {
            Status = $"no change ({string.Join(", ", userSettings)} set by the user)";
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            Status = "no change (not Linux)";
            return;
        }
        try
        {
            bool ok = mallopt(M_MMAP_MAX, 0) == 1 & mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1 & mallopt(M_TOP_PAD, TopPad) == 1;
            Status = ok ? Tuned : "mallopt refused a setting; glibc's defaults";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Status = "no change (the C library has no mallopt)";
        }
    }

#pragma warning disable CA2255 // It must run before LibTorch allocates its first large tensor.
    [ModuleInitializer]
    internal static void OnLoad() => Apply();
#pragma warning restore CA2255

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
