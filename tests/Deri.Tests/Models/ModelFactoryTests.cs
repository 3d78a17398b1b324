using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

public class ModelFactoryTests
{
    [Fact]
    public void TheFactoryBuildsExactlyTheEncodersAndEcgTextMethodsTheConfigAccepts()
    {
        foreach (var name in EncoderNames.All)
        {
            using var encoder = ModelFactory.CreateEncoder(new NetworkConfig { EcgModel = name, EcgBaseWidth = 4, NumLeads = 2 }, 100);
            Assert.True(encoder.OutputChannels > 0, name);
        }
        var unknown = Assert.Throws<ConfigException>(() => ModelFactory.CreateEncoder(new NetworkConfig { EcgModel = "vit_huge" }, 100));
        Assert.Contains(string.Join(", ", EncoderNames.All), unknown.Message);

        var tiny = new ModelConfig { Network = new NetworkConfig { EcgBaseWidth = 4, NumLeads = 2 }, Dataset = new ModelDatasetConfig { SeqLength = 200 } };
        foreach (var name in MethodNames.EcgText)
        {
            using var model = ModelFactory.Create(tiny with { Network = tiny.Network with { Method = name } });
            Assert.Equal(name, model.Method.ToString().ToLowerInvariant());
        }
        foreach (var name in MethodNames.Ssl)
            Assert.Contains("ECG-only", Assert.Throws<ConfigException>(() => ModelFactory.Create(tiny with { Network = tiny.Network with { Method = name } })).Message);
    }

    [Fact]
    public void ReleaseDefaultsGiveTheShapesOfTheMethod()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFactory.Create(new ModelConfig());
        model.eval();
        Assert.Equal(105, model.Tokens);
        Assert.Equal(94, model.Keep);
        Assert.Equal(256, model.Width);
        using var _ = no_grad();
        var ecg = randn(1, 12, 5000);
        Assert.Equal([1L, 512, 313], model.Encoder.forward(ecg).shape);
        Assert.Equal([1L, 256], model.ZeroShotEcgEmbedding(ecg).shape);
        var state = model.state_dict();
        // Positional tables: (1, n+2, d) for the main pooling, (1, keep+2, d) per RME view, (1, n+2, d) per decoder.
        Assert.Equal([1L, 107, 256], state["att_pool_head.positional_embedding"].shape);
        Assert.Equal([1L, 96, 256], state["rme_pool1.positional_embedding"].shape);
        Assert.Equal([1L, 258, 256], state["ecg_decoder.pos_embedding"].shape);
        Assert.Equal([1L, 108, 256], state["text_decoder.pos_embedding"].shape);
        Assert.Equal([768L, 256], state["att_pool_head.mha.in_proj_weight"].shape);
        Assert.Equal([1536L, 256], state["text_decoder.blocks.1.attn.qkv.weight"].shape);
        Assert.Equal([768L, 256], state["text_decoder.output_mlp.fc2.weight"].shape);
        Assert.Equal([256L, 512, 1], state["downconv.weight"].shape);
        Assert.Contains("ecg_encoder.layer4.1.bn2.running_var", state.Keys);
        Assert.Contains("proj_t.2.bias", state.Keys);
        // deri_reference.py has 9,024,128: the same tree plus its own separator for D_t's input, where the
        // release (and this model) reuse D_e's.
        Assert.Equal(9_024_128 - 256, model.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("resnet18", 32)]
    [InlineData("resnet34", 32)]
    [InlineData("resnet50", 128)]
    [InlineData("resnet101", 128)]
    public void ResNetsEndAtEightTimesTheWidthTimesTheExpansion(string name, long channels)
    {
        using var scope = NewDisposeScope();
        using var encoder = ModelFactory.CreateEncoder(new NetworkConfig { EcgModel = name, NumLeads = 2, EcgBaseWidth = 4 }, 100);
        Assert.Equal(channels, encoder.OutputChannels);
        Assert.Equal(7, encoder.OutputLength(100));
        using var _ = no_grad();
        Assert.Equal([2L, channels, 7], encoder.forward(randn(2, 2, 100)).shape);
    }

    [Theory]
    [InlineData("vit_tiny", 192)]
    [InlineData("vit_small", 384)]
    public void VitTokenCountFollowsTheInputLength(string name, long width)
    {
        using var scope = NewDisposeScope();
        using var encoder = ModelFactory.CreateEncoder(new NetworkConfig { EcgModel = name, NumLeads = 12, PatchSize = 50 }, 500);
        Assert.IsType<VisionTransformer1d>(encoder);
        Assert.Equal(width, encoder.OutputChannels);
        using var _ = no_grad();
        Assert.Equal([2L, width, 10], encoder.forward(randn(2, 12, 500)).shape);
        Assert.Throws<ArgumentException>(() => encoder.forward(randn(2, 12, 1000)));
    }

    [Fact]
    public void VitModelUsesStrideOneDownProjection()
    {
        var config = TinyConfigs.Parity() with
        {
            Network = TinyConfigs.Parity().Network with { EcgModel = "vit_tiny", PatchSize = 20 },
        };
        using var model = ModelFactory.Create(config);
        Assert.Equal(10, model.Tokens); // 200 samples / 20 per patch, no down-sampling
    }

    [Fact]
    public void UnknownArchitectureIsRejectedByName()
    {
        var config = new ModelConfig { Network = new NetworkConfig { EcgModel = "resnet19" } };
        var e = Assert.Throws<ArgumentException>(() => ModelFactory.Create(config));
        Assert.Contains("network.ecg_model", e.Message);
        Assert.Contains("resnet19", e.Message);
    }

    [Fact]
    public void InvalidValuesNameTheirKey()
    {
        var heads = new ModelConfig { Network = new NetworkConfig { PoolHeads = 3 } };
        Assert.Contains("network.pool_heads", Assert.Throws<ArgumentException>(() => heads.Validate()).Message);
        var ratio = new ModelConfig { Network = new NetworkConfig { MaskRatio = 1.5 } };
        Assert.Contains("network.mask_ratio", Assert.Throws<ArgumentException>(() => ratio.Validate()).Message);
        var weight = new ModelConfig { Loss = new LossConfig { Uma = double.NaN } };
        Assert.Contains("loss.uma", Assert.Throws<ArgumentException>(() => weight.Validate()).Message);
        var tooShort = new ModelConfig { Dataset = new ModelDatasetConfig { SeqLength = 20 } };
        Assert.Contains("dataset.seq_length", Assert.Throws<ConfigException>(() => ModelFactory.Create(tooShort)).Message);
    }
}
