using System.Text.Json;
using Deri.Benchmarks;
using Deri.Generation.Decoder;
using Deri.Tests.Cli;
using TorchSharp;

namespace Deri.Tests.Benchmarks;

/// <summary>The decoding benchmark runs both modes and checks they agree (timings themselves are not tested).</summary>
public class DecodeBenchmarkTests
{
    [Fact]
    public void BothModesAgreeOnATinyDecoder()
    {
        var config = new Gpt2Config(16, 1, 2, 32, 40, AddCrossAttention: true);
        var r = DecodeBenchmark.Run(new DecodeBenchOptions(config, Batch: 3, Tokens: 6, Beams: 2), torch.CPU);
        Assert.True(r.SameTokens);
        Assert.True(r.MaxScoreDifference < 1e-5);
        Assert.True(r.CachedSeconds > 0 && r.UncachedSeconds > 0);
        Assert.Throws<InputValueException>(() => DecodeBenchmark.Run(new DecodeBenchOptions(config with { AddCrossAttention = false }), torch.CPU));
    }

    [Fact]
    public void CliPrintsOneJsonLine()
    {
        var output = CliRunner.Ok("bench", "decode", "--layers", "1", "--width", "16", "--heads", "2", "--vocab", "30",
            "--batch", "2", "--tokens", "4", "--beams", "2", "--threads", "1");
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("decode", json.RootElement.GetProperty("bench").GetString());
        Assert.True(json.RootElement.GetProperty("same_tokens").GetBoolean());
        Assert.Equal(4, json.RootElement.GetProperty("tokens").GetInt32());
        Assert.True(json.RootElement.GetProperty("cached_s").GetDouble() > 0);
    }
}
