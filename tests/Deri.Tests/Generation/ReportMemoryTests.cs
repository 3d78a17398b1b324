using Deri.Config;
using Deri.Generation;
using Deri.Generation.Decoder;
using Deri.Models;
using Deri.Tests.Models;
using static TorchSharp.torch;

namespace Deri.Tests.Generation;

/// <summary>The settings beyond METHOD: token memory, label smoothing, memory dropout and classifier-free guidance.</summary>
public sealed class ReportMemoryTests
{
    private static readonly Gpt2Config Small = new(NEmbd: 16, NLayer: 1, NHead: 2, NPositions: 12, VocabSize: 11, AddCrossAttention: true,
        EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0);

    [Fact]
    public void TokenMemoryHoldsTheEcgTokensAndTheFeature()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = new ReportModel(ModelFactory.Create(TinyConfigs.Parity()), ProbeFeatureKind.Mixed, Small, freezeEcg: false,
            ReportMemory.Tokens);
        model.eval();
        var ecg = randn(2, 3, 200);
        var features = model.Features(ecg);
        long n = model.EcgModel.Tokens;
        Assert.Equal([2L, n + 1, model.EcgModel.Width], features.shape);
        // The last memory token is the configured feature, as the one-token memory has it.
        Assert.True(features.select(1, n).allclose(model.EcgModel.ProbeFeature(ecg, ProbeFeatureKind.Mixed), 1e-5, 1e-6));
        Assert.Equal([2L, n + 1, 16], model.Generator.Memory(features).shape);
    }

    [Fact]
    public void LabelSmoothingRaisesTheLossOfAConfidentModelAndMemoryDropoutOnlyActsInTraining()
    {
        using var scope = NewDisposeScope();
        var logits = full(1, 3, 11, -10.0);
        logits[0, 0, 5] = tensor(10.0);
        logits[0, 1, 2] = tensor(10.0);
        var ids = tensor(new long[] { 1, 5, 2 }).view(1, 3);
        var mask = ones(1, 3, dtype: ScalarType.Int64);
        double plain = Gpt2Model.LanguageModelLoss(logits, ids, mask).item<float>();
        double smoothed = Gpt2Model.LanguageModelLoss(logits, ids, mask, 0.1).item<float>();
        Assert.True(plain < 1e-3 && smoothed > 1, $"plain {plain}, smoothed {smoothed}");
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpt2Model.LanguageModelLoss(logits, ids, mask, 1.0));

        manual_seed(2);
        using var model = new ReportModel(ModelFactory.Create(TinyConfigs.Parity()), ProbeFeatureKind.Aligned, Small, freezeEcg: false,
            memoryDropout: 0.5);
        var ecg = randn(4, 3, 200);
        var rows = tensor(new long[] { 1, 5, 6, 2, 1, 7, 2, 0, 1, 8, 9, 2, 1, 4, 2, 0 }).view(4, 4);
        var rowMask = rows.ne(0).to(ScalarType.Int64);
        model.eval();
        Assert.Equal(model.Loss(ecg, rows, rowMask).item<float>(), model.Loss(ecg, rows, rowMask).item<float>());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReportModel(ModelFactory.Create(TinyConfigs.Parity()), ProbeFeatureKind.Aligned,
            Small, false, memoryDropout: 1.0));
    }

    [Fact]
    public void GuidanceMovesDecodingAwayFromThePriorAndZeroGuidanceIsPlainDecoding()
    {
        // Memory A → report [1 2], B → [3 4]; the zero memory ("no ECG") → [1 2] as well, so A's report is also the prior.
        manual_seed(4);
        using var generator = new ReportGenerator(new Gpt2Config(32, 2, 2, 16, 10, AddCrossAttention: true, EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0), featureDim: 8);
        var a = randn(1, 8);
        var features = cat([a, randn(1, 8), zeros(1, 8)], 0);
        var ids = tensor(new long[,] { { 0, 1, 2, 9 }, { 0, 3, 4, 9 }, { 0, 1, 2, 9 } });
        var mask = ones(3, 4, dtype: ScalarType.Int64);
        var opt = optim.AdamW(generator.parameters(), lr: 1e-2);
        for (var step = 0; step < 60; step++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            generator.Loss(ids, mask, features).backward();
            opt.step();
        }
        generator.eval();
        var two = features.narrow(0, 0, 2);
        var plain = generator.Generate(two, 0, 9, new DecodingOptions(NumBeams: 1, MaxLength: 6));
        var zero = generator.Generate(two, 0, 9, new DecodingOptions(NumBeams: 1, MaxLength: 6, GuidanceScale: 0));
        Assert.Equal(plain.Select(r => r.Tokens), zero.Select(r => r.Tokens));
        Assert.Equal(new[] { 1, 2 }, plain[0].Tokens);
        Assert.Equal(new[] { 3, 4 }, plain[1].Tokens);
        // Guided: B keeps its report (it differs from the prior); the scores change because the prior is subtracted.
        foreach (var beams in new[] { 1, 2 })
        {
            var guided = generator.Generate(two, 0, 9, new DecodingOptions(NumBeams: beams, MaxLength: 6, GuidanceScale: 1.5));
            Assert.Equal(new[] { 3, 4 }, guided[1].Tokens);
            Assert.NotEqual(plain[1].Score, guided[1].Score);
        }
        Assert.Throws<ArgumentException>(() => new ReportDecoder(generator.Decoder, 0, 9)
            .Generate(generator.Memory(two), new DecodingOptions(NumBeams: 1, MaxLength: 6, GuidanceScale: 1)));
    }

    [Fact]
    public void ConfigValidatesTheNewKeys()
    {
        var e = Assert.Throws<ConfigException>(() => ReportConfig.Load(null, ["memory=pooled", "label_smoothing=1", "memory_dropout=-0.1"]));
        Assert.Contains("memory", e.Message);
        Assert.Contains("label_smoothing", e.Message);
        Assert.Contains("memory_dropout", e.Message);
        var g = Assert.Throws<ConfigException>(() => ReportConfig.Load(null, ["decoding.guidance_scale=2"]));
        Assert.Contains("needs memory_dropout", g.Message);
        var ok = ReportConfig.Load(null, ["memory=tokens", "memory_dropout=0.2", "decoding.guidance_scale=2"]);
        Assert.Equal(ReportMemory.Tokens, ok.MemoryKind());
        Assert.Equal(ReportMemory.Feature, ReportConfig.Load(null).MemoryKind());
        Assert.Equal(2.0, ok.Decoding.ToOptions().GuidanceScale);
        var init = Assert.Throws<ConfigException>(() => ReportConfig.Load(null, ["trainer.init_from=runs/x"]));
        Assert.Contains("trainer.init_from", init.Message);
        Assert.Contains("pretrained_run", init.Message);
    }
}
