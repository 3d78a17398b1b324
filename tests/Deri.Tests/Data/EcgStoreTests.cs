using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.Data.Store;

namespace Deri.Tests.Data;

public class EcgStoreTests
{
    /// <summary>The first <paramref name="n"/> shared PTB-XL 500 Hz records with super labels.</summary>
    private static EcgDataset SmallPtbXl(int n)
    {
        var full = PtbXlDataset.Load(DataFiles.Shared("ptbxl"), new PtbXlOptions { Task = PtbXlTask.Super });
        return new EcgDataset("ptbxl", full.LabelNames, full.Entries.Take(n).ToList(), full.Preprocess, full.Skipped);
    }

    [Fact]
    public void RoundTripGivesThePreprocessedSignalsLabelsAndReports()
    {
        using var dir = new TempDir();
        var ds = SmallPtbXl(12);
        string path = Path.Combine(dir.Path, "store");
        var result = EcgStoreBuilder.Build(ds, path, new StoreBuildOptions { Workers = 2, ChunkSize = 5 });
        Assert.Equal(12, result.Written);
        Assert.Equal(0, result.Bad);
        Assert.False(result.AlreadyComplete);
        Assert.False(Directory.Exists(path + EcgStoreBuilder.PartialSuffix));
        using var store = EcgStore.Open(path);
        Assert.Equal(12, store.Count);
        Assert.Equal(ds.LabelNames, store.LabelNames);
        Assert.Equal(12L * 12 * 5000 * 4, new FileInfo(Path.Combine(path, "signals.f32")).Length);
        var pre = new EcgPreprocessor();
        var expected = new float[pre.OutputSize];
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(ds.Entries[i].Id, store.Entries[i].Id);
            Assert.Equal(ds.Entries[i].Report, store.Entries[i].Report);
            Assert.Equal(ds.Entries[i].Labels, store.Entries[i].Labels);
            pre.ProcessFile(ds.Entries[i].RecordPath, expected);
            Assert.True(store.Signal(i).SequenceEqual(expected), $"record {i} differs");
        }
        int[] batch = [7, 2, 2, 11];
        var dest = new float[4 * store.RecordSize];
        store.ReadBatch(batch, dest);
        Assert.True(dest.AsSpan(store.RecordSize, store.RecordSize).SequenceEqual(store.Signal(2)));
        var parallel = new float[dest.Length];
        store.ReadBatch(batch, parallel, parallelism: 2);
        Assert.Equal(dest, parallel);
        using var t = store.ReadTensor(batch);
        Assert.Equal([4L, 12, 5000], t.shape);
        Assert.Equal(dest[3 * store.RecordSize + 12345], t[3, 2, 2345].item<float>());
        Assert.Equal(dest, t.data<float>().ToArray());
        using var labels = store.LabelTensor(batch);
        Assert.Equal([4L, 5], labels.shape);
        Assert.Equal(12, store.IndicesOf(DataSplits.Train).Length + store.IndicesOf(DataSplits.Val).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Read(12, dest));
    }

    [Fact]
    public void Float16StoreIsHalfTheSizeAndClose()
    {
        using var dir = new TempDir();
        var ds = SmallPtbXl(3);
        string p32 = Path.Combine(dir.Path, "f32"), p16 = Path.Combine(dir.Path, "f16");
        EcgStoreBuilder.Build(ds, p32);
        EcgStoreBuilder.Build(ds, p16, new StoreBuildOptions { Float16 = true });
        using var a = EcgStore.Open(p32);
        using var b = EcgStore.Open(p16);
        Assert.True(b.IsFloat16);
        Assert.Equal(new FileInfo(Path.Combine(p32, "signals.f32")).Length / 2, new FileInfo(Path.Combine(p16, "signals.f16")).Length);
        var x = new float[a.RecordSize];
        var y = new float[a.RecordSize];
        for (int i = 0; i < 3; i++)
        {
            a.Read(i, x);
            b.Read(i, y);
            for (int k = 0; k < x.Length; k++) Assert.True(Math.Abs(x[k] - y[k]) <= 5e-4, $"record {i} value {k}: {x[k]} vs {y[k]}");
        }
        Assert.Throws<NotSupportedException>(() => b.Signal(0));
    }

    [Fact]
    public void AnInterruptedBuildResumesWhereItStopped()
    {
        using var dir = new TempDir();
        var ds = SmallPtbXl(10);
        string path = Path.Combine(dir.Path, "store");
        using var cts = new CancellationTokenSource();
        int chunksSeen = 0;
        var options = new StoreBuildOptions
        {
            ChunkSize = 3, Workers = 2,
            Progress = (done, total) => { if (done > 0 && ++chunksSeen == 2) cts.Cancel(); },
        };
        Assert.ThrowsAny<OperationCanceledException>(() => EcgStoreBuilder.Build(ds, path, options, cts.Token));
        Assert.False(EcgStore.Exists(path));
        Assert.True(File.Exists(Path.Combine(path + EcgStoreBuilder.PartialSuffix, "journal.jsonl")));
        // A torn write after the last committed chunk (as a kill mid-write leaves) is discarded on resume.
        using (var f = new FileStream(Path.Combine(path + EcgStoreBuilder.PartialSuffix, "signals.bin"), FileMode.Append))
            f.Write(new byte[1000]);

        var resumed = EcgStoreBuilder.Build(ds, path, options with { Progress = null });
        Assert.Equal(10, resumed.Written);
        Assert.Equal(4, resumed.ProcessedNow); // chunks 0 and 1 (6 records) were kept
        string fresh = Path.Combine(dir.Path, "fresh");
        EcgStoreBuilder.Build(ds, fresh, new StoreBuildOptions { ChunkSize = 3 });
        // Every file of the resumed store equals the uninterrupted build's, and no build or temporary file is left.
        var names = Directory.GetFiles(fresh).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(names, Directory.GetFiles(path).Select(Path.GetFileName).Order().ToArray());
        foreach (string? name in names)
            Assert.Equal(File.ReadAllBytes(Path.Combine(fresh, name!)), File.ReadAllBytes(Path.Combine(path, name!)));

        var again = EcgStoreBuilder.Build(ds, path, new StoreBuildOptions { ChunkSize = 99 });
        Assert.True(again.AlreadyComplete);
        Assert.Equal(0, again.ProcessedNow);
        var ex = Assert.Throws<OutputPathException>(() => EcgStoreBuilder.Build(ds, path, new StoreBuildOptions { Float16 = true }));
        Assert.Contains("other inputs", ex.Message);
    }

    [Fact]
    public void ResumingWithOtherInputsIsRefused()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "store");
        using var cts = new CancellationTokenSource();
        var options = new StoreBuildOptions { ChunkSize = 2, Progress = (done, _) => { if (done > 0) cts.Cancel(); } };
        Assert.ThrowsAny<OperationCanceledException>(() => EcgStoreBuilder.Build(SmallPtbXl(4), path, options, cts.Token));
        var ex = Assert.Throws<OutputPathException>(() => EcgStoreBuilder.Build(SmallPtbXl(5), path, new StoreBuildOptions { ChunkSize = 2 }));
        Assert.Contains(".partial", ex.Message);
        // Signals shorter than the journal says can only be damage: refused, never padded.
        File.WriteAllBytes(Path.Combine(path + EcgStoreBuilder.PartialSuffix, "signals.bin"), new byte[10]);
        var damaged = Assert.Throws<InputFormatException>(() => EcgStoreBuilder.Build(SmallPtbXl(4), path, new StoreBuildOptions { ChunkSize = 2 }));
        Assert.Contains("journal commits 2 records", damaged.Message);
    }

    [Fact]
    public void BadRecordsAreListedNotFatal()
    {
        using var dir = new TempDir();
        var good = SmallPtbXl(3).Entries;
        string truncatedHea = dir.File("trunc.hea", File.ReadAllText(good[0].RecordPath).Replace("00001_hr.dat", "trunc.dat"));
        File.WriteAllBytes(Path.Combine(dir.Path, "trunc.dat"), new byte[1000]);
        string garbage = dir.File("garbage.hea", "this is not a header\n");
        var entries = new List<DatasetEntry>
        {
            good[0],
            good[1] with { Id = "missing", RecordPath = Path.Combine(dir.Path, "nope.hea") },
            good[1] with { Id = "truncated", RecordPath = truncatedHea },
            good[2] with { Id = "garbage", RecordPath = garbage },
            good[2],
        };
        var ds = new EcgDataset("ptbxl", SmallPtbXl(1).LabelNames, entries, PreprocessConfig.Default);
        string path = Path.Combine(dir.Path, "store");
        var r = EcgStoreBuilder.Build(ds, path, new StoreBuildOptions { ChunkSize = 2 });
        Assert.Equal(2, r.Written);
        Assert.Equal(3, r.Bad);
        var lines = File.ReadAllLines(Path.Combine(path, EcgStore.BadRecordsFile));
        Assert.Equal("id,path,reason", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("missing,", lines[1]);
        Assert.Contains("not found", lines[1]);
        Assert.StartsWith("truncated,", lines[2]);
        Assert.Contains("truncated", lines[2][10..]);
        Assert.StartsWith("garbage,", lines[3]);
        using var store = EcgStore.Open(path);
        Assert.Equal([good[0].Id, good[2].Id], store.Entries.Select(e => e.Id));
        Assert.Equal(3, store.Index.BadRecords);
    }

    [Fact]
    public void OpeningSomethingElseIsAClearError()
    {
        using var dir = new TempDir();
        Assert.Throws<InputFileNotFoundException>(() => EcgStore.Open(dir.Path));
        dir.File("index.json", "{\"format\":\"deri-ecg-store\",\"version\":1,\"dtype\":\"float32\",\"leads\":12,\"length\":5000,\"entries\":[{\"id\":\"a\",\"split\":\"train\",\"report\":\"\",\"labels\":[]}]}");
        dir.File("signals.f32", "short");
        var ex = Assert.Throws<InputFormatException>(() => EcgStore.Open(dir.Path));
        Assert.Contains("5 bytes", ex.Message);
        dir.File("other/readme.txt", "x");
        Assert.Throws<OutputPathException>(() => EcgStoreBuilder.Build(SmallPtbXl(1), Path.Combine(dir.Path, "other")));
    }
}
