using Deri.IO;

namespace Deri.Tests.IO;

public sealed class AtomicFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deri-atomic-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Target => Path.Combine(_dir, "out");

    private void MakeOld()
    {
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "a.txt"), "old");
    }

    private static void WriteNew(string temp) => File.WriteAllText(Path.Combine(temp, "a.txt"), "new");

    private string[] Entries() => [.. Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName).Order().OfType<string>()];

    [Fact]
    public void ANewFolderAppearsComplete()
    {
        string? seenDuringWrite = null;
        Assert.Null(AtomicFile.WriteFolder(Target, ExistingFolder.Refuse, temp =>
        {
            WriteNew(temp);
            seenDuringWrite = Directory.Exists(Target) ? "target" : "none";
            Assert.True(AtomicFile.IsTemporary(temp), temp);
            Assert.Equal(_dir, Path.GetDirectoryName(temp));
        }));
        Assert.Equal("none", seenDuringWrite);
        Assert.Equal("new", File.ReadAllText(Path.Combine(Target, "a.txt")));
        Assert.Equal(["out"], Entries());
    }

    [Fact]
    public void RefuseLeavesANonEmptyFolderAsItIsButReplacesAnEmptyOne()
    {
        MakeOld();
        var e = Assert.Throws<FolderExistsException>(() => AtomicFile.WriteFolder(Target, ExistingFolder.Refuse, WriteNew));
        Assert.Equal($"{Target}: folder exists and is not empty", e.Message);
        Assert.Equal("old", File.ReadAllText(Path.Combine(Target, "a.txt")));
        Assert.Equal(["out"], Entries());

        File.Delete(Path.Combine(Target, "a.txt"));
        AtomicFile.WriteFolder(Target, ExistingFolder.Refuse, WriteNew);
        Assert.Equal("new", File.ReadAllText(Path.Combine(Target, "a.txt")));
    }

    [Fact]
    public void MoveAsideKeepsTheOldFolderUnderADatedName()
    {
        MakeOld();
        var said = new List<string>();
        string aside = AtomicFile.WriteFolder(Target, ExistingFolder.MoveAside, WriteNew, said.Add)!;
        Assert.Matches(@"out\.old-\d{8}-\d{6}$", aside);
        Assert.Equal("old", File.ReadAllText(Path.Combine(aside, "a.txt")));
        Assert.Equal("new", File.ReadAllText(Path.Combine(Target, "a.txt")));
        Assert.Equal($"moved the existing folder {Target} aside to {aside}", Assert.Single(said));

        // A second move in the same second gets a numeric suffix, never the first one's name.
        string second = AtomicFile.WriteFolder(Target, ExistingFolder.MoveAside, WriteNew)!;
        Assert.NotEqual(aside, second);
        Assert.Equal("old", File.ReadAllText(Path.Combine(aside, "a.txt")));
        Assert.Equal(3, Entries().Length);
    }

    [Fact]
    public void ReplaceDeletesTheOldFolderOnlyOnceTheNewOneIsInPlace()
    {
        MakeOld();
        Assert.Null(AtomicFile.WriteFolder(Target, ExistingFolder.Replace, temp =>
        {
            WriteNew(temp);
            Assert.Equal("old", File.ReadAllText(Path.Combine(Target, "a.txt")));
        }));
        Assert.Equal("new", File.ReadAllText(Path.Combine(Target, "a.txt")));
        Assert.Equal(["out"], Entries());
    }

    [Theory]
    [InlineData(ExistingFolder.Refuse)]
    [InlineData(ExistingFolder.MoveAside)]
    [InlineData(ExistingFolder.Replace)]
    public void ACrashMidWriteLeavesTheOldFolderIntactAndNoHalfFolder(ExistingFolder policy)
    {
        MakeOld();
        var crash = Assert.Throws<InvalidOperationException>(() => AtomicFile.WriteFolder(Target, policy, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "half.bin"), new string('x', 10_000));
            throw new InvalidOperationException("killed mid-write");
        }));
        Assert.Equal("killed mid-write", crash.Message);
        Assert.Equal(["out"], Entries());
        Assert.Equal(["a.txt"], Directory.GetFiles(Target).Select(Path.GetFileName));
        Assert.Equal("old", File.ReadAllText(Path.Combine(Target, "a.txt")));
    }

    [Fact]
    public void AFileInTheWayIsRefusedByName()
    {
        File.WriteAllText(Target, "a file");
        var e = Assert.Throws<OutputPathException>(() => AtomicFile.WriteFolder(Target, ExistingFolder.Replace, WriteNew));
        Assert.Equal($"{Target}: is a file, not a folder", e.Message);
        Assert.Equal(["out"], Entries());
    }

    [Fact]
    public void StaleTemporariesAreRecognisedAndOtherNamesAreNot()
    {
        // What a killed process leaves: the temporary folder of a write that never reached its rename.
        string stale = AtomicFile.TemporaryPathFor(Target);
        Assert.True(AtomicFile.IsTemporary(stale));
        Assert.True(AtomicFile.IsTemporary(stale));
        Assert.NotEqual(stale, AtomicFile.TemporaryPathFor(Target));
        Assert.StartsWith(".out.", Path.GetFileName(stale));
        foreach (string kept in new[] { "out", "out.old-20261207-231500", "out.partial", ".hidden", "run.tmp", ".out.tmp" })
            Assert.False(AtomicFile.IsTemporary(Path.Combine(_dir, kept)), kept);
    }
}
