using Deri.Text;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Text;

public class BertParityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static double RelativeError(Tensor got, Tensor want)
    {
        var g = got.to(ScalarType.Float64);
        var w = want.to(ScalarType.Float64);
        return (g - w).abs().max().item<double>() / w.abs().max().item<double>();
    }

    [Fact]
    public void MatchesThePyTorchReferenceWithPadding()
    {
        var config = BertConfig.Load(TextFixtures.File("bert_tiny_config.json"));
        Assert.Equal(new BertConfig(32, 2, 2, 64, 16, 50, 2, 1e-12, 0.1, 0.1, 0), config);
        using var model = new BertModel(config);
        var weights = SafeTensors.Load(TextFixtures.File("bert_tiny.safetensors"));
        var report = StateDictLoader.Load(model, weights, strict: true);
        Assert.Equal(weights.Count, report.Loaded.Count);
        model.eval();

        var io = SafeTensors.Load(TextFixtures.File("bert_tiny_io.safetensors"));
        using var _ = torch.no_grad();
        var (pooled, hidden) = model.forward(io["input_ids"], io["attention_mask"], io["token_type_ids"]);
        Assert.Equal(new long[] { 3, 32 }, pooled.shape);
        Assert.Equal(new long[] { 3, 10, 32 }, hidden.shape);
        output.WriteLine($"relative error: pooled {RelativeError(pooled, io["pooled"]):E2}, hidden {RelativeError(hidden, io["hidden"]):E2}");
        Assert.True(RelativeError(pooled, io["pooled"]) <= 1e-5, $"pooled rel err {RelativeError(pooled, io["pooled"])}");
        Assert.True(RelativeError(hidden, io["hidden"]) <= 1e-5, $"hidden rel err {RelativeError(hidden, io["hidden"])}");

        // Float64 (the same weights widened) against the float64 reference: the arithmetic itself matches.
        model.to(ScalarType.Float64);
        var (pooled64, hidden64) = model.forward(io["input_ids"], io["attention_mask"], io["token_type_ids"]);
        output.WriteLine($"float64 relative error: pooled {RelativeError(pooled64, io["pooled_f64"]):E2}, hidden {RelativeError(hidden64, io["hidden_f64"]):E2}");
        Assert.True(RelativeError(pooled64, io["pooled_f64"]) <= 1e-12);
        Assert.True(RelativeError(hidden64, io["hidden_f64"]) <= 1e-12);
        Assert.True(RelativeError(pooled, io["pooled_f64"]) <= 1e-5);
        Assert.True(RelativeError(hidden, io["hidden_f64"]) <= 1e-5);
        model.to(ScalarType.Float32);

        // The token types matter (row 1 uses type 1): zeros must give a different row 1 and the same row 0.
        var (_, hiddenNoTypes) = model.forward(io["input_ids"], io["attention_mask"]);
        Assert.True(RelativeError(hiddenNoTypes[0], io["hidden"][0]) <= 1e-5);
        Assert.True(RelativeError(hiddenNoTypes[1], io["hidden"][1]) > 1e-3);
    }

    [Fact]
    public void StateDictNamesAreExactlyHuggingFaces()
    {
        using var model = new BertModel(new BertConfig(32, 2, 2, 64, 16, 50));
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        var header = SafeTensors.ReadHeader(TextFixtures.File("bert_tiny.safetensors"));
        Assert.Equal(header.Entries.Select(e => e.Name).ToHashSet(), names);
        Assert.Contains("encoder.layer.1.attention.self.query.weight", names);
        Assert.Contains("encoder.layer.0.attention.output.LayerNorm.bias", names);
        Assert.Contains("pooler.dense.weight", names);
    }

    [Fact]
    public void PaddingDoesNotChangeRealTokens()
    {
        using var model = new BertModel(new BertConfig(32, 2, 2, 64, 16, 50));
        model.eval();
        using var _ = torch.no_grad();
        var ids = torch.tensor(new long[] { 2, 7, 8, 3 }).unsqueeze(0);
        var (pooledShort, hiddenShort) = model.forward(ids, torch.ones_like(ids));
        var padded = torch.cat([ids, torch.zeros(1, 5, dtype: ScalarType.Int64)], 1);
        var mask = torch.cat([torch.ones_like(ids), torch.zeros(1, 5, dtype: ScalarType.Int64)], 1);
        var (pooledLong, hiddenLong) = model.forward(padded, mask);
        Assert.True(pooledShort.allclose(pooledLong, rtol: 1e-5, atol: 1e-6));
        Assert.True(hiddenShort.allclose(hiddenLong[.., ..4], rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void ReducedPrecisionWithPaddingStaysFinite(ScalarType type)
    {
        using var model = new BertModel(new BertConfig(32, 2, 2, 64, 16, 50));
        model.eval();
        using var _ = torch.no_grad();
        var ids = torch.tensor(new long[] { 2, 7, 8, 3, 0, 0 }).unsqueeze(0);
        var mask = (ids != 0).to(ScalarType.Int64);
        var (pooled32, _) = model.forward(ids, mask);
        model.to(type);
        var (pooled, hidden) = model.forward(ids, mask);
        Assert.Equal(type, hidden.dtype);
        Assert.False(hidden.isnan().any().item<bool>());
        Assert.True(pooled.to(ScalarType.Float32).allclose(pooled32, rtol: 0.05, atol: 0.05));
    }

    [Fact]
    public void TooLongInputIsRejected()
    {
        using var model = new BertModel(new BertConfig(32, 2, 2, 64, 16, 50));
        var ids = torch.zeros(1, 17, dtype: ScalarType.Int64);
        var e = Assert.Throws<ArgumentException>(() => model.forward(ids, torch.ones_like(ids)));
        Assert.Contains("max_position_embeddings 16", e.Message);
    }

    [Fact]
    public void ConfigRoundTripsAndRejectsBadValues()
    {
        using var dir = new TempDir();
        var config = BertConfig.Small(1234);
        Assert.Equal(256, config.OutputDim);
        config.Save(dir.File("config.json"));
        Assert.Equal(config, BertConfig.Load(dir.File("config.json")));

        System.IO.File.WriteAllText(dir.File("bad.json"), "{\"hidden_size\": 30, \"num_attention_heads\": 4}");
        var e = Assert.Throws<InputFormatException>(() => BertConfig.Load(dir.File("bad.json")));
        Assert.Contains(dir.File("bad.json"), e.Message);
        Assert.Contains("divide hidden_size", e.Message);

        System.IO.File.WriteAllText(dir.File("act.json"), "{\"hidden_act\": \"relu\"}");
        Assert.Contains("hidden_act", Assert.Throws<InputFormatException>(() => BertConfig.Load(dir.File("act.json"))).Message);
        System.IO.File.WriteAllText(dir.File("type.json"), "{\"hidden_size\": \"big\"}");
        Assert.Contains("'hidden_size' must be an integer", Assert.Throws<InputFormatException>(() => BertConfig.Load(dir.File("type.json"))).Message);
    }
}
