using Deri.Generation.Decoder;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Generation.Decoder;

public class Gpt2ParityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static double RelativeError(Tensor got, Tensor want)
    {
        var g = got.to(ScalarType.Float64);
        var w = want.to(ScalarType.Float64);
        return (g - w).abs().max().item<double>() / w.abs().max().item<double>();
    }

    private static Gpt2Model LoadTiny()
    {
        var config = Gpt2Config.Load(Gpt2Fixtures.File("gpt2_tiny_config.json"));
        var model = new Gpt2Model(config);
        var weights = SafeTensors.Load(Gpt2Fixtures.File("gpt2_tiny.safetensors"));
        var report = model.LoadHuggingFace(weights, strict: true);
        Assert.Equal(weights.Count - 1, report.Loaded.Count);
        Assert.Equal(["lm_head.weight"], report.Ignored);
        model.eval();
        return model;
    }

    [Fact]
    public void ConfigReadsTheHuggingFaceFields()
    {
        var config = Gpt2Config.Load(Gpt2Fixtures.File("gpt2_tiny_config.json"));
        Assert.Equal(new Gpt2Config(32, 2, 2, 32, 60, 1e-5, true, null, 0.1, 0.1, 0.1), config);
        Assert.Equal(128, config.InnerDim);
    }

    [Fact]
    public void BadConfigIsRejectedNamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), "deri-gpt2-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            System.IO.File.WriteAllText(path, "{\"n_embd\": 30, \"n_head\": 4}");
            var e = Assert.Throws<InputFormatException>(() => Gpt2Config.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("n_head", e.Message);
            System.IO.File.WriteAllText(path, "{\"activation_function\": \"relu\"}");
            Assert.Contains("gelu_new", Assert.Throws<InputFormatException>(() => Gpt2Config.Load(path)).Message);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    [Fact]
    public void MatchesThePyTorchReferenceWithPaddingAndMemory()
    {
        using var model = LoadTiny();
        var io = SafeTensors.Load(Gpt2Fixtures.File("gpt2_tiny_io.safetensors"));
        using var _ = torch.no_grad();
        var logits = model.forward(io["input_ids"], io["attention_mask"], io["memory"]);
        Assert.Equal(new long[] { 3, 9, 60 }, logits.shape);
        var err = RelativeError(logits, io["logits"]);
        var loss = Gpt2Model.LanguageModelLoss(logits, io["input_ids"], io["attention_mask"]);
        var lossErr = Math.Abs(loss.item<float>() - io["loss"][0].item<float>()) / Math.Abs(io["loss"][0].item<float>());
        output.WriteLine($"relative error: logits {err:E2}, loss {lossErr:E2}");
        Assert.True(err <= 1e-5, $"logits rel err {err}");
        Assert.True(lossErr <= 1e-5, $"loss rel err {lossErr}");

        // The memory matters: another memory changes the logits.
        var other = model.forward(io["input_ids"], io["attention_mask"], io["memory"] + 1.0);
        Assert.True(RelativeError(other, io["logits"]) > 1e-3);
        // A missing memory is refused (the model has cross-attention).
        Assert.Throws<ArgumentException>(() => model.forward(io["input_ids"], io["attention_mask"], null));
    }

    [Fact]
    public void PaddingDoesNotChangeRealTokensAndTheLossIgnoresIt()
    {
        using var model = LoadTiny();
        var io = SafeTensors.Load(Gpt2Fixtures.File("gpt2_tiny_io.safetensors"));
        using var _ = torch.no_grad();
        var ids = io["input_ids"];
        var mask = io["attention_mask"];
        var logits = model.forward(ids, mask, io["memory"]);
        // Row 2 has 3 real tokens: running it alone, unpadded, gives the same logits there.
        var alone = model.forward(ids[2..3, ..3], mask[2..3, ..3], io["memory"][2..3]);
        Assert.True(RelativeError(alone, logits[2..3, ..3]) <= 1e-5);
        // Changing padded ids changes neither the real logits nor the loss.
        var changed = ids.clone().masked_fill(mask.eq(0), 5);
        var logits2 = model.forward(changed, mask, io["memory"]);
        Assert.True(RelativeError(logits2.masked_select(mask.unsqueeze(-1).to(ScalarType.Bool)), logits.masked_select(mask.unsqueeze(-1).to(ScalarType.Bool))) <= 1e-6);
        var l1 = Gpt2Model.LanguageModelLoss(logits, ids, mask).item<float>();
        var l2 = Gpt2Model.LanguageModelLoss(logits2, changed, mask).item<float>();
        Assert.Equal(l1, l2, 5);
    }

    [Fact]
    public void StateDictNamesAreHuggingFacesWithConv1DLayout()
    {
        using var model = new Gpt2Model(new Gpt2Config(32, 2, 2, 32, 60, AddCrossAttention: true));
        var names = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        var header = SafeTensors.ReadHeader(Gpt2Fixtures.File("gpt2_tiny.safetensors"));
        Assert.Equal(header.Entries.Select(e => e.Name).Where(n => n != "lm_head.weight").ToHashSet(), names.Keys.ToHashSet());
        Assert.Equal(new long[] { 32, 96 }, names["transformer.h.0.attn.c_attn.weight"]);
        Assert.Equal(new long[] { 32, 64 }, names["transformer.h.1.crossattention.c_attn.weight"]);
        Assert.Equal(new long[] { 32, 32 }, names["transformer.h.1.crossattention.q_attn.weight"]);
        Assert.Equal(new long[] { 32, 128 }, names["transformer.h.0.mlp.c_fc.weight"]);
        Assert.Contains("transformer.h.0.ln_cross_attn.weight", names.Keys);
    }

    [Fact]
    public void TrainingStepLowersTheLoss()
    {
        torch.manual_seed(3);
        using var model = new Gpt2Model(new Gpt2Config(16, 1, 2, 16, 20, AddCrossAttention: true, EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0));
        var ids = torch.randint(0, 20, [4, 8], dtype: ScalarType.Int64);
        var mask = torch.ones(4, 8, dtype: ScalarType.Int64);
        var memory = torch.randn(4, 1, 16);
        var opt = torch.optim.AdamW(model.parameters(), lr: 1e-2);
        float first = 0, last = 0;
        for (var step = 0; step < 20; step++)
        {
            using var scope = torch.NewDisposeScope();
            opt.zero_grad();
            var loss = Gpt2Model.LanguageModelLoss(model.forward(ids, mask, memory), ids, mask);
            loss.backward();
            opt.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < 0.5 * first, $"loss {first} → {last}");
    }
}
