using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.Data.Store;
using Deri.Interop.Bundle;
using Deri.Interop.Onnx;
using Deri.Pretraining;
using Deri.Retrieval;
using Deri.Server;
using Deri.Serving;
using Deri.Tests.Cli;
using Deri.Tests.Data;
using Deri.Tests.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;

namespace Deri.Tests.Interop;

/// <summary>
/// Model bundles (<c>deri model build/verify/info</c>) made from the session's demo run, and serving them: the ECG side
/// on ONNX Runtime equal to TorchSharp's, every class answered with a score and its validation threshold, the SHA-256
/// check, the default-bundle rule, and the page and API naming the model and serving its card.
/// </summary>
[Collection("serve-run")]
public sealed class ModelBundleTests(ServeRunFixture fx)
{
    private const string CardText = "# Test model\n\nA bundle of the tests' demo run; not a model for use.";

    private static readonly object Gate = new();
    private static string? built;
    private static string? buildStdout;

    /// <summary>The bundle of the demo run, built once per session with <c>deri model build</c>.</summary>
    private string Bundle
    {
        get
        {
            lock (Gate)
            {
                if (built is not null && Directory.Exists(built)) return built;
                string dir = fx.NewDir("bundle");
                string card = Path.Combine(dir, "card.md");
                File.WriteAllText(card, CardText);
                string outDir = Path.Combine(dir, "models", ModelBundle.DefaultName);
                buildStdout = CliRunner.Ok("model", "build", "--run", fx.Run, "--store", fx.Store, "--prompts", fx.Prompts, "--report-model", fx.ReportModel,
                    "--name", "test-model", "--version", "0.1.0", "--card", card, "--notes", "demo run, one epoch", "--out", outDir, "--threads", "1");
                File.Delete(card);
                built = outDir;
                return built;
            }
        }
    }

    private static string Copy(string bundle, string to)
    {
        foreach (string f in ModelBundle.ListFiles(bundle))
        {
            string target = Path.Combine(to, f);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(bundle, f), target);
        }
        return to;
    }

    [Fact]
    public void BuildWritesTheGraphSidecarEmbeddingsAndCardWithTheirDigestsAndSizes()
    {
        var bundle = ModelBundle.Open(Bundle);
        var m = bundle.Manifest;
        Assert.Equal(("test-model", "0.1.0"), (m.Name, m.Version));
        Assert.Equal([ModelBundle.CardFile, ModelBundle.OnnxFile, ModelBundle.EmbeddingsFile], m.Files.Keys.Where(f => !f.StartsWith("report/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        // The report generator: a weights-only checkpoint, its config, tokenizer and the ECG side's run config, each with its digest.
        Assert.Equal("report", m.ReportModel);
        Assert.Contains("report/model.ckpt", m.Files.Keys);
        Assert.Contains("report/ecg-run/config.yaml", m.Files.Keys);
        Assert.Contains(m.Files.Keys, f => f.StartsWith("report/tokenizer/", StringComparison.Ordinal));
        Assert.Equal("report", m.Provenance.ReportRun);
        Assert.Contains("model.onnx", buildStdout);
        Assert.Contains("total", buildStdout);

        using var store = EcgStore.Open(fx.Store);
        var prompts = Deri.Evaluation.ClassPrompts.Load(fx.Prompts);
        Assert.Equal(store.LabelNames.Where(prompts.Descriptions.ContainsKey), m.Classes.Select(c => c.Code));
        Assert.Equal(store.Index.Preprocess, m.Preprocessing);
        Assert.Equal("store", Assert.Single(m.Tasks).Name);
        Assert.Equal(store.IndicesOf("val").Length, m.Tasks[0].ValidationRecords);
        Assert.Contains(m.Classes, c => c.Threshold is not null);
        Assert.All(m.Classes, c => Assert.Equal(c.Threshold is null, c.ValidationPositives == 0));
        Assert.Equal(m.Classes.Count, bundle.PromptEmbeddings.Count);
        Assert.All(bundle.PromptEmbeddings, e => Assert.Equal(1.0, Math.Sqrt(e.Sum(v => (double)v * v)), 4));
        Assert.Equal("run", m.Provenance.Run);
        Assert.Equal(ModelBundle.Sha256(Path.Combine(fx.Run, m.Provenance.Checkpoint)), m.Provenance.CheckpointSha256);
        Assert.Equal("demo run, one epoch", m.Provenance.Notes);
        Assert.True(m.Onnx.CheckMaxAbsDiff < 1e-4, $"{m.Onnx.CheckMaxAbsDiff}");

        string card = File.ReadAllText(bundle.CardPath);
        Assert.StartsWith(CardText, card);
        Assert.Contains("## Bundle facts", card);
        Assert.Contains($"| {m.Classes[0].Code} |", card);
    }

    [Fact]
    public void OnnxRuntimeEmbedsAsTorchSharpDoes()
    {
        var bundle = ModelBundle.Open(Bundle);
        using var run = PretrainedRun.Load(fx.Run, "best", TorchSharp.torch.CPU);
        var encoder = new PairEncoder(run);
        using var store = EcgStore.Open(fx.Store);
        var signals = Enumerable.Range(0, 5).Select(i =>
        {
            var s = new float[store.RecordSize];
            store.Read(i, s);
            return s;
        }).ToList();
        var expected = encoder.EncodeEcgs(signals);
        using var onnx = new OnnxEcgEmbedder(bundle.OnnxPath, bundle.Manifest.Onnx.Leads, bundle.Manifest.Onnx.Length, threads: 1);
        var actual = onnx.EncodeEcgs(signals);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            for (int j = 0; j < expected[i].Length; j++)
                Assert.True(Math.Abs(expected[i][j] - actual[i][j]) < 1e-4, $"record {i} dim {j}: {expected[i][j]} vs {actual[i][j]}");

        // The prompt embeddings are the run's, in class order.
        var texts = encoder.EncodeTexts(Deri.Evaluation.ClassPrompts.Load(fx.Prompts).TextsFor(bundle.Manifest.Classes.Select(c => c.Code).ToList()));
        for (int c = 0; c < texts.Length; c++)
            for (int j = 0; j < texts[c].Length; j++)
                Assert.True(Math.Abs(texts[c][j] - bundle.PromptEmbeddings[c][j]) < 1e-5);
    }

    [Fact]
    public void ATamperedMissingOrExtraFileFailsVerificationNamingIt()
    {
        var ok = CliRunner.Run(["model", "verify", Bundle]);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
        Assert.Contains($"{ModelBundle.ReadManifest(Bundle).Files.Count} files match their SHA-256", ok.Stdout);

        string copy = Copy(Bundle, fx.NewDir("tampered"));
        string onnx = Path.Combine(copy, ModelBundle.OnnxFile);
        var bytes = File.ReadAllBytes(onnx);
        bytes[^10] ^= 0x5A;
        File.WriteAllBytes(onnx, bytes);
        var bad = CliRunner.Run(["model", "verify", copy]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains(onnx, bad.Stderr);
        Assert.Contains("SHA-256", bad.Stderr);
        Assert.Throws<BundleIntegrityException>(() => ModelBundle.Open(copy));
        // Serving refuses it too: a changed model never answers.
        var analyze = CliRunner.Run(["analyze", fx.RecordHeader, "--run", copy, "--threads", "1"]);
        Assert.Equal(1, analyze.ExitCode);
        Assert.Contains(ModelBundle.OnnxFile, analyze.Stderr);

        string report = Copy(Bundle, fx.NewDir("report"));
        File.AppendAllText(Path.Combine(report, "report", "ecg-run", "config.yaml"), "\n");
        var changed = CliRunner.Run(["model", "verify", report]);
        Assert.Equal(1, changed.ExitCode);
        Assert.Contains(Path.Combine("report", "ecg-run", "config.yaml"), changed.Stderr);

        string extra = Copy(Bundle, fx.NewDir("extra"));
        File.WriteAllText(Path.Combine(extra, "notes.txt"), "x");
        var unlisted = CliRunner.Run(["model", "verify", extra]);
        Assert.Equal(1, unlisted.ExitCode);
        Assert.Contains("notes.txt", unlisted.Stderr);

        string missing = Copy(Bundle, fx.NewDir("missing"));
        File.Delete(Path.Combine(missing, ModelBundle.EmbeddingsFile));
        var gone = CliRunner.Run(["model", "verify", missing]);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains(ModelBundle.EmbeddingsFile, gone.Stderr);
    }

    [Fact]
    public void BuildRefusesAnExistingBundleUnlessToldAndThenMovesItAside()
    {
        string dir = fx.NewDir("rebuild");
        string target = Copy(Bundle, Path.Combine(dir, "b"));
        var refused = CliRunner.Run(["model", "build", "--run", fx.Run, "--store", fx.Store, "--prompts", fx.Prompts, "--out", target, "--threads", "1"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("--overwrite", refused.Stderr);
        Assert.Equal(ModelBundle.ReadManifest(Bundle).Created, ModelBundle.ReadManifest(target).Created);

        CliRunner.Ok("model", "build", "--run", fx.Run, "--store", fx.Store, "--prompts", fx.Prompts, "--out", target, "--overwrite",
            "--name", "second", "--threads", "1");
        Assert.Equal("second", ModelBundle.Open(target).Manifest.Name);
        string aside = Assert.Single(Directory.GetDirectories(dir, "b.old-*"));
        Assert.Equal("test-model", ModelBundle.Open(aside).Manifest.Name);
    }

    [Fact]
    public void InfoDescribesTheBundle()
    {
        string text = CliRunner.Ok("model", "info", Bundle);
        Assert.Contains("test-model 0.1.0", text);
        Assert.Contains("task store:", text);
        Assert.Contains("model.onnx", text);
        var json = JsonNode.Parse(CliRunner.Ok("model", "info", Bundle, "--json"))!;
        Assert.Equal(ModelBundle.Format, (string?)json["format"]);
    }

    [Fact]
    public async Task TheServiceOnABundleAnswersEveryClassWithAScoreAndItsThresholdAsTheRunDoes()
    {
        var m = ModelBundle.Open(Bundle).Manifest;
        using var onBundle = new InferenceService(new ServiceOptions { Run = Bundle, MaxBatch = 4 });
        using var onRun = new InferenceService(new ServiceOptions { Run = fx.Run, Store = fx.Store, Prompts = fx.Prompts, ReportModel = fx.ReportModel, MaxBatch = 4 });
        Assert.Equal("onnxruntime", onBundle.Engine);
        Assert.Equal(onRun.ClassNames, onBundle.ClassNames);
        Assert.Equal(onRun.Preprocessing, onBundle.Preprocessing);
        for (int c = 0; c < onRun.ClassNames.Count; c++)
            Assert.Equal(onRun.Thresholds![c] is { } t ? Math.Round(t, 8) : null, onBundle.Thresholds![c]);

        // The demo's 500 Hz record and a 100 Hz PTB-XL record: any accepted rate goes through the bundle's preprocessing.
        foreach (string path in new[] { fx.RecordHeader, DataFiles.Shared("ptbxl", "records100", "00000", "00001_lr.hea") })
        {
            var record = UploadReader.ReadPath(path, null, RecordAnalysis.FileLimits);
            var a = await onBundle.AnalyzeAsync(record);
            var b = await onRun.AnalyzeAsync(record);
            Assert.Equal(m.Classes.Count, a.Findings.Count);
            // The bundled report generator writes what the report run writes.
            Assert.False(string.IsNullOrWhiteSpace(a.Report));
            Assert.Equal(b.Report, a.Report);
            Assert.Equal(m.Classes.Select(c => c.Code).Order(), a.Findings.Select(f => f.Class).Order());
            foreach (var f in a.Findings)
            {
                var spec = m.Classes.Single(c => c.Code == f.Class);
                Assert.Equal(spec.Threshold, f.Threshold);
                Assert.Equal(spec.Threshold is { } th ? f.Score >= th : null, f.Positive);
                Assert.True(Math.Abs(b.Findings.Single(x => x.Class == f.Class).Score - f.Score) < 1e-4, $"{f.Class}: {f.Score}");
            }
        }

        var info = onBundle.Describe();
        Assert.Equal(("test-model", "0.1.0", "onnxruntime"), (info.Name, info.Version, info.Engine));
        Assert.Equal(InferenceService.ModelCardRoute, info.Card);
        Assert.Equal("run", info.SourceRun);
        Assert.Equal("report", info.ReportModel);
    }

    [Fact]
    public void ABundleCarriesItsOwnStorePromptsAndCheckpoint()
    {
        var e = Assert.Throws<InputValueException>(() => new InferenceService(new ServiceOptions { Run = Bundle, Store = fx.Store }));
        Assert.Contains("--store and --prompts go with a run folder", e.Message);
        var r = CliRunner.Run(["analyze", fx.RecordHeader, "--run", Bundle, "--checkpoint", "last", "--threads", "1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--checkpoint goes with a run folder", r.Stderr);
    }

    [Fact]
    public void AnalyzeUsesTheDefaultBundleFoundAboveTheWorkingFolder()
    {
        // Bundle is <dir>/models/deri-ptbxl: any folder below <dir> finds it.
        string root = Path.GetDirectoryName(Path.GetDirectoryName(Bundle))!;
        string below = Directory.CreateDirectory(Path.Combine(root, "work", "deeper")).FullName;
        var r = CliRunner.Run(["analyze", fx.RecordHeader, "--format", "json", "--threads", "1"], workingDirectory: below);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("test-model 0.1.0", r.Stderr);
        var result = JsonNode.Parse(r.Stdout.Trim())!;
        var findings = result["findings"]!.AsArray();
        Assert.Equal(ModelBundle.ReadManifest(Bundle).Classes.Count, findings.Count);
        Assert.All(findings, f => Assert.NotNull(f!["score"]));
        Assert.Contains(findings, f => f!["threshold"] is not null);

        Assert.Equal(Bundle, ModelBundle.FindDefault(below, fx.NewDir("app")));
        Assert.Equal(Bundle, ModelBundle.FindDefault(fx.NewDir("elsewhere"), root));
        string nowhere = fx.NewDir("nowhere");
        Assert.Null(ModelBundle.FindDefault(nowhere, nowhere));
        var none = Assert.Throws<InputFileNotFoundException>(() => ModelBundle.RequireDefault(nowhere, nowhere));
        Assert.Contains("no --run given and no default model", none.Message);
        Assert.Contains("deri model build", none.Message);
    }

    [Fact]
    public void CommandsThatNeedTheRunsTorchSharpModelSayWhyABundleWillNotDo()
    {
        var r = CliRunner.Run(["zeroshot", "--run", Bundle, "--store", fx.Store, "--threads", "1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("a model bundle, not a run folder", r.Stderr);
        Assert.Contains("deri model info", r.Stderr);
    }

    [Fact]
    public void BenchEmbedTimesTheBundleOnOnnxRuntimeAndTheRunOnBoth()
    {
        var bundle = JsonNode.Parse(CliRunner.Ok("bench", "embed", "--run", Bundle, "--batches", "1,2", "--iters", "2", "--warmup", "1", "--threads", "1"))!;
        var rows = bundle["results"]!.AsArray();
        Assert.Equal(["onnxruntime", "onnxruntime"], rows.Select(x => (string)x!["mode"]!));
        Assert.All(rows, x => Assert.True((double)x!["ms_per_record"]! > 0));
        Assert.Equal("test-model 0.1.0", (string?)bundle["model"]);

        var run = JsonNode.Parse(CliRunner.Ok("bench", "embed", "--run", fx.Run, "--onnx", "--batches", "1", "--iters", "1", "--warmup", "0", "--threads", "1", "--device", "cpu"))!;
        Assert.Equal(["train_forward", "eval_no_grad", "folded_inference", "onnxruntime"], run["results"]!.AsArray().Select(x => (string)x!["mode"]!));
    }

    [Fact]
    public async Task TheServerNamesTheBundleServesItsCardAndFhirNamesItsVersion()
    {
        using var service = new InferenceService(new ServiceOptions { Run = Bundle, MaxBatch = 4 });
        await using var app = DeriServer.Build(service, new ServerOptions { Port = 0 }, b => b.WebHost.UseTestServer());
        await app.StartAsync();
        using var client = app.GetTestClient();
        using var model = JsonDocument.Parse(await client.GetStringAsync("/api/v1/model"));
        Assert.Equal("test-model", model.RootElement.GetProperty("name").GetString());
        Assert.Equal("0.1.0", model.RootElement.GetProperty("version").GetString());
        Assert.Equal("/api/v1/model/card", model.RootElement.GetProperty("card").GetString());
        using var card = await client.GetAsync("/api/v1/model/card");
        Assert.True(card.IsSuccessStatusCode);
        Assert.Equal("text/markdown", card.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith(CardText, await card.Content.ReadAsStringAsync());

        using var form = new MultipartFormDataContent();
        foreach (string f in new[] { fx.RecordHeader, Path.ChangeExtension(fx.RecordHeader, ".dat") })
        {
            var part = new ByteArrayContent(File.ReadAllBytes(f));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", Path.GetFileName(f));
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/analyze") { Content = form };
        request.Headers.Accept.ParseAdd("application/fhir+json");
        using var response = await client.SendAsync(request);
        string fhir = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, fhir);
        Assert.Contains("Deri DERI model test-model", fhir);
        Assert.Contains("test-model 0.1.0", fhir);
    }

    [Fact]
    public async Task ARunFolderHasNoCard()
    {
        using var response = await fx.Client.GetAsync("/api/v1/model/card");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
        using var model = JsonDocument.Parse(await fx.Client.GetStringAsync("/api/v1/model"));
        Assert.Equal("torchsharp", model.RootElement.GetProperty("engine").GetString());
        Assert.True(!model.RootElement.TryGetProperty("version", out var v) || v.ValueKind == JsonValueKind.Null);
    }
}
