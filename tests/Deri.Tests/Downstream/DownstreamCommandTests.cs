using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.Downstream;
using Deri.Tests.Cli;

namespace Deri.Tests.Downstream;

[Collection("downstream-run")]
public class DownstreamCommandTests(DownstreamRunFixture f)
{
    private static readonly string[] Cpu = ["--threads", "1", "--device", "cpu"];

    private static string Ok(params string[] args) => CliRunner.Ok([.. args, .. Cpu]);

    private static CliRunner.Result Fail(params string[] args)
    {
        var r = CliRunner.Run([.. args, .. Cpu]);
        Assert.True(r.ExitCode == 1, $"expected exit 1, got {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        return r;
    }

    [Fact]
    public void ZeroshotWritesPerClassAndMacroTablesUnderBothProtocols()
    {
        string outDir = f.NewDir("zs");
        string stdout = Ok("zeroshot", "--run", f.Run, "--store", f.Store, "--prompts", f.Prompts, "--out", outDir);
        Assert.Contains("held-out (threshold on validation)", stdout);
        foreach (var ext in new[] { "md", "csv", "json" })
        {
            Assert.True(File.Exists(Path.Combine(outDir, "zeroshot_summary." + ext)));
            Assert.True(File.Exists(Path.Combine(outDir, "zeroshot_classes." + ext)));
        }
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "zeroshot_summary.json")))!;
        Assert.Equal(Path.Combine(f.Run, "best.ckpt"), (string?)summary["checkpoint"]);
        Assert.Contains("deri zeroshot", (string?)summary["command"]);
        var rows = summary["rows"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.Contains("paper", (string?)rows[0]!["task"]);
        Assert.Contains("held-out", (string?)rows[1]!["task"]);
        foreach (var row in rows)
            foreach (var col in new[] { "AUC", "F1", "ACC" })
                Assert.InRange((double)row![col]!, 0, 100);

        // One row per store class (all have prompts) plus "macro"; both protocols' columns.
        var classes = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "zeroshot_classes.json")))!;
        var names = classes["rows"]!.AsArray().Select(r => (string)r!["class"]!).ToList();
        Assert.Equal(17, names.Count);
        Assert.Equal("macro", names[^1]);
        Assert.Contains("NORM", names);
        var columns = classes["columns"]!.AsArray().Select(c => (string)c!).ToList();
        Assert.Contains("paper AUC", columns);
        Assert.Contains("held-out threshold", columns);
        Assert.Contains("Checkpoint: `" + Path.Combine(f.Run, "best.ckpt"), File.ReadAllText(Path.Combine(outDir, "zeroshot_classes.md")));

        // The per-record scores and labels reproduce the table's macro AUC through `deri metrics`.
        string metrics = CliRunner.Ok("metrics", "--scores", Path.Combine(outDir, "zeroshot_scores.csv"), "--labels", Path.Combine(outDir, "zeroshot_labels.csv"));
        double recomputed = (double)JsonNode.Parse(metrics)!["paper"]!["macro"]!["auc"]!;
        Assert.Equal((double)rows[0]!["AUC"]!, recomputed, 6);
    }

    [Fact]
    public void ZeroshotUsesTheRunsPromptFileAndListsClassesWithoutPrompt()
    {
        // The run's config names the synthetic prompt file, so --prompts is optional.
        string outDir = f.NewDir("zs-default");
        Ok("zeroshot", "--run", f.Run, "--store", f.Store, "--checkpoint", "last", "--val-split", "none", "--out", outDir);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "zeroshot_summary.json")))!;
        Assert.Single(summary["rows"]!.AsArray());
        Assert.Equal(Path.Combine(f.Run, "last.ckpt"), (string?)summary["checkpoint"]);

        string prompts = Path.Combine(f.NewDir("prompts"), "three.json");
        File.WriteAllText(prompts, """{"NORM": "Normal ECG.", "AFIB": "Atrial fibrillation.", "STACH": "Sinus tachycardia.", "XYZ": "Not in the store."}""");
        string outDir2 = f.NewDir("zs-three");
        Ok("zeroshot", "--run", f.Run, "--store", f.Store, "--prompts", prompts, "--out", outDir2);
        var classes = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir2, "zeroshot_classes.json")))!;
        var names = classes["rows"]!.AsArray().Select(r => (string)r!["class"]!).ToList();
        Assert.Equal(["NORM", "STACH", "AFIB", "macro"], names);
        var notes = classes["notes"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.Contains(notes, n => n.StartsWith("classes without a prompt (left out): SBRAD, AFLT", StringComparison.Ordinal));
    }

    [Fact]
    public void ZeroshotErrorsNameTheProblem()
    {
        Assert.Contains("run folder not found", Fail("zeroshot", "--run", Path.Combine(f.Root, "nope"), "--store", f.Store).Stderr);
        Assert.Contains("checkpoint not found",
            Fail("zeroshot", "--run", f.Run, "--checkpoint", Path.Combine(f.Root, "missing.ckpt"), "--store", f.Store).Stderr);
        Assert.Contains("no prepared store", Fail("zeroshot", "--run", f.Run, "--store", Path.Combine(f.Root, "nostore")).Stderr);
        Assert.Contains("not a run folder (no config.yaml)", Fail("zeroshot", "--run", f.NewDir("empty-run"), "--store", f.Store).Stderr);

        // A run folder with its config but without vocabulary or checkpoints.
        string bare = f.NewDir("bare-run");
        File.Copy(Path.Combine(f.Run, "config.yaml"), Path.Combine(bare, "config.yaml"));
        Assert.Contains("the run has no best checkpoint", Fail("embed", "--run", bare, "--store", f.Store, "-o", Path.Combine(bare, "e.csv")).Stderr);
        File.WriteAllText(Path.Combine(bare, "last.ckpt"), "not a checkpoint");
        Assert.Contains("the run has no text vocabulary",
            Fail("embed", "--run", bare, "--checkpoint", "last", "--store", f.Store, "-o", Path.Combine(bare, "e.csv")).Stderr);

        string empty = Path.Combine(f.NewDir("p-empty"), "empty.json");
        File.WriteAllText(empty, "{}");
        Assert.Contains("no prompts", Fail("zeroshot", "--run", f.Run, "--store", f.Store, "--prompts", empty).Stderr);
        string foreign = Path.Combine(f.NewDir("p-foreign"), "foreign.json");
        File.WriteAllText(foreign, """{"FOO": "Something else entirely."}""");
        Assert.Contains("no prompt for any class", Fail("zeroshot", "--run", f.Run, "--store", f.Store, "--prompts", foreign).Stderr);

        string unlabelled = UnlabelledStore();
        Assert.Contains("has no labels", Fail("zeroshot", "--run", f.Run, "--store", unlabelled, "--prompts", f.Prompts).Stderr);
        Assert.Contains("has no labels", Fail("probe", "--run", f.Run, "--store", unlabelled, "--epochs", "2").Stderr);
        // Embeddings need no labels: the labels column is then empty.
        string csv = Path.Combine(unlabelled, "e.csv");
        Ok("embed", "--run", f.Run, "--store", unlabelled, "--split", "val", "-o", csv);
        Assert.All(EmbeddingFile.Read(csv), x => Assert.Empty(x.Labels));
    }

    [Fact]
    public void EmbedWritesOneRowPerRecordWithIdSplitAndLabels()
    {
        string dir = f.NewDir("embed");
        string test = Path.Combine(dir, "test.csv"), all = Path.Combine(dir, "all.csv");
        Ok("embed", "--run", f.Run, "--store", f.Store, "--split", "test", "--feature", "zeroshot", "-o", test);
        Ok("embed", "--run", f.Run, "--store", f.Store, "-o", all);
        var t = EmbeddingFile.Read(test);
        var a = EmbeddingFile.Read(all);
        Assert.Equal(40, t.Count);
        Assert.All(t, r => Assert.Equal("test", r.Split));
        Assert.Equal(200, a.Count);
        Assert.Equal(["test", "train", "val"], a.Select(r => r.Split).Distinct().Order().ToArray());
        Assert.Equal(256, a[0].Vector.Length);
        Assert.Contains(a, r => r.Labels.Count > 0);
        // The zeroshot feature is the normalised embedding compared with prompts; the mixed one is not normalised.
        Assert.All(t, r => Assert.InRange(Math.Sqrt(r.Vector.Sum(v => v * v)), 0.999, 1.001));
        Assert.Contains(a, r => Math.Abs(Math.Sqrt(r.Vector.Sum(v => v * v)) - 1) > 0.01);
        // Records keep their identity: the same test id has the same labels in both files.
        var byId = a.ToDictionary(r => r.Id);
        Assert.All(t, r => Assert.Equal(r.Labels, byId[r.Id].Labels));

        string png = Path.Combine(dir, "map.png");
        string stdout = CliRunner.Ok("tsne", "--embeddings", all, "-o", png, "--classes", "3", "--perplexity", "10", "--iterations", "300");
        Assert.Contains("records:", stdout);
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 5000);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        var lines = File.ReadAllLines(Path.ChangeExtension(png, ".csv"));
        Assert.Equal("id,split,labels,class,x,y", lines[0]);
        Assert.InRange(lines.Length - 1, 10, 200);
        Assert.Equal(3, lines.Skip(1).Select(l => l.Split(',')[3]).Distinct().Count());
        Assert.All(lines.Skip(1), l => Assert.True(double.IsFinite(double.Parse(l.Split(',')[4], CultureInfo.InvariantCulture))));
        var clash = CliRunner.Run(["tsne", "--embeddings", all, "-o", Path.ChangeExtension(all, ".png")]);
        Assert.Equal(1, clash.ExitCode);
        Assert.Contains("would overwrite the embeddings", clash.Stderr);
    }

    [Fact]
    public void ProbeComparesRunsOnStoresInOneTable()
    {
        // A second "run" with the same weights under another name: the rows must then agree exactly.
        string twin = Path.Combine(f.NewDir("twin"), "twin");
        Directory.CreateDirectory(Path.Combine(twin, "text"));
        File.Copy(Path.Combine(f.Run, "config.yaml"), Path.Combine(twin, "config.yaml"));
        foreach (var file in Directory.GetFiles(Path.Combine(f.Run, "text")))
            File.Copy(file, Path.Combine(twin, "text", Path.GetFileName(file)));
        File.CreateSymbolicLink(Path.Combine(twin, "best.ckpt"), Path.Combine(f.Run, "best.ckpt"));

        // A second store: the same records under another folder name.
        string store2 = Path.Combine(f.NewDir("store2"), "other");
        Directory.CreateDirectory(store2);
        foreach (var file in new[] { "index.json", "signals.f32" }) File.Copy(Path.Combine(f.Store, file), Path.Combine(store2, file));

        string outDir = f.NewDir("probe");
        Ok("probe", "--run", f.Run, "--run", twin, "--store", f.Store, "--store", store2, "--epochs", "3", "--ratios", "10,100", "--out", outDir);
        var table = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "probe.json")))!;
        Assert.Equal(["10%", "100%"], table["columns"]!.AsArray().Select(c => (string)c!).ToArray());
        var rows = table["rows"]!.AsArray();
        Assert.Equal(["store / run", "store / twin", "other / run", "other / twin"], rows.Select(r => (string)r!["task"]!).ToArray());
        foreach (var col in new[] { "10%", "100%" })
        {
            Assert.InRange((double)rows[0]![col]!, 0, 100);
            for (int i = 1; i < 4; i++) Assert.Equal((double)rows[0]![col]!, (double)rows[i]![col]!);
        }
        Assert.True(File.Exists(Path.Combine(outDir, "probe.md")) && File.Exists(Path.Combine(outDir, "probe.csv")));
        Assert.Contains("deri probe", (string?)table["command"]);
        Assert.Contains("best.ckpt", (string?)table["checkpoint"]);

        Assert.Contains("given twice", Fail("probe", "--run", f.Run, "--run", f.Run, "--store", f.Store, "--epochs", "2").Stderr);
        var ratios = CliRunner.Run(["probe", "--run", f.Run, "--store", f.Store, "--ratios", "0,200"]);
        Assert.Equal(2, ratios.ExitCode);
        Assert.Contains("--ratios", ratios.Stderr);
    }

    [Fact]
    public void EmbedSkipsAndNamesARecordWithNonFiniteFeatures()
    {
        // A copy of the store whose first test record holds NaN samples: that record is left out and named, the rest are written.
        string dir = f.NewDir("nan-store");
        File.Copy(Path.Combine(f.Store, "index.json"), Path.Combine(dir, "index.json"));
        File.Copy(Path.Combine(f.Store, "signals.f32"), Path.Combine(dir, "signals.f32"));
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "index.json")))!;
        var entries = index["entries"]!.AsArray();
        int row = entries.Select((e, i) => (e, i)).First(x => (string?)x.e!["split"] == "test").i;
        string id = (string)entries[row]!["id"]!;
        int recordFloats = 12 * (int)index["length"]!;
        using (var fs = new FileStream(Path.Combine(dir, "signals.f32"), FileMode.Open, FileAccess.Write))
        {
            fs.Seek((long)row * recordFloats * 4, SeekOrigin.Begin);
            var nan = BitConverter.GetBytes(float.NaN);
            for (int i = 0; i < 100; i++) fs.Write(nan);
        }
        string csv = Path.Combine(dir, "test.csv");
        var r = CliRunner.Run(["embed", "--run", f.Run, "--store", dir, "--split", "test", "-o", csv, .. Cpu]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"1 records left out (non-finite feature): {id}", r.Stderr);
        var rows = EmbeddingFile.Read(csv);
        Assert.Equal(39, rows.Count);
        Assert.DoesNotContain(rows, x => x.Id == id);
    }

    [Fact]
    public void ProbeSkipsARatioThatLeavesNoTrainingRecordAndSaysSo()
    {
        // The fixture store has 140 training records: 0.5 % of them is less than one record, so that ratio is
        // skipped with a log line and a note; no store has it, so the table has no column for it, while 100 % is probed.
        string outDir = f.NewDir("probe-skip");
        var r = CliRunner.Run(["probe", "--run", f.Run, "--store", f.Store, "--epochs", "2", "--ratios", "0.5,100", "--out", outDir, .. Cpu]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("0.5%: skipped, 0.5 % of 140 training records is less than one record", r.Stdout + r.Stderr);
        var table = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "probe.json")))!;
        Assert.Equal(["100%"], table["columns"]!.AsArray().Select(c => (string)c!).ToArray());
        Assert.InRange((double)table["rows"]!.AsArray().Single()!["100%"]!, 0, 100);
        Assert.Contains(table["notes"]!.AsArray(), n => ((string)n!).Contains("ratios skipped because they leave no training record") && ((string)n!).Contains("0.5"));
    }

    // A copy of the fixture store without label columns.
    private string UnlabelledStore()
    {
        string dir = f.NewDir("unlabelled");
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(f.Store, "index.json")))!;
        index["label_names"] = new JsonArray();
        foreach (var e in index["entries"]!.AsArray()) e!["labels"] = new JsonArray();
        File.WriteAllText(Path.Combine(dir, "index.json"), index.ToJsonString(new JsonSerializerOptions()));
        File.Copy(Path.Combine(f.Store, "signals.f32"), Path.Combine(dir, "signals.f32"));
        return dir;
    }
}
