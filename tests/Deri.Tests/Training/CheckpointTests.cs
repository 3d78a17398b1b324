using Deri.IO;
using Deri.Training;
using TorchSharp;

namespace Deri.Tests.Training;

/// <summary>Checkpoint files and atomic writes.</summary>
[Collection("torch-global-generator")]
public sealed class CheckpointTests
{
    [Fact]
    public void AFailedAtomicWriteLeavesTheOldFileAndNoTemporaryFile()
    {
        string dir = Toy.TempDir();
        try
        {
            string path = Path.Combine(dir, "state.bin");
            AtomicFile.WriteAllText(path, "old content");
            var ex = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
            {
                s.Write(new byte[100_000]);
                throw new InvalidOperationException("disk died");
            }));
            Assert.Equal("disk died", ex.Message);
            Assert.Equal("old content", File.ReadAllText(path));
            Assert.Equal([path], Directory.GetFiles(dir));

            string fresh = Path.Combine(dir, "never.bin");
            Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(fresh, _ => throw new InvalidOperationException("no")));
            Assert.False(File.Exists(fresh));
            Assert.Equal([path], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void CheckpointRoundTripsModelStateInfoAndGenerator()
    {
        string dir = Toy.TempDir();
        try
        {
            var task = Toy.Task(3);
            string path = Path.Combine(dir, "x.ckpt");
            torch.manual_seed(123);
            var info = new CheckpointInfo { Epoch = 2, StepInEpoch = 4, GlobalStep = 14, Seed = 9, BatchSize = 8, TrainCount = 40, SchedulerTI = 4, ConfigYaml = "a: 1\n" };
            Checkpoint.Save(path, info, task.Module, null);
            float expectedDraw = torch.rand(1).item<float>();

            var other = Toy.Task(4);
            Assert.NotEqual(Toy.Parameters(task.Module), Toy.Parameters(other.Module));
            var read = Checkpoint.Load(path, other.Module, null, restoreRng: true);
            Assert.Equal(Toy.Parameters(task.Module), Toy.Parameters(other.Module));
            Assert.Equal(expectedDraw, torch.rand(1).item<float>());
            Assert.Equal((2, 4, 14L, "a: 1\n"), (read.Epoch, read.StepInEpoch, read.GlobalStep, read.ConfigYaml));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void TruncatedOrForeignCheckpointsAreReportedByName()
    {
        string dir = Toy.TempDir();
        try
        {
            var task = Toy.Task(3);
            string path = Path.Combine(dir, "x.ckpt");
            Checkpoint.Save(path, new CheckpointInfo(), task.Module, null);
            byte[] bytes = File.ReadAllBytes(path);
            string cut = Path.Combine(dir, "cut.ckpt");
            File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
            var ex = Assert.Throws<InputFormatException>(() => Checkpoint.Load(cut, task.Module, null, restoreRng: false));
            Assert.Contains("cut.ckpt", ex.Message);
            Assert.Contains("truncated", ex.Message);

            string foreign = Path.Combine(dir, "foreign.ckpt");
            File.WriteAllText(foreign, "not a checkpoint at all");
            ex = Assert.Throws<InputFormatException>(() => Checkpoint.ReadInfo(foreign));
            Assert.Contains("foreign.ckpt: not a Deri checkpoint", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ACheckpointWithAFlippedBlockIsRefusedByName()
    {
        string dir = Toy.TempDir();
        try
        {
            // A module large enough (≈160 KiB of weights) for a 4 KiB block to land inside a tensor payload.
            using var module = torch.nn.Linear(200, 200);
            string path = Path.Combine(dir, "good.ckpt");
            Checkpoint.Save(path, new CheckpointInfo { GlobalStep = 5 }, module, null);
            Assert.Equal(5, Checkpoint.ReadInfo(path).GlobalStep);

            byte[] bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 3 * 4096);
            for (int i = bytes.Length / 2; i < bytes.Length / 2 + 4096; i++) bytes[i] ^= 0xFF;
            string flipped = Path.Combine(dir, "flipped.ckpt");
            File.WriteAllBytes(flipped, bytes);
            using var other = torch.nn.Linear(200, 200);
            var ex = Assert.Throws<InputFormatException>(() => Checkpoint.Load(flipped, other, null, restoreRng: false));
            Assert.Contains(flipped, ex.Message);
            Assert.Contains("checksum", ex.Message);
            Assert.Throws<InputFormatException>(() => Checkpoint.ReadInfo(flipped));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
