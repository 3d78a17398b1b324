using System.Diagnostics;
using Deri.Data.Store;
using Xunit.Abstractions;

namespace Deri.Tests.Data;

/// <summary>
/// A store past 4 GiB, made sparse so it uses no disk: records straddling the 2 GiB and 4 GiB offsets read back exactly,
/// singly, in shuffled batches and as tensors (a MIMIC-IV-ECG store at 500 Hz is ~96 GB in float16).
/// </summary>
public class LargeStoreTests(ITestOutputHelper output)
{
    private const long TwoGiB = 1L << 31, FourGiB = 1L << 32;

    /// <summary>Exactly representable in float16: (record mod 13) + k/64 for k mod 64.</summary>
    private static float Value(int record, int k) => record % 13 + k % 64 / 64f;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RecordsPastTwoAndFourGiBReadBackExactly(bool float16)
    {
        using var dir = new TempDir();
        if (!SparseFilesWork(dir.Path, out string why))
        {
            // No dynamic skip in xunit 2: say so in the output, and do not write GiBs of zeros.
            output.WriteLine($"SKIPPED: {why}");
            return;
        }
        const int length = 5000;
        long recordBytes = 12L * length * (float16 ? 2 : 4);
        int count = (int)(FourGiB / recordBytes) + 2000;
        string path = Path.Combine(dir.Path, "store");
        SparseStore.Create(path, count, length, 500, float16);
        int at2 = (int)(TwoGiB / recordBytes), at4 = (int)(FourGiB / recordBytes);
        // These records straddle the boundaries: their first byte is below it, their last above.
        Assert.True((long)at2 * recordBytes < TwoGiB && (at2 + 1L) * recordBytes > TwoGiB);
        Assert.True((long)at4 * recordBytes < FourGiB && (at4 + 1L) * recordBytes > FourGiB);
        int[] written = [0, at2, at4, at4 + 1, count - 1];
        var values = new float[12 * length];
        foreach (int r in written)
        {
            for (int k = 0; k < values.Length; k++) values[k] = Value(r, k);
            SparseStore.WriteRecord(path, r, values);
        }
        string file = Path.Combine(path, EcgStore.SignalFile(float16));
        Assert.True(new FileInfo(file).Length > FourGiB);
        long allocated = AllocatedBytes(file);
        output.WriteLine($"{file}: {new FileInfo(file).Length} bytes, {allocated} allocated");
        Assert.True(allocated < 64L << 20, $"{file}: {allocated} bytes allocated; the sparse file uses disk");

        using var store = EcgStore.Open(path);
        Assert.Equal(count, store.Count);
        var one = new float[store.RecordSize];
        foreach (int r in written)
        {
            store.Read(r, one);
            Check(one, r, true);
        }
        store.Read(at4 + 2, one);
        Check(one, at4 + 2, false);

        // Shuffled batches mixing written and hole records across both boundaries, serial, parallel and as a tensor.
        int[] batch = [count - 1, at2 + 1, at4, 5, at2, at4 + 1, 0, at4 - 1, at2 - 1, count - 2];
        new Random(1).Shuffle(batch);
        var serial = new float[batch.Length * store.RecordSize];
        var parallel = new float[serial.Length];
        store.ReadBatch(batch, serial);
        store.ReadBatch(batch, parallel, parallelism: 2);
        Assert.Equal(serial, parallel);
        using var t = store.ReadTensor(batch);
        Assert.Equal(serial, t.data<float>().ToArray());
        for (int b = 0; b < batch.Length; b++)
            Check(serial.AsSpan(b * store.RecordSize, store.RecordSize), batch[b], written.Contains(batch[b]));
    }

    private static void Check(ReadOnlySpan<float> got, int record, bool written)
    {
        for (int k = 0; k < got.Length; k++)
        {
            float want = written ? Value(record, k) : 0f;
            if (got[k] != want) Assert.Fail($"record {record}, value {k}: {got[k]}, expected {want}");
        }
    }

    /// <summary>Whether a file extended by SetLength stays unallocated here (ext4, xfs, btrfs, tmpfs do; FAT does not).</summary>
    private static bool SparseFilesWork(string dir, out string why)
    {
        string probe = Path.Combine(dir, "probe");
        using (var f = new FileStream(probe, FileMode.CreateNew)) f.SetLength(256L << 20);
        long allocated = AllocatedBytes(probe);
        File.Delete(probe);
        why = $"the temporary folder {dir} does not keep sparse files (a 256 MiB hole took {allocated} bytes); the >4 GiB store test needs them";
        return allocated < 1 << 20;
    }

    /// <summary>Bytes the file occupies on disk: <c>stat -c %b</c> blocks × <c>%B</c> bytes per block.</summary>
    private static long AllocatedBytes(string file)
    {
        using var p = Process.Start(new ProcessStartInfo("stat", ["-c", "%b %B", file]) { RedirectStandardOutput = true })!;
        string[] parts = p.StandardOutput.ReadToEnd().Trim().Split(' ');
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return long.Parse(parts[0]) * long.Parse(parts[1]);
    }
}
