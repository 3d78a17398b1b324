using Deri.Training;

namespace Deri.Tests.Training;

/// <summary>An existing run is resumed or moved aside, never overwritten in place.</summary>
public sealed class RunFolderTests
{
    [Fact]
    public void AMissingOrEmptyFolderIsUsedAsItIs()
    {
        string dir = Toy.TempDir();
        try
        {
            string missing = Path.Combine(dir, "new-run");
            Assert.Null(RunFolder.Prepare(missing, resuming: false, overwrite: false));
            Directory.CreateDirectory(missing);
            Assert.Null(RunFolder.Prepare(missing, resuming: false, overwrite: false));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void AnEarlierRunIsRefusedKeptWhenResumingAndMovedAsideWithOverwrite()
    {
        string dir = Toy.TempDir();
        try
        {
            string run = Path.Combine(dir, "run");
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, "last.ckpt"), "old");
            var e = Assert.Throws<RunFolderExistsException>(() => RunFolder.Prepare(run, resuming: false, overwrite: false));
            Assert.Contains(run, e.Message);
            Assert.Contains("--resume auto", e.Message);
            Assert.Equal("old", File.ReadAllText(Path.Combine(run, "last.ckpt")));

            Assert.Null(RunFolder.Prepare(run, resuming: true, overwrite: false));
            Assert.Equal("old", File.ReadAllText(Path.Combine(run, "last.ckpt")));

            var said = new List<string>();
            string aside = RunFolder.Prepare(run, resuming: false, overwrite: true, said.Add)!;
            Assert.Matches(@"\.old-\d{8}-\d{6}$", aside);
            Assert.False(Directory.Exists(run));
            Assert.Equal("old", File.ReadAllText(Path.Combine(aside, "last.ckpt")));
            Assert.Contains(aside, Assert.Single(said));

            // A second move within the same second gets its own name; nothing is replaced.
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, "last.ckpt"), "newer");
            string second = RunFolder.Prepare(run, resuming: false, overwrite: true)!;
            Assert.NotEqual(aside, second);
            Assert.Equal("old", File.ReadAllText(Path.Combine(aside, "last.ckpt")));
            Assert.Equal("newer", File.ReadAllText(Path.Combine(second, "last.ckpt")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
