using Deri.Config;
using Deri.Generation;
using Deri.Generation.Decoder;
using Deri.Models;
using Deri.Tests.Models;
using static TorchSharp.torch;

namespace Deri.Tests.Generation;

public sealed class ReportModelTests
{
    private static readonly Gpt2Config Small = new(NEmbd: 16, NLayer: 1, NHead: 2, NPositions: 12, VocabSize: 11, AddCrossAttention: true,
        EmbdPdrop: 0, AttnPdrop: 0, ResidPdrop: 0);

    private static (Tensor Ecg, Tensor Ids, Tensor Mask) Inputs()
    {
        var ecg = randn(4, 3, 200);
        var ids = tensor(new long[] { 1, 5, 6, 2, 0, 1, 7, 2, 0, 0, 1, 8, 9, 10, 2, 1, 4, 2, 0, 0 }).view(4, 5);
        var mask = ids.ne(0).to(ScalarType.Int64);
        return (ecg, ids, mask);
    }

    [Fact]
    public void ForwardGivesLogitsPerTokenAndAScalarLoss()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = new ReportModel(ModelFactory.Create(TinyConfigs.Parity()), ProbeFeatureKind.Mixed, Small, freezeEcg: false);
        var (ecg, ids, mask) = Inputs();
        Assert.Equal([4L, 5, 11], model.forward(ecg, ids, mask).shape);
        var loss = model.Loss(ecg, ids, mask);
        Assert.Empty(loss.shape);
        Assert.True(loss.item<float>() > 0);
        // The memory token carries the ECG: other ECGs give other logits.
        Assert.False(model.forward(ecg, ids, mask).allclose(model.forward(randn(4, 3, 200), ids, mask)));
        Assert.Equal(16, model.EcgModel.Width); // projection_size of the tiny config
    }

    [Fact]
    public void TheWholeModelTrainsUnlessTheEcgSideIsFrozen()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var (ecg, ids, mask) = Inputs();
        using var open = new ReportModel(ModelFactory.Create(TinyConfigs.Parity()), ProbeFeatureKind.Aligned, Small, freezeEcg: false);
        open.train();
        open.Loss(ecg, ids, mask).backward();
        Assert.Contains(open.EcgModel.Encoder.parameters(), p => p.grad is not null && p.grad.abs().sum().item<float>() > 0);

        using var frozen = new ReportModel(ModelFactory.Create(TinyConfigs.Parity()), ProbeFeatureKind.Aligned, Small, freezeEcg: true);
        var before = frozen.EcgModel.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        frozen.train();
        Assert.All(frozen.EcgModel.parameters(), p => Assert.False(p.requires_grad));
        var trainable = frozen.parameters().Where(p => p.requires_grad).ToList();
        Assert.Equal(frozen.Generator.parameters().Count(), trainable.Count);
        using var opt = optim.AdamW(trainable, 1e-2);
        frozen.Loss(ecg, ids, mask).backward();
        opt.step();
        // Weights and BatchNorm running statistics of the ECG side are untouched by a training step.
        foreach (var (key, value) in frozen.EcgModel.state_dict())
            Assert.True(value.equal(before[key]).all().item<bool>(), $"{key} changed");
        Assert.False(frozen.EcgModel.training);
    }

    [Fact]
    public void MixedFeaturesNeedDeriAndAutoPicksByMethod()
    {
        using var merl = ModelFactory.Create(TinyConfigs.Training("merl"));
        Assert.Throws<InputValueException>(() => new ReportModel(merl, ProbeFeatureKind.Mixed, Small, false));
        Assert.Equal(ProbeFeatureKind.Aligned, ReportModel.ResolveFeature("auto", PretrainingMethod.Merl));
        Assert.Equal(ProbeFeatureKind.Mixed, ReportModel.ResolveFeature("auto", PretrainingMethod.Deri));
        Assert.Equal(ProbeFeatureKind.Aligned, ReportModel.ResolveFeature("aligned", PretrainingMethod.Deri));
    }

    [Fact]
    public void TargetsAreBosReportEosPaddedAndTruncatedKeepingEos()
    {
        var tok = Deri.Generation.Tokenization.WordLevelTokenizer.Build(["a b c d e f"]);
        var (ids, mask) = ReportTargets.Encode(tok, ["a b c d e f", "b"], maxLength: 5);
        Assert.Equal([2L, 5], ids.shape);
        long[] row0 = ids[0].data<long>().ToArray(), row1 = ids[1].data<long>().ToArray();
        Assert.Equal([1L, tok.Encode("a")[0], tok.Encode("b")[0], tok.Encode("c")[0], 2], row0);
        Assert.Equal([1L, tok.Encode("b")[0], 2, 0, 0], row1);
        Assert.Equal([1L, 1, 1, 0, 0], mask[1].data<long>().ToArray());
    }

    [Fact]
    public void ConfigRejectsUnknownKeysAndBadValuesWithTheirNames()
    {
        var c = ReportConfig.Load(null);
        Assert.Equal(257, c.MaxLength);
        Assert.Equal(1e-3, c.Optimizer.Params.Lr);
        Assert.Equal(3, c.Decoding.NumBeams);
        Assert.Equal(1.0, c.Trainer.LossWeights[ReportTrainingTask.LossName]);
        Assert.Contains("unknown key 'decoding.beams'", Assert.Throws<ConfigException>(() => ReportConfig.Load(null, ["decoding.beams=2"])).Message);
        var e = Assert.Throws<ConfigException>(() => ReportConfig.Load(null, ["feature=global", "small_decoder.n_head=3", "decoding.max_new_tokens=300"]));
        Assert.Contains("feature = global", e.Message);
        Assert.Contains("small_decoder.n_embd", e.Message);
        Assert.Contains("max_length", e.Message);
        Assert.True(ReportConfig.Load(null, ["freeze_ecg=true"]).FreezeEcg);
    }
}
