using System.Text.Json;
using Deri.Data.Store;
using Deri.Retrieval;
using Deri.Tests.Cli;
using Deri.Tests.Serving;

namespace Deri.Tests.Retrieval;

[Collection("serve-run")]
public sealed class RetrievalIndexTests(ServeRunFixture fx)
{
    [Fact]
    public void BuildIndexesTheSplitWithUnitVectorsAndStoreMetadata()
    {
        using var index = fx.OpenIndex();
        using var store = EcgStore.Open(fx.Store);
        var test = store.IndicesOf("test");
        Assert.Equal(test.Length, index.Count + index.Manifest.Skipped.Count);
        Assert.Contains($"{index.Count} pairs", fx.BuildOutput);
        Assert.Equal(store.Index.Preprocess, index.Manifest.Preprocess);
        Assert.Equal(Path.Combine(fx.Run, "best.ckpt"), index.Manifest.Checkpoint);
        var byId = store.Entries.ToDictionary(e => e.Id);
        for (int i = 0; i < index.Count; i++)
        {
            var e = index.Manifest.Entries[i];
            Assert.Equal("test", e.Split);
            Assert.Equal(byId[e.Id].Report, e.Report);
            foreach (var side in new[] { IndexSide.Ecg, IndexSide.Report })
            {
                var v = index.Vector(side, i);
                Assert.Equal(index.Dim, v.Length);
                Assert.InRange(RetrievalIndex.Dot(v, v), 0.999f, 1.001f);
            }
        }
        Assert.False(Directory.EnumerateFileSystemEntries(fx.Root).Any(Deri.IO.AtomicFile.IsTemporary), "a temporary folder was left behind");
    }

    [Fact]
    public void AnEcgFindsItselfFirst()
    {
        using var index = fx.OpenIndex();
        for (int q = 0; q < Math.Min(5, index.Count); q++)
        {
            var hits = index.Search(index.Vector(IndexSide.Ecg, q), IndexSide.Ecg, 3);
            Assert.Equal(q, hits[0].Row);
            Assert.InRange(hits[0].Score, 0.999, 1.001);
            Assert.True(hits[0].Score >= hits[1].Score && hits[1].Score >= hits[2].Score);
            Assert.NotEqual(q, index.Search(index.Vector(IndexSide.Ecg, q), IndexSide.Ecg, 3, exclude: q)[0].Row);
        }
    }

    [Fact]
    public void SearchByRecordAndByTextPrintRankedJson()
    {
        string byRecord = CliRunner.Ok("search", "--index", fx.Index, "--record", fx.RecordHeader, "--k", "4", "--threads", "1");
        using (var doc = JsonDocument.Parse(byRecord))
        {
            foreach (string list in new[] { "reports", "ecgs" })
            {
                var items = doc.RootElement.GetProperty(list).EnumerateArray().ToList();
                Assert.Equal(4, items.Count);
                var scores = items.Select(i => i.GetProperty("score").GetDouble()).ToList();
                Assert.Equal(scores.OrderByDescending(s => s), scores);
                Assert.Equal([1, 2, 3, 4], items.Select(i => i.GetProperty("rank").GetInt32()));
                Assert.All(items, i => Assert.False(string.IsNullOrEmpty(i.GetProperty("report").GetString())));
            }
        }
        using var index = fx.OpenIndex();
        string report = index.Manifest.Entries[0].Report;
        string byText = CliRunner.Ok("search", "--index", fx.Index, "--text", report, "--threads", "1");
        using var t = JsonDocument.Parse(byText);
        Assert.False(t.RootElement.TryGetProperty("reports", out _));
        Assert.Equal(10, t.RootElement.GetProperty("ecgs").GetArrayLength());
        Assert.Equal(report, t.RootElement.GetProperty("query").GetString());
    }

    [Fact]
    public void SearchNeedsExactlyOneQuery()
    {
        var both = CliRunner.Run(["search", "--index", fx.Index, "--record", fx.RecordHeader, "--text", "x"]);
        Assert.Equal(2, both.ExitCode);
        var missing = CliRunner.Run(["search", "--index", Path.Combine(fx.Root, "nope"), "--text", "sinus rhythm"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no retrieval index", missing.Stderr);
    }

    [Fact]
    public void EvalPrintsRecallForBothDirections()
    {
        using var doc = JsonDocument.Parse(CliRunner.Ok("index", "eval", "--index", fx.Index, "--k", "1,5"));
        using var index = fx.OpenIndex();
        Assert.Equal(index.Count, doc.RootElement.GetProperty("pairs").GetInt32());
        foreach (string dir in new[] { "ecg_to_report", "report_to_ecg" })
        {
            var d = doc.RootElement.GetProperty(dir);
            double r1 = d.GetProperty("recall").GetProperty("1").GetDouble(), r5 = d.GetProperty("recall").GetProperty("5").GetDouble();
            Assert.InRange(r1, 0, 100);
            Assert.True(r5 >= r1);
            Assert.InRange(d.GetProperty("label_match").GetProperty("5").GetDouble(), 0, 100);
        }
    }

    [Fact]
    public void RebuildReplacesAnIndexAndRefusesAForeignFolder()
    {
        string dir = fx.NewDir("rebuild");
        string target = Path.Combine(dir, "idx");
        CliRunner.Ok("index", "build", "--run", fx.Run, "--store", fx.Store, "--split", "val", "--out", target, "--threads", "1");
        using (var a = RetrievalIndex.Open(target)) Assert.Equal("val", a.Manifest.Split);
        CliRunner.Ok("index", "build", "--run", fx.Run, "--store", fx.Store, "--split", "test", "--out", target, "--threads", "1");
        using (var b = RetrievalIndex.Open(target)) Assert.Equal("test", b.Manifest.Split);
        Assert.Equal(["idx"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName));

        string foreign = Path.Combine(dir, "foreign");
        Directory.CreateDirectory(foreign);
        File.WriteAllText(Path.Combine(foreign, "keep.txt"), "mine");
        var r = CliRunner.Run(["index", "build", "--run", fx.Run, "--store", fx.Store, "--split", "val", "--out", foreign, "--threads", "1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not a retrieval index", r.Stderr);
        Assert.True(File.Exists(Path.Combine(foreign, "keep.txt")));
    }
}
