using Deri.Generation.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Generation.Decoder;

public class ReportGeneratorTests
{
    [Fact]
    public void LearnsToWriteTheReportOfEachFeatureAndDecodesIt()
    {
        // Two "ECG features" with different reports ([BOS]=0, [EOS]=9, [PAD]=8); the second is shorter and padded.
        torch.manual_seed(4);
        using var generator = new ReportGenerator(new Gpt2Config(32, 2, 2, 16, 10, AddCrossAttention: true, EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0), featureDim: 8);
        var features = torch.randn(2, 8);
        var ids = torch.tensor(new long[,] { { 0, 1, 2, 3, 4, 9 }, { 0, 5, 6, 9, 8, 8 } });
        var mask = torch.tensor(new long[,] { { 1, 1, 1, 1, 1, 1 }, { 1, 1, 1, 1, 0, 0 } });
        var opt = torch.optim.AdamW(generator.parameters(), lr: 1e-2);
        generator.train();
        float last = float.NaN;
        for (var step = 0; step < 60; step++)
        {
            using var scope = torch.NewDisposeScope();
            opt.zero_grad();
            var loss = generator.Loss(ids, mask, features);
            loss.backward();
            opt.step();
            last = loss.item<float>();
        }
        Assert.True(last < 0.05, $"final loss {last}");
        generator.eval();
        foreach (var beams in new[] { 1, 3 })
        {
            var reports = generator.Generate(features, bosId: 0, eosId: 9, new DecodingOptions(NumBeams: beams, MaxLength: 10));
            Assert.Equal(new[] { 1, 2, 3, 4 }, reports[0].Tokens);
            Assert.Equal(new[] { 5, 6 }, reports[1].Tokens);
            Assert.All(reports, r => Assert.True(r.EndedWithEos));
        }
    }

    [Fact]
    public void RejectsBadShapesAndConfigs()
    {
        Assert.Throws<ArgumentException>(() => new ReportGenerator(new Gpt2Config(16, 1, 2, 16, 10)));
        using var generator = new ReportGenerator(new Gpt2Config(16, 1, 2, 16, 10, AddCrossAttention: true), featureDim: 8);
        Assert.Equal(new long[] { 3, 1, 16 }, generator.Memory(torch.randn(3, 8)).shape);
        Assert.Throws<ArgumentException>(() => generator.Memory(torch.randn(3, 7)));
        Assert.Contains("decoder.transformer.h.0.crossattention.q_attn.weight", generator.named_parameters().Select(p => p.name));
        Assert.Contains("memory_proj.weight", generator.named_parameters().Select(p => p.name));
    }
}
