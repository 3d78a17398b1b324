using System.Text.Json;
using Deri.Tests.Cli;
using Deri.Text;
using TorchSharp;

namespace Deri.Tests.Text;

public class TextCommandTests
{
    [Fact]
    public void VocabInitEncodeAndCacheFromTheCommandLine()
    {
        using var dir = new TempDir();
        System.IO.File.WriteAllText(dir.File("reports.csv"),
            "ecg_id,report\n1,\"Sinus rhythm, normal ECG.\"\n2,\n3,Atrial fibrillation.\n4,\"Sinus rhythm, left axis deviation.\"\n5,Sinus rhythm.\n");

        using (var doc = JsonDocument.Parse(CliRunner.Ok("text", "vocab", "--reports", dir.File("reports.csv"), "--min-count", "2", "--out", dir.File("vocab.txt"))))
        {
            Assert.Equal(4, doc.RootElement.GetProperty("reports").GetInt32());
            Assert.Equal(1, doc.RootElement.GetProperty("skipped_empty").GetInt32());
        }
        var vocab = System.IO.File.ReadAllLines(dir.File("vocab.txt"));
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "rhythm", "sinus", ","], vocab.Take(9));

        CliRunner.Ok("text", "init", "--vocab", dir.File("vocab.txt"), "--out", dir.File("model"), "--hidden", "32", "--layers", "1", "--heads", "2", "--max-length", "16");
        var lines = CliRunner.Ok("text", "encode", "--model", dir.File("model"), "--max-length", "16", "--device", "cpu", "--threads", "1",
            "--text", "Sinus rhythm.", "--text", "atrial fibrillation").Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            Assert.Equal(5, first.RootElement.GetProperty("tokens").GetInt32());
            Assert.Equal(32, first.RootElement.GetProperty("pooled_dim").GetInt32());
            Assert.Equal([2, 7, 6, 5, 3], first.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()));
        }

        var cacheOut = CliRunner.Ok("text", "cache", "--model", dir.File("model"), "--reports", dir.File("reports.csv"), "--out", dir.File("f.bin"),
            "--precision", "f32", "--max-length", "16", "--device", "cpu", "--threads", "1");
        using (var doc = JsonDocument.Parse(cacheOut))
            Assert.Equal(4, doc.RootElement.GetProperty("distinct").GetInt32());
        using var store = TextFeatureStore.Open(dir.File("f.bin"));
        using var encoder = TextEncoder.FromHuggingFace(dir.File("model"), new TextEncoderOptions(MaxLength: 16));
        string[] texts = ["Atrial fibrillation.", "Sinus rhythm."];
        using var want = encoder.Encode(texts, torch.CPU);
        using var got = store.Read(texts, torch.CPU);
        // The CLI ran on one thread, this process on several: equal up to float32 summation order.
        Assert.True(want.Hidden.allclose(got.Hidden, rtol: 1e-5, atol: 1e-5));
        Assert.True(want.Pooled.allclose(got.Pooled, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void BenchPrintsOneJsonLine()
    {
        var o = CliRunner.Ok("bench", "text", "--model", TextFixtures.File("hf_tiny"), "--batch-size", "2", "--iterations", "1",
            "--max-length", "16", "--device", "cpu", "--threads", "1");
        using var doc = JsonDocument.Parse(o);
        Assert.Equal("text-encode", doc.RootElement.GetProperty("bench").GetString());
        Assert.Equal(32, doc.RootElement.GetProperty("hidden_size").GetInt32());
        Assert.True(doc.RootElement.GetProperty("texts_per_second").GetDouble() > 0);
    }

    [Fact]
    public void ConversionAdviceIsPrintedForPytorchBinFolders()
    {
        using var dir = new TempDir();
        System.IO.File.Copy(TextFixtures.File("hf_tiny", "config.json"), dir.File("config.json"));
        System.IO.File.Copy(TextFixtures.File("hf_tiny", "vocab.txt"), dir.File("vocab.txt"));
        System.IO.File.WriteAllBytes(dir.File("pytorch_model.bin"), [0x80]);
        var r = CliRunner.Run(["text", "encode", "--model", dir.Path, "--text", "x", "--device", "cpu"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("error:", r.Stderr);
        Assert.Contains("model.safetensors", r.Stderr);
        Assert.Contains("save_file", r.Stderr);
    }
}

public class ReportCorpusTests
{
    [Fact]
    public void ReadsRealPtbXlReportsAndBuildsAVocabularyThatCoversThem()
    {
        string csv = Path.Combine(SharedData.Data, "ptbxl-reports", "ptbxl_reports.csv");
        var corpus = ReportCorpus.Read(csv);
        Assert.Equal(10_970, corpus.Reports.Count);
        Assert.Single(corpus.Skipped);
        Assert.Equal("sinusrhythmus periphere niederspannung", corpus.Reports[0]);

        var sample = corpus.Reports.Take(2000).ToList();
        var a = WordPieceVocabulary.Build(sample, new VocabularyOptions(MinCount: 5));
        var b = WordPieceVocabulary.Build(sample.AsEnumerable().Reverse(), new VocabularyOptions(MinCount: 5));
        Assert.Equal(a, b);
        using var dir = new TempDir();
        WordPieceVocabulary.Write(dir.File("vocab.txt"), a);
        var tok = TextTokenizer.Create(dir.File("vocab.txt"), maxLength: 256);
        Assert.All(sample.Take(300), r => Assert.DoesNotContain(tok.UnkId, tok.Encode(r)));

        var e = Assert.Throws<InputFormatException>(() => ReportCorpus.Read(csv, "befund"));
        Assert.Contains("no column 'befund'", e.Message);
        Assert.Contains("scp_codes", e.Message);
    }
}
