using System.Text.Json.Nodes;
using Deri.Data.Store;
using Deri.Downstream;
using Deri.Evaluation;
using Deri.Pretraining;
using Deri.Tests.Cli;
using Deri.Tests.Downstream;
using static TorchSharp.torch;

namespace Deri.Tests.Interop;

[Collection("downstream-run")]
public sealed class OnnxExportCommandTests(DownstreamRunFixture f)
{
    [Fact]
    public void ExportedOnnxGivesTheRunsZeroShotEmbeddingsAndTheSidecarItsClassEmbeddings()
    {
        string dir = f.NewDir("onnx");
        string stdout = CliRunner.Ok(["export", "--run", f.Run, "--format", "onnx", "--out", dir]);
        Assert.Contains(Path.Combine(dir, "model.onnx"), stdout);
        var sidecar = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "deri_onnx.json")))!;
        Assert.Equal("ecg", (string?)sidecar["input"]!["name"]);
        var pre = sidecar["preprocessing"]!;
        Assert.Equal(100, (int)pre["sampling_rate_hz"]!);
        Assert.StartsWith("min_max", (string?)pre["normalization"]);
        Assert.Equal("aVF", (string?)pre["lead_order"]![4]);

        // The embedding of `deri embed --feature zeroshot` (the folded TorchSharp path) equals ONNX Runtime's.
        string csv = Path.Combine(dir, "zs.csv");
        CliRunner.Ok(["embed", "--run", f.Run, "--store", f.Store, "--split", "test", "--feature", "zeroshot", "-o", csv, "--threads", "1"]);
        var rows = EmbeddingFile.Read(csv).Take(4).ToList();
        using var store = EcgStore.Open(f.Store);
        var index = store.Entries.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i);
        using var ecg = store.ReadTensor(rows.Select(r => index[r.Id]).ToArray(), CPU);
        float[] onnx = OnnxExportTests.RunOnnx(File.ReadAllBytes(Path.Combine(dir, "model.onnx")), ecg.data<float>().ToArray(),
            rows.Count, (int)ecg.shape[1], (int)ecg.shape[2]);
        int d = rows[0].Vector.Length;
        for (int r = 0; r < rows.Count; r++)
            for (int j = 0; j < d; j++)
                Assert.True(Math.Abs(rows[r].Vector[j] - onnx[r * d + j]) <= 1e-4, $"record {rows[r].Id}, e{j}: {rows[r].Vector[j]} vs {onnx[r * d + j]}");

        // Class embeddings as zero-shot classification computes them, for every class of the run's prompt file.
        var zs = sidecar["zero_shot"]!;
        var classes = zs["classes"]!.AsArray().Select(c => (string)c!).ToList();
        Assert.Contains("NORM", classes);
        using var run = PretrainedRun.Load(f.Run, "best", CPU);
        var prompts = ClassPrompts.Load(f.Prompts);
        using var expected = ZeroShotClassifier.ClassEmbeddings(new DeriZeroShotModel(run.Module, CPU), prompts.TextsFor(classes));
        var table = zs["class_embeddings"]!.AsArray();
        Assert.Equal(classes.Count, table.Count);
        for (int c = 0; c < classes.Count; c++)
            for (int j = 0; j < d; j++)
                Assert.Equal(expected[c, j].item<double>(), (double)table[c]![j]!, 1e-5);
    }

    [Fact]
    public void PromptsWithoutOnnxIsAUsageError()
    {
        var r = CliRunner.Run(["export", "--run", f.Run, "--prompts", f.Prompts, "--out", f.NewDir("x")]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--prompts goes with --format onnx", r.Stderr);
    }
}
