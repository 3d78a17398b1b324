using Deri.Build;
using TorchSharp;

namespace Deri.Tests.Build;

/// <summary>The build-time patch of libLibTorchSharp.so: correct, idempotent, and applied where needed.</summary>
public class LibTorchSharpCompatTests
{
    private const string Version = "GLIBCXX_3.4.32";

    private static string PackagedLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string version = typeof(torch).Assembly.GetName().Version!.ToString(3);
        string path = Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp's packaged native library not found at {path}");
        return path;
    }

    [Fact]
    public void MarkingWeakIsIdempotentAndTouchesOnlyTheFlag()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"deri-elf-{Guid.NewGuid():N}.so");
        try
        {
            File.Copy(PackagedLibrary(), copy);
            byte[] before = File.ReadAllBytes(copy);
            Assert.Equal((ushort)0, ElfVersionPatcher.RequirementFlags(copy, Version));

            Assert.True(ElfVersionPatcher.MarkWeak(copy, Version));
            byte[] once = File.ReadAllBytes(copy);
            Assert.Equal((ushort)2, ElfVersionPatcher.RequirementFlags(copy, Version));
            Assert.Equal(1, before.Zip(once).Count(p => p.First != p.Second));

            Assert.False(ElfVersionPatcher.MarkWeak(copy, Version));
            Assert.Equal(once, File.ReadAllBytes(copy));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void TheNuGetCacheIsNeverPatched()
    {
        Assert.Equal((ushort)0, ElfVersionPatcher.RequirementFlags(PackagedLibrary(), Version));
        Assert.DoesNotContain("libderi_glibcxx_compat.so", ElfVersionPatcher.Needed(PackagedLibrary()));
    }

    [Fact]
    public void BuildOutputIsPatchedExactlyWhenTheSystemNeedsIt()
    {
        string output = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        string libstdcxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        bool systemHasVersion = File.Exists(libstdcxx) && ElfVersionPatcher.DefinesVersion(libstdcxx, Version);
        var needed = ElfVersionPatcher.Needed(output);
        if (systemHasVersion)
        {
            Assert.Equal((ushort)0, ElfVersionPatcher.RequirementFlags(output, Version));
        }
        else
        {
            Assert.Equal((ushort)2, ElfVersionPatcher.RequirementFlags(output, Version));
            Assert.Equal(1, needed.Count(n => n == "libderi_glibcxx_compat.so"));
            Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "libderi_glibcxx_compat.so")));
        }
    }
}
