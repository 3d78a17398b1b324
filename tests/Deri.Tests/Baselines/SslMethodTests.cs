using Deri.Baselines;
using Deri.Config;
using Deri.Models;
using static TorchSharp.torch;

namespace Deri.Tests.Baselines;

/// <summary>The baselines' shared pieces (momentum targets, heads, loss weights, method names) and the tiny config every method test uses.</summary>
[Collection("torch-global-generator")]
public class SslMethodTests
{
    /// <summary>A tiny run config: ResNet18 of width 4 on 3 leads × 256 samples, narrow heads.</summary>
    internal static DeriConfig Tiny(string method) => DeriConfig.Parse($"""
        network:
          method: {method}
          ecg_model: resnet18
          ecg_base_width: 4
          num_leads: 3
        dataset:
          seq_length: 256
          sampling_rate: 100
        ssl:
          simclr: {"{"}hidden_dim: 32, output_dim: 16{"}"}
          byol: {"{"}hidden_dim: 32, output_dim: 16, predictor_hidden_dim: 32, momentum: 0.9{"}"}
          barlowtwins: {"{"}hidden_dim: 32, output_dim: 32{"}"}
          mocov3: {"{"}hidden_dim: 32, output_dim: 16, predictor_hidden_dim: 32, momentum: 0.9{"}"}
          simsiam: {"{"}hidden_dim: 32, output_dim: 32, predictor_hidden_dim: 8{"}"}
          tstcc: {"{"}timesteps: 4, tc_hidden_dim: 16, tc_depth: 1, tc_heads: 2, tc_mlp_dim: 16, tc_dropout: 0.0{"}"}
          clocs: {"{"}lead_groups: [[0], [1, 2]], embedding_dim: 16{"}"}
          astcl: {"{"}lead_groups: [[0], [1, 2]]{"}"}
          crt: {"{"}patch_size: 16, width: 32, heads: 2, head_dim: 16, decoder_width: 32, decoder_heads: 2{"}"}
          stmem: {"{"}patch_size: 16, width: 32, heads: 2, head_dim: 16, decoder_width: 16, decoder_heads: 2{"}"}
        """, "tiny.yaml");

    /// <summary>Smooth random 3-lead records: sums of a few sinusoids with random frequencies and phases, (B, 3, 256).</summary>
    internal static Tensor Signals(int n, int seed)
    {
        var g = new Random(seed);
        var data = new float[n * 3 * 256];
        for (int i = 0; i < n; i++)
        {
            double f1 = 1 + 4 * g.NextDouble(), f2 = 5 + 10 * g.NextDouble(), p1 = 6.28 * g.NextDouble(), p2 = 6.28 * g.NextDouble();
            for (int l = 0; l < 3; l++)
                for (int t = 0; t < 256; t++)
                    data[(i * 3 + l) * 256 + t] = (float)(0.5 + 0.3 * Math.Sin(f1 * t / 100.0 * 6.28 + p1 + l) + 0.1 * Math.Sin(f2 * t / 100.0 * 6.28 + p2));
        }
        return tensor(data, [n, 3, 256]);
    }

    [Theory]
    [InlineData("byol")]
    [InlineData("mocov3")]
    public void TheTargetNetworkStartsAsACopyAndFollowsTheOnlineWeightsByEma(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var method = SslMethodRegistry.Create(Tiny(name), totalSteps: 0);
        string target = name == "byol" ? "target_" : "momentum_";
        var p = method.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        const string key = "encoder.conv1.weight";
        Assert.Equal(p[key].data<float>().ToArray(), p[target + key].data<float>().ToArray());
        var before = p[target + key].clone();
        using (no_grad()) p[key].add_(1.0);
        method.BeforeTrainStep();
        // m = 0.9 (constant without a known run length): target = 0.9·target + 0.1·online = target + 0.1.
        var expected = before + 0.1;
        Assert.True(p[target + key].allclose(expected, rtol: 0, atol: 1e-6));
        Assert.Equal(1L, method.get_buffer("ema_step")!.item<long>());
    }

    [Fact]
    public void HeadsAreLaidOutAsTheReferenceCodeBuildsThem()
    {
        using var head = SslHeads.Mlp([8, 6, 4], lastBatchNorm: false);      // MoCo v3's projector
        var keys = head.state_dict().Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(["0.weight", "1.bias", "1.running_mean", "1.running_var", "1.weight", "3.weight", "4.running_mean", "4.running_var"], keys);
        using var plain = SslHeads.Mlp([8, 6, 4]);                             // predictors: the last layer keeps its bias
        Assert.Equal(["0.weight", "1.weight", "1.bias", "3.weight", "3.bias"], plain.named_parameters().Select(p => p.name).ToList());
    }

    [Fact]
    public void LossWeightsComeFromTheMethodUnlessTheConfigNamesItsTerms()
    {
        var defaults = new Dictionary<string, double> { ["a"] = 1, ["b"] = 0 };
        // DERI's default entries are ignored.
        Assert.Equal(defaults, SslLossWeights.Resolve("m", defaults, new TrainerConfig().LossWeights));
        var given = new Dictionary<string, double>(new TrainerConfig().LossWeights) { ["b"] = 0.5 };
        Assert.Equal(new Dictionary<string, double> { ["a"] = 1, ["b"] = 0.5 }, SslLossWeights.Resolve("m", defaults, given));
        var typo = Assert.Throws<ConfigException>(() => SslLossWeights.Resolve("m", defaults, new Dictionary<string, double> { ["c"] = 1 }));
        Assert.Contains("m has no loss term c (its terms: a, b)", typo.Message);
        Assert.Throws<ConfigException>(() => SslLossWeights.Resolve("m", defaults, new Dictionary<string, double> { ["a"] = 0 }));
    }

    [Fact]
    public void TheMethodNamesAreConfigValuesAndOthersAreRejected()
    {
        foreach (var name in MethodNames.Ssl)
            Assert.Equal(name, DeriConfig.Parse("", "x", [$"network.method={name}"]).Network.Method);
        var e = Assert.Throws<ConfigException>(() => DeriConfig.Parse("", "x", ["network.method=simclrr"]));
        Assert.Contains("simclr, byol, barlowtwins, mocov3, simsiam", e.Message);
        Assert.Equal(0.3, DeriConfig.Parse("", "x", ["ssl.mocov3.temperature=0.3"]).Ssl.MocoV3.Temperature);
        Assert.Throws<ConfigException>(() => SslMethodRegistry.Create(DeriConfig.Parse("", "x")));
    }
}
