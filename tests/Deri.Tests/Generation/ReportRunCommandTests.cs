using System.Text.Json.Nodes;
using Deri.Data.Store;
using Deri.Evaluation;
using Deri.Generation;
using Deri.Tests.Cli;
using Deri.Training;

namespace Deri.Tests.Generation;

/// <summary><c>deri report train|generate|eval</c> on a tiny synthetic store and pretrained run (the fast end-to-end variant).</summary>
public sealed class ReportRunCommandTests(TinyReportData data) : IClassFixture<TinyReportData>
{
    [Fact]
    public void TrainingWritesTheRunFolderAndLowersTheValidationLoss()
    {
        Assert.True(File.Exists(Path.Combine(data.ReportDir, ReportRun.ConfigFile)));
        Assert.True(File.Exists(Path.Combine(data.ReportDir, ReportRun.TokenizerFolder, "words.txt")));
        Assert.True(File.Exists(Path.Combine(data.ReportDir, ReportRun.TrainFolder, "best.ckpt")));
        var saved = ReportConfig.Load(Path.Combine(data.ReportDir, ReportRun.ConfigFile));
        Assert.True(Path.IsPathRooted(saved.PretrainedRun));
        // The trainer records the report config itself, not a pretraining config with made-up network/dataset sections.
        Assert.Equal(File.ReadAllText(Path.Combine(data.ReportDir, ReportRun.ConfigFile)),
            File.ReadAllText(Path.Combine(data.ReportDir, ReportRun.TrainFolder, "config.yaml")));
        var val = MetricsLog.Read(Path.Combine(data.ReportDir, ReportRun.TrainFolder, "metrics.jsonl"))
            .Where(r => (string?)r["kind"] == "val").Select(r => (double)r["loss"]!).ToList();
        Assert.Equal(data.ReportEpochs, val.Count);
        Assert.True(val[^1] < val[0], $"validation loss did not fall: {string.Join(", ", val)}");
        Assert.Equal(data.ReportEpochs, data.TrainResult.Training.Epochs);
    }

    [Fact]
    public void TrainCommandResumesAFinishedRunWithoutNewSteps()
    {
        string copy = Path.Combine(data.Root, "resumed");
        CopyDirectory(data.ReportDir, copy);
        string output = CliRunner.Ok("report", "train", "--config", data.WriteConfig(data.ReportDir), "--out", copy, "--resume", "auto", "--threads", "1");
        Assert.Contains($"{data.TrainResult.Training.GlobalSteps} steps", output);
    }

    [Fact]
    public void TrainCommandRefusesToStartOverAFinishedRunWithoutOverwrite()
    {
        string copy = Path.Combine(data.Root, "kept");
        CopyDirectory(data.ReportDir, copy);
        string last = Path.Combine(copy, ReportRun.TrainFolder, "last.ckpt");
        byte[] before = File.ReadAllBytes(last);
        var r = CliRunner.Run(["report", "train", "--config", data.WriteConfig(data.ReportDir), "--out", copy, "--threads", "1"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("already holds a run", r.Stderr);
        Assert.Contains("--overwrite", r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(last));
    }

    [Fact]
    public void GenerateFromAStoreSplitWritesCsvWithReferences()
    {
        string outPath = Path.Combine(data.Root, "gen-test.csv");
        string stdout = CliRunner.Ok("report", "generate", "--model", data.ReportDir, "--store", data.StoreDir, "--split", "test",
            "-o", outPath, "--beams", "2", "--max-new-tokens", "12", "--threads", "1");
        using var store = EcgStore.Open(data.StoreDir);
        int n = store.IndicesOf("test").Length;
        Assert.Contains($"{n} reports", stdout);
        var lines = File.ReadAllLines(outPath);
        Assert.Equal("id,report,reference", lines[0]);
        Assert.Equal(n + 1, lines.Length);
        Assert.Equal(store.Entries[store.IndicesOf("test")[0]].Id, lines[1].Split(',')[0]);
    }

    [Fact]
    public void GenerateFromRecordFilesSkipsAndListsABadRecord()
    {
        var good = Directory.EnumerateFiles(Path.Combine(data.DataDir, "files"), "*.hea", SearchOption.AllDirectories).Take(2).ToArray();
        string bad = Path.Combine(data.Root, "broken.hea");
        File.WriteAllText(bad, "not a header\n");
        string outPath = Path.Combine(data.Root, "gen-records.jsonl");
        var run = CliRunner.Run(["report", "generate", "--model", data.ReportDir, "--records", $"{good[0]},{bad}", "--records", good[1],
            "-o", outPath, "--beams", "1", "--max-new-tokens", "12", "--threads", "1"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("1 records skipped", run.Stdout);
        Assert.Contains("broken.hea", run.Stderr);
        var rows = ReportGeneration.ReadJsonl(outPath);
        Assert.Equal(good.Select(ReportGeneration.RecordId), rows.Select(r => r.Id));
        Assert.All(rows, r => Assert.Null(r.Reference));
    }

    [Fact]
    public void GenerateWhereEveryRecordFailsIsAnErrorAndWritesNothing()
    {
        string bad = Path.Combine(data.Root, "all-broken.hea");
        File.WriteAllText(bad, "not a header\n");
        string outPath = Path.Combine(data.Root, "gen-none.csv");
        var run = CliRunner.Run(["report", "generate", "--model", data.ReportDir, "--records", bad,
            "-o", outPath, "--beams", "1", "--max-new-tokens", "12", "--threads", "1"]);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("none of the 1 records could be read", run.Stderr);
        Assert.Contains("all-broken.hea", run.Stderr);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void EvalWritesGeneratedReportsAndMetrics()
    {
        string outDir = Path.Combine(data.Root, "eval");
        string stdout = CliRunner.Ok("report", "eval", "--model", data.ReportDir, "--store", data.StoreDir, "--split", "test",
            "--labels-store", data.StoreDir, "--prompts", data.Prompts, "--out", outDir, "--beams", "1", "--max-new-tokens", "12", "--threads", "1");
        Assert.Contains("| BLEU-1 |", stdout);
        Assert.Contains("| store |", stdout);
        var m = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
        foreach (string key in new[] { "bleu_1", "bleu_2", "bleu_3", "bleu_4", "rouge_l" })
            Assert.InRange((double)m[key]!, 0, 1);
        var ce = m["ce"]!["store"]!;
        Assert.InRange((double)ce["single_label"]!["f1"]!, 0, 1);
        Assert.InRange((double)ce["multi_label"]!["auc"]!, 0, 1);
        using var store = EcgStore.Open(data.StoreDir);
        Assert.Equal(store.IndicesOf("test").Length, ReportGeneration.ReadJsonl(Path.Combine(outDir, "generated.jsonl")).Count);
        Assert.True(File.Exists(Path.Combine(outDir, "metrics.md")));
        // Per-record CE scores in `deri metrics`' format give back the multi-label AUC of metrics.json.
        var scores = ScoreTableReader.ReadScores(Path.Combine(outDir, "ce_store_scores.csv"));
        var labels = ScoreTableReader.ReadLabels(Path.Combine(outDir, "ce_store_labels.csv"));
        Assert.Equal((int)ce["matched"]!, scores.Rows);
        Assert.Equal(scores.Columns, labels.Columns);
        var recomputed = ClinicalEfficacy.MultiLabel(scores.Values, ScoreTableReader.AsLabels(labels), scores.Columns);
        Assert.Equal((double)ce["multi_label"]!["auc"]!, recomputed.Auc, 12);
    }

    [Fact]
    public void CommandsNameWhatIsWrong()
    {
        string outPath = Path.Combine(data.Root, "never.csv");
        var missing = CliRunner.Run(["report", "generate", "--model", Path.Combine(data.Root, "no-such-run"), "--store", data.StoreDir, "-o", outPath]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("report run folder not found", missing.Stderr);
        var split = CliRunner.Run(["report", "generate", "--model", data.ReportDir, "--store", data.StoreDir, "--split", "tset", "-o", outPath]);
        Assert.Equal(2, split.ExitCode);
        Assert.Contains("--split must be one of train, val, test", split.Stderr);
        var neither = CliRunner.Run(["report", "generate", "--model", data.ReportDir, "-o", outPath]);
        Assert.Equal(2, neither.ExitCode);
        Assert.Contains("give one of --store", neither.Stderr);
        var eval = CliRunner.Run(["report", "eval", "--model", data.ReportDir, "--store", Path.Combine(data.Root, "nostore"), "--out", outPath]);
        Assert.Equal(1, eval.ExitCode);
        Assert.Contains("no prepared store", eval.Stderr);
        var config = CliRunner.Run(["report", "train", "--set", "pretrained_run=", "--out", Path.Combine(data.Root, "x")]);
        Assert.Equal(1, config.ExitCode);
        Assert.Contains("pretrained_run", config.Stderr);
        Assert.False(File.Exists(outPath));
    }

    [Fact]
    public void APretrainedDecoderFolderIsLoadedWithItsTokenTableGrown()
    {
        string dir = Path.Combine(data.Root, "hf-decoder");
        Directory.CreateDirectory(dir);
        string fixtures = TestFixtures.Dir("gpt2");
        File.Copy(Path.Combine(fixtures, "gpt2_tiny_config.json"), Path.Combine(dir, "config.json"), true);
        File.Copy(Path.Combine(fixtures, "gpt2_tiny.safetensors"), Path.Combine(dir, "model.safetensors"), true);
        // 60 checkpoint rows + 4 new: the tokenizer is bigger than the checkpoint's vocabulary.
        new Deri.Generation.Tokenization.WordLevelTokenizer(["[PAD]", "[BOS]", "[EOS]", "[UNK]", .. Enumerable.Range(0, 60).Select(i => $"w{i}")]).Save(dir);
        var config = data.ConfigFor(Path.Combine(data.Root, "hf-run"), $"decoder={dir}", "max_length=30", "decoding.max_new_tokens=20");
        using var pretrained = Deri.Pretraining.PretrainedRun.Load(data.PretrainDir, "last", TorchSharp.torch.CPU);
        var tokenizer = Deri.Generation.Tokenization.ReportTokenizers.Load(dir);
        var model = ReportRun.BuildModel(config, pretrained, tokenizer, TorchSharp.torch.CPU, loadDecoderWeights: true);
        var weights = Deri.Weights.SafeTensors.Load(Path.Combine(dir, "model.safetensors"));
        var state = model.Generator.Decoder.state_dict();
        var wte = state["transformer.wte.weight"];
        Assert.Equal([64L, 32], wte.shape);
        Assert.True(wte.narrow(0, 0, 60).equal(weights["transformer.wte.weight"]).all().item<bool>());
        // The 4 new rows start at the mean of the pretrained rows (Gpt2Model.ResizeTokenEmbeddings, Hugging Face's mean resizing).
        var mean = weights["transformer.wte.weight"].mean([0]);
        for (int r = 60; r < 64; r++) Assert.True(wte[r].allclose(mean, rtol: 1e-5, atol: 1e-6));
        Assert.True(state["transformer.h.1.mlp.c_fc.weight"].equal(weights["transformer.h.1.mlp.c_fc.weight"]).all().item<bool>());
        Assert.Throws<InputFormatException>(() => ReportRun.BuildModel(config with { MaxLength = 257 }, pretrained, tokenizer, TorchSharp.torch.CPU, true));
        model.Generator.Dispose();
    }

    [Fact]
    public void ADecoderFolderWhoseTensorNamesMatchNothingIsAnError()
    {
        string dir = Path.Combine(data.Root, "hf-decoder-renamed");
        Directory.CreateDirectory(dir);
        string fixtures = TestFixtures.Dir("gpt2");
        File.Copy(Path.Combine(fixtures, "gpt2_tiny_config.json"), Path.Combine(dir, "config.json"), true);
        // The same tensors under names no GPT-2 uses (as in a checkpoint of another architecture): 0 of them would load.
        var original = Deri.Weights.SafeTensors.Load(Path.Combine(fixtures, "gpt2_tiny.safetensors"));
        string weights = Path.Combine(dir, "model.safetensors");
        Deri.Weights.SafeTensors.Save(weights, original.ToDictionary(kv => "decoder.layers." + kv.Key, kv => kv.Value));
        new Deri.Generation.Tokenization.WordLevelTokenizer(["[PAD]", "[BOS]", "[EOS]", "[UNK]", .. Enumerable.Range(0, 60).Select(i => $"w{i}")]).Save(dir);
        var config = data.ConfigFor(Path.Combine(data.Root, "hf-renamed-run"), $"decoder={dir}", "max_length=30", "decoding.max_new_tokens=20");
        using var pretrained = Deri.Pretraining.PretrainedRun.Load(data.PretrainDir, "last", TorchSharp.torch.CPU);
        var tokenizer = Deri.Generation.Tokenization.ReportTokenizers.Load(dir);
        var e = Assert.Throws<Deri.Weights.StateDictMismatchException>(
            () => ReportRun.BuildModel(config, pretrained, tokenizer, TorchSharp.torch.CPU, loadDecoderWeights: true));
        Assert.StartsWith(weights, e.Message);
        Assert.Empty(e.Report.Loaded);
        Assert.Contains("transformer.wte.weight", e.Report.Missing);
        Assert.Contains("transformer.h.1.mlp.c_fc.weight", e.Message);
        Assert.Contains("decoder.layers.transformer.wte.weight", e.Message);
        foreach (var t in original.Values) t.Dispose();
    }

    [Fact]
    public void AFolderWithVocabJsonAndMergesIsReadAsGpt2Bpe()
    {
        var tokenizer = Deri.Generation.Tokenization.ReportTokenizers.Load(TestFixtures.Dir("gpt2/bpe"));
        Assert.IsType<Deri.Generation.Tokenization.Gpt2BpeTokenizer>(tokenizer);
        Assert.Equal((50256, 50257, 50258), (tokenizer.EosId, tokenizer.BosId, tokenizer.PadId));
        Assert.Contains("words.txt", Assert.Throws<InputFormatException>(() => Deri.Generation.Tokenization.ReportTokenizers.Load(data.Root)).Message);
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
    }
}
