using Deri.Downstream;
using Deri.Pretraining;
using Deri.Tests.Cli;
using Deri.Tests.Downstream;

namespace Deri.Tests.Baselines;

/// <summary>The <c>encoder</c> feature of a DERI run: the pooled backbone feature map, comparable with the baselines' representation.</summary>
[Collection("downstream-run")]
public sealed class EncoderFeatureTests(DownstreamRunFixture f)
{
    [Fact]
    public void ADeriRunGivesThePooledBackboneAsItsEncoderFeature()
    {
        using var run = PretrainedRun.Load(f.Run, "best", TorchSharp.torch.CPU);
        Assert.True(run.IsEcgText);
        Assert.Null(run.SslMethod);
        Assert.Equal(DownstreamFeature.Mixed, FeatureExtractor.DefaultFor(run));
        using var store = FeatureExtractor.OpenStore(f.Store);
        int[] rows = FeatureExtractor.Rows(store, "test")[..5];
        using var set = FeatureExtractor.Compute(run, store, rows, DownstreamFeature.Encoder, batchSize: 2);
        var model = run.Module.Model;
        Assert.Equal(new long[] { 5, model.Encoder.OutputChannels }, set.Features.shape);
        using var ecg = store.ReadTensor(rows);
        using (TorchSharp.torch.no_grad())
        {
            using var expected = model.Encoder.forward(ecg).mean([-1]);
            Assert.True(expected.allclose(set.Features, rtol: 1e-4, atol: 1e-5));
        }

        string csv = Path.Combine(f.NewDir("encoder"), "e.csv");
        string stdout = CliRunner.Ok("embed", "--run", f.Run, "--store", f.Store, "--split", "val", "--feature", "encoder", "--output", csv,
            "--threads", "1", "--device", "cpu");
        Assert.Contains($"× {model.Encoder.OutputChannels} encoder features", stdout);
    }
}
