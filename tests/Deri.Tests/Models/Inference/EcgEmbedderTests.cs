using Deri.Benchmarks;
using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Models.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Models.Inference;

public sealed class EcgEmbedderTests
{
    /// <summary>A tiny model whose batch norms have non-trivial statistics and affine parameters, so folding changes the weights.</summary>
    internal static DeriModel TinyModel(string ecgModel = "resnet18", string method = "deri", long seed = 11)
    {
        manual_seed(seed);
        var config = TinyConfigs.Parity() with { Network = TinyConfigs.Parity().Network with { EcgModel = ecgModel, Method = method, PatchSize = 25 } };
        var model = ModelFactory.Create(config);
        RandomiseBatchNorms(model);
        return model;
    }

    internal static void RandomiseBatchNorms(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (name, b) in model.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal)) b.copy_(randn(b.shape).mul_(0.3));
            if (name.EndsWith("running_var", StringComparison.Ordinal)) b.copy_(rand(b.shape).add_(0.5));
        }
        foreach (var (name, p) in model.named_parameters())
        {
            if (!name.Contains(".bn", StringComparison.Ordinal) && !name.StartsWith("ecg_encoder.bn", StringComparison.Ordinal)
                && !name.Contains("downsample.1", StringComparison.Ordinal)) continue;
            if (name.EndsWith("weight", StringComparison.Ordinal)) p.copy_(rand(p.shape).add_(0.5));
            else p.copy_(randn(p.shape).mul_(0.2));
        }
    }

    private static Tensor Reference(DeriModel model, Tensor ecg, EcgEmbeddingKind kind)
    {
        model.eval();
        using var _ = no_grad();
        return kind switch
        {
            EcgEmbeddingKind.ZeroShot => model.ZeroShotEcgEmbedding(ecg),
            EcgEmbeddingKind.Mixed => model.ProbeFeature(ecg, ProbeFeatureKind.Mixed),
            EcgEmbeddingKind.Aligned => model.ProbeFeature(ecg, ProbeFeatureKind.Aligned),
            EcgEmbeddingKind.Global => model.ProbeFeature(ecg, ProbeFeatureKind.Global),
            _ => model.Encoder.forward(ecg).mean([-1]),
        };
    }

    [Theory]
    [InlineData("resnet18", "deri")]
    [InlineData("resnet50", "deri")]
    [InlineData("resnet18", "merl")]
    [InlineData("vit_tiny", "deri")]
    public void FoldedEmbeddingsEqualTheEvalModeModel(string ecgModel, string method)
    {
        using var model = TinyModel(ecgModel, method);
        using var ecg = randn(5, model.Leads, model.InputLength);
        foreach (var kind in Enum.GetValues<EcgEmbeddingKind>())
        {
            if (kind == EcgEmbeddingKind.Mixed && method == "merl") continue;
            using var embedder = EcgEmbedder.Create(model, kind);
            Assert.Equal(ecgModel.StartsWith("resnet", StringComparison.Ordinal), embedder.IsFolded);
            using var expected = Reference(model, ecg, kind);
            using var actual = embedder.Forward(ecg);
            Assert.Equal(expected.shape, actual.shape);
            Assert.Equal(embedder.Dim, actual.shape[1]);
            double diff = (expected - actual).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"{ecgModel}/{method}/{kind}: max |folded − eval| = {diff}");
        }
    }

    [Fact]
    public void FoldingChangesTheWeightsAndMatchesWithoutChannelsLast()
    {
        using var model = TinyModel();
        var resnet = (ResNet1d)model.Encoder;
        resnet.ChannelsLast = false;
        using var ecg = randn(3, model.Leads, model.InputLength);
        using var folded = FoldedResNet1d.Fold(resnet);
        Assert.False(folded.ChannelsLast);
        Assert.Equal(8, folded.Blocks.Count);
        Assert.NotNull(folded.Blocks[2].Downsample);
        model.eval();
        using var _ = no_grad();
        using var expected = resnet.forward(ecg);
        using var actual = folded.Forward(ecg);
        Assert.True((expected - actual).abs().max().item<float>() <= 1e-4);
        // The stem's folded kernel is not the raw kernel: the randomised batch norm was folded in.
        var conv1 = model.named_parameters().Single(p => p.name == "ecg_encoder.conv1.weight").parameter;
        Assert.True((conv1 - folded.Stem.Weight).abs().max().item<float>() > 1e-3);
        // With the batch norm ignored (bias dropped) the output differs, so the comparison above can fail.
        using var noBias = nn.functional.conv1d(ecg, folded.Stem.Weight, null, stride: 2, padding: 3);
        using var withBias = folded.Stem.Forward(ecg);
        Assert.True((noBias - withBias).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void EmbedTakesRowMajorRecordsAndChecksTheirSize()
    {
        using var model = TinyModel();
        using var embedder = EcgEmbedder.Create(model, EcgEmbeddingKind.ZeroShot);
        using var ecg = randn(2, model.Leads, model.InputLength);
        var fromSpan = embedder.Embed(ecg.data<float>().ToArray(), 2);
        var fromTensor = embedder.Embed(ecg);
        Assert.Equal(2, fromSpan.Length);
        Assert.Equal(fromTensor[1], fromSpan[1]);
        Assert.Equal(1.0, Math.Sqrt(fromSpan[0].Sum(x => (double)x * x)), 4);
        Assert.Throws<ArgumentException>(() => embedder.Embed(new float[10], 2));
        using var wrong = randn(2, model.Leads, model.InputLength - 1);
        Assert.Throws<ArgumentException>(() => embedder.Forward(wrong));
    }

    [Fact]
    public void MerlHasNoMixedEmbedding()
    {
        using var model = TinyModel(method: "merl");
        Assert.Throws<ArgumentException>(() => EcgEmbedder.Create(model, EcgEmbeddingKind.Mixed));
    }

    [Fact]
    public void BenchmarkReportsEveryModeAndBatch()
    {
        using var model = TinyModel();
        var rows = EmbedBenchmark.Run(model, [1, 3], iterations: 1, warmup: 0, CPU);
        Assert.Equal(["train_forward", "eval_no_grad", "folded_inference"], rows.Take(3).Select(r => r.Mode));
        Assert.Equal([1, 1, 1, 3, 3, 3], rows.Select(r => r.Batch));
        Assert.All(rows, r => Assert.True(r.RecordsPerSecond > 0));
        Assert.False(model.training);
    }
}
