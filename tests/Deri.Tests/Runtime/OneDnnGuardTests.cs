using System.Runtime.CompilerServices;
using Deri.Runtime;

namespace Deri.Tests.Runtime;

/// <summary>Applies the oneDNN guard and the heap tuning before any test touches LibTorch, even a test that uses TorchSharp directly.</summary>
internal static class TestAssemblyInitializer
{
#pragma warning disable CA2255 // The guard must run before the first oneDNN primitive of the test host.
    [ModuleInitializer]
    internal static void Init()
    {
        OneDnnGuard.Apply();
        NativeHeap.Apply();
    }
#pragma warning restore CA2255
}

public sealed class OneDnnGuardTests
{
    [Fact]
    public void AnAmdProcessorWithAvx512IsRecognised()
    {
        const string amd = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse avx2 avx512f avx512bw\n";
        Assert.True(OneDnnGuard.IsAmdWithAvx512(amd));
    }

    [Theory]
    [InlineData("vendor_id\t: GenuineIntel\nflags\t\t: avx2 avx512f\n")]
    [InlineData("vendor_id\t: AuthenticAMD\nflags\t\t: avx avx2 fma\n")]
    [InlineData("vendor_id\t: AuthenticAMD\nflags\t\t: avx512fx\n")]
    [InlineData("")]
    public void OtherProcessorsAreLeftAlone(string cpuInfo) => Assert.False(OneDnnGuard.IsAmdWithAvx512(cpuInfo));

    [Fact]
    public void TheGuardHasDecidedBeforeAnyTest()
    {
        Assert.NotEqual("not applied", OneDnnGuard.Status);
        if (OneDnnGuard.IsAmdWithAvx512(File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "")
            && Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is null && Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA") is null)
        {
            Assert.Equal(OneDnnGuard.MkldnnOff, OneDnnGuard.Status);
            Assert.False(OneDnnGuard.MkldnnEnabled);
        }
        else if (OneDnnGuard.Status.StartsWith("no change", StringComparison.Ordinal))
            Assert.True(OneDnnGuard.MkldnnEnabled);
    }
}
