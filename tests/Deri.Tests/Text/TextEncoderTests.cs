using Deri.Text;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Text;

public class TextEncoderTests
{
    [Fact]
    public void LoadsAHuggingFaceFolderFrozenAndMatchesTheBareModel()
    {
        string folder = TextFixtures.File("hf_tiny");
        var (bare, report) = HuggingFaceBert.LoadModel(folder);
        Assert.Equal(["embeddings.position_ids"], report.Ignored);
        Assert.Empty(report.Missing);
        using var encoder = TextEncoder.FromHuggingFace(folder, new TextEncoderOptions(MaxLength: 12));
        Assert.True(encoder.Frozen);
        Assert.Equal(32, encoder.OutputDim);
        Assert.All(encoder.Model.parameters(), p => Assert.False(p.requires_grad));
        // Even after a parent's train() (dropout 0.1 in this config), a frozen encoder is deterministic.
        encoder.Model.train();
        using (var once = encoder.Encode(["sinus rhythm"], torch.CPU))
        using (var twice = encoder.Encode(["sinus rhythm"], torch.CPU))
            Assert.True(once.Hidden.allclose(twice.Hidden, rtol: 0, atol: 0));

        using var features = encoder.Encode(["Sinus rhythm. Normal ECG.", "left axis deviation"], torch.CPU);
        Assert.Equal(new long[] { 2, 32 }, features.Pooled.shape);
        Assert.Equal(new long[] { 2, 12, 32 }, features.Hidden.shape);
        Assert.Equal(new long[] { 8, 5 }, features.Mask.sum(1).data<long>().ToArray());
        Assert.False(features.Pooled.requires_grad);

        // Same ids through the bare model: [CLS] sinus rhythm . normal ecg . [SEP], padded.
        var ids = torch.tensor(new long[] { 2, 5, 6, 26, 7, 8, 26, 3, 0, 0, 0, 0 }, new long[] { 1, 12 });
        Assert.Equal(ids.data<long>().Take(8), encoder.Tokenizer.Encode("sinus rhythm. normal ecg.").Select(i => (long)i));
        bare.eval();
        using var _ = torch.no_grad();
        var (pooled, hidden) = bare.forward(ids, (ids != 0).to(ScalarType.Int64));
        Assert.True(pooled.allclose(features.Pooled[..1], rtol: 1e-6, atol: 1e-6));
        Assert.True(hidden.allclose(features.Hidden[..1], rtol: 1e-6, atol: 1e-6));
        bare.Dispose();
    }

    [Fact]
    public void ComputeOnLongestKeepsRealTokensAndZeroesPadding()
    {
        string folder = TextFixtures.File("hf_tiny");
        using var full = TextEncoder.FromHuggingFace(folder, new TextEncoderOptions(MaxLength: 16));
        using var fast = TextEncoder.FromHuggingFace(folder, new TextEncoderOptions(MaxLength: 16, ComputeOnLongest: true));
        string[] texts = ["sinus rhythm. normal ecg.", "left axis"];
        using var a = full.Encode(texts, torch.CPU);
        using var b = fast.Encode(texts, torch.CPU);
        Assert.Equal(a.Hidden.shape, b.Hidden.shape);
        Assert.True(a.Mask.eq(b.Mask).all().item<bool>());
        // Equal up to float32 summation order (the matmuls have other shapes), which this random model amplifies to ~3e-6.
        Assert.True(a.Pooled.allclose(b.Pooled, rtol: 1e-5, atol: 1e-5));
        // Row 0 has 8 real tokens, row 1 has 4: real rows agree, padding rows are zeros (and non-zero in the full run).
        Assert.True(a.Hidden[0, ..8].allclose(b.Hidden[0, ..8], rtol: 1e-5, atol: 1e-5));
        Assert.True(a.Hidden[1, ..4].allclose(b.Hidden[1, ..4], rtol: 1e-5, atol: 1e-5));
        Assert.Equal(0f, b.Hidden[0, 8..].abs().sum().item<float>());
        Assert.Equal(0f, b.Hidden[1, 4..].abs().sum().item<float>());
        Assert.True(a.Hidden[1, 4..].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void PytorchBinOnlyFolderExplainsTheConversion()
    {
        using var dir = new TempDir();
        System.IO.File.Copy(TextFixtures.File("hf_tiny", "config.json"), dir.File("config.json"));
        System.IO.File.Copy(TextFixtures.File("hf_tiny", "vocab.txt"), dir.File("vocab.txt"));
        System.IO.File.WriteAllBytes(dir.File("pytorch_model.bin"), [0x80, 0x02]);
        var e = Assert.Throws<InputFileNotFoundException>(() => TextEncoder.FromHuggingFace(dir.Path));
        Assert.Contains("pytorch_model.bin", e.Message);
        Assert.Contains("save_file", e.Message);
        Assert.Contains(HuggingFaceBert.ConvertCommand, e.Message);

        System.IO.File.Delete(dir.File("pytorch_model.bin"));
        Assert.Contains("model.safetensors not found", Assert.Throws<InputFileNotFoundException>(() => TextEncoder.FromHuggingFace(dir.Path)).Message);
        System.IO.File.Delete(dir.File("vocab.txt"));
        Assert.Contains("vocab.txt not found", Assert.Throws<InputFileNotFoundException>(() => TextEncoder.FromHuggingFace(dir.Path)).Message);
    }

    [Fact]
    public void PrefixedAndTensorFlowStyleCheckpointsLoad()
    {
        using var dir = new TempDir();
        foreach (var f in new[] { "vocab.txt", "config.json" })
            System.IO.File.Copy(TextFixtures.File("hf_tiny", f), dir.File(f));
        var original = SafeTensors.Load(TextFixtures.File("hf_tiny", "model.safetensors"));
        var legacy = original.ToDictionary(
            kv => "bert." + kv.Key.Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta"),
            kv => kv.Value);
        legacy["cls.predictions.bias"] = torch.zeros(50);
        SafeTensors.Save(dir.File("model.safetensors"), legacy);
        var (model, report) = HuggingFaceBert.LoadModel(dir.Path);
        Assert.Equal(original.Count - 1, report.Loaded.Count);
        // A task head saved beside the encoder is skipped on purpose, not a mismatch.
        Assert.Empty(report.Unexpected);
        Assert.Contains("cls.predictions.bias", report.Ignored);
        var ln = model.named_parameters().First(p => p.name == "encoder.layer.1.output.LayerNorm.bias").parameter;
        Assert.True(ln.allclose(original["encoder.layer.1.output.LayerNorm.bias"], rtol: 0, atol: 0));
        model.Dispose();
    }

    [Fact]
    public void WeightsThatDoNotFitTheConfigAreRejected()
    {
        using var dir = new TempDir();
        foreach (var f in new[] { "vocab.txt", "model.safetensors" })
            System.IO.File.Copy(TextFixtures.File("hf_tiny", f), dir.File(f));
        (BertConfig.Load(TextFixtures.File("hf_tiny", "config.json")) with { IntermediateSize = 48 }).Save(dir.File("config.json"));
        var e = Assert.Throws<StateDictMismatchException>(() => TextEncoder.FromHuggingFace(dir.Path));
        Assert.Contains("encoder.layer.0.intermediate.dense.weight", e.Message);
    }

    [Fact]
    public void FromScratchEncoderTrainsAndSavesToAFolderThatLoadsBack()
    {
        using var dir = new TempDir();
        var vocab = WordPieceVocabulary.Build(["sinus rhythm", "atrial fibrillation", "sinus rhythm normal ecg"], new VocabularyOptions(MinCount: 1));
        WordPieceVocabulary.Write(dir.File("vocab.txt"), vocab);
        var config = new BertConfig(HiddenSize: 16, NumHiddenLayers: 1, NumAttentionHeads: 2, IntermediateSize: 32,
            MaxPositionEmbeddings: 16, VocabSize: vocab.Count, HiddenDropoutProb: 0, AttentionProbsDropoutProb: 0);
        using var encoder = TextEncoder.FromVocabulary(dir.File("vocab.txt"), config, new TextEncoderOptions(MaxLength: 16));
        Assert.False(encoder.Frozen);
        using (var f = encoder.Encode(["Sinus rhythm"], torch.CPU))
        {
            Assert.True(f.Pooled.requires_grad);
            f.Pooled.sum().backward();
        }
        var grad = encoder.Model.named_parameters().First(p => p.name == "pooler.dense.weight").parameter.grad;
        Assert.NotNull(grad);
        Assert.True(grad!.abs().sum().item<float>() > 0);

        encoder.Save(dir.File("saved"));
        using var loaded = TextEncoder.FromHuggingFace(dir.File("saved"), new TextEncoderOptions(MaxLength: 16));
        encoder.Model.eval();
        using var a = torch.no_grad();
        using var x = encoder.Encode(["atrial fibrillation"], torch.CPU);
        using var y = loaded.Encode(["atrial fibrillation"], torch.CPU);
        Assert.True(x.Hidden.allclose(y.Hidden, rtol: 0, atol: 0));
    }
}
