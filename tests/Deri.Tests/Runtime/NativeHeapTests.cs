using System.Runtime.InteropServices;
using Deri.Runtime;

namespace Deri.Tests.Runtime;

public sealed class NativeHeapTests
{
    private static bool UserDecides => Environment.GetEnvironmentVariable("DERI_MALLOC") is not null
        || Environment.GetEnvironmentVariables().Keys.Cast<string>().Any(k => k.StartsWith("MALLOC_", StringComparison.Ordinal) || k == "GLIBC_TUNABLES");

    [Fact]
    public void TheHeapIsTunedOnLinuxUnlessTheUserDecides()
    {
        Assert.NotEqual("not applied", NativeHeap.Status);
        if (OperatingSystem.IsLinux() && !UserDecides) Assert.Equal(NativeHeap.Tuned, NativeHeap.Status);
    }

    [Fact]
    public void AFreedLargeBlockIsReusedWithoutFaultingItsPagesInAgain()
    {
        if (!OperatingSystem.IsLinux() || UserDecides) return;
        // 40 MiB is above glibc's largest mmap threshold (32 MiB), so by default every such block is a fresh mmap whose
        // 10,240 pages fault in again after each free; with the tuning the heap keeps it. Marshal.AllocHGlobal is malloc.
        // The fewest faults of three tries is asserted: which glibc arena serves a new thread varies from run to run (it
        // made one CI run of three re-fault every page once), while without the tuning every try re-faults every page.
        const int size = 40 << 20;
        var source = new byte[size];
        long faults = long.MaxValue;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                for (int attempt = 0; attempt < 3 && faults >= 2_000; attempt++)
                {
                    Touch(source);
                    long before = ThreadMinorFaults();
                    Touch(source);
                    faults = Math.Min(faults, ThreadMinorFaults() - before);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw failure;
        Assert.True(faults < 2_000, $"{faults} minor faults re-touching a freed {size >> 20} MiB block (a fresh mapping has {size / 4096})");
    }

    private static void Touch(byte[] source)
    {
        IntPtr p = Marshal.AllocHGlobal(source.Length);
        try
        {
            Marshal.Copy(source, 0, p, source.Length);
        }
        finally
        {
            Marshal.FreeHGlobal(p);
        }
    }

    // Field 10 (minflt) of /proc/thread-self/stat: this thread's minor faults, unaffected by other tests' threads.
    private static long ThreadMinorFaults()
    {
        string stat = File.ReadAllText("/proc/thread-self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
    }
}
