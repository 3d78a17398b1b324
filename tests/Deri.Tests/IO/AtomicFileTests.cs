using System.Text;
using Deri.IO;

namespace Deri.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deri-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ACrashMidWriteLeavesTheOldFileIntactAndNoTemporaryFile()
    {
        string path = Path.Combine(_dir, "metrics.json");
        File.WriteAllText(path, "old content");

        var crash = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(Encoding.UTF8.GetBytes(new string('x', 100_000)));
            s.Flush();
            throw new InvalidOperationException("killed mid-write");
        }));

        Assert.Equal("killed mid-write", crash.Message);
        Assert.Equal("old content", File.ReadAllText(path));
        Assert.Equal(["metrics.json"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void ReadersSeeTheOldFileUntilTheNewOneIsComplete()
    {
        string path = Path.Combine(_dir, "a.txt");
        File.WriteAllText(path, "v1");
        string? seenDuringWrite = null;
        AtomicFile.Write(path, s =>
        {
            s.Write("v2-partial"u8);
            s.Flush();
            seenDuringWrite = File.ReadAllText(path);
            s.Write("-rest"u8);
        });
        Assert.Equal("v1", seenDuringWrite);
        Assert.Equal("v2-partial-rest", File.ReadAllText(path));
    }

    [Fact]
    public void ConcurrentWritersOfOneTargetNeverShareATemporaryFile()
    {
        string path = Path.Combine(_dir, "shared.txt");
        Parallel.For(0, 32, i => AtomicFile.WriteAllText(path, new string((char)('a' + i % 26), 10_000)));
        string final = File.ReadAllText(path);
        Assert.Equal(10_000, final.Length);
        Assert.Single(final.Distinct());
        Assert.Equal(["shared.txt"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void WriteViaRenamesWhatAPathBasedWriterProduced()
    {
        string path = Path.Combine(_dir, "sub", "plot.png");
        string? temp = null;
        AtomicFile.WriteVia(path, t =>
        {
            temp = t;
            File.WriteAllBytes(t, [1, 2, 3]);
        });
        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.True(AtomicFile.IsTemporary(temp!));
        Assert.False(File.Exists(temp));
    }

    [Fact]
    public void AWriterThatProducesNoFileIsAnErrorNamingTheTarget()
    {
        string path = Path.Combine(_dir, "missing.png");
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteVia(path, _ => { }));
        Assert.Contains(path, e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void AnUnwritableTargetIsAnIOExceptionNamingIt()
    {
        string blocker = Path.Combine(_dir, "file");
        File.WriteAllText(blocker, "");
        string path = Path.Combine(blocker, "x.txt");
        var e = Assert.Throws<OutputPathException>(() => AtomicFile.WriteAllText(path, "x"));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void LinesAreWrittenWithUnixNewlinesAndNoBom()
    {
        string path = Path.Combine(_dir, "lines.txt");
        AtomicFile.WriteAllLines(path, ["a", "b"]);
        Assert.Equal("a\nb\n"u8.ToArray(), File.ReadAllBytes(path));
    }
}
