using Deri.Config;
using Deri.Losses;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

/// <summary>
/// Each module against its PyTorch reference (tools/parity/deri_torch.py): same state-dict keys, same
/// weights, same inputs → outputs and gradients within 1e-5 relative error (train mode, batch statistics).
/// </summary>
public class ParityTests
{
    private static void CheckModule(string fixture, nn.Module<Tensor, Tensor> module)
    {
        using var scope = NewDisposeScope();
        using var f = ParityFixture.Load(fixture);
        f.LoadInto(module);
        module.train();
        var y = module.forward(f["in.x"]);
        ParityFixture.AssertClose(f["out.y"], y, what: fixture + " output");
        // Same scalar as the reference: Σ y ⊙ linspace(−1, 1).
        var loss = (y * linspace(-1, 1, y.numel()).view(y.shape)).sum();
        ParityFixture.AssertClose(f["out.loss"], loss, what: fixture + " loss");
        loss.backward();
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var key in f.Keys("grad."))
            ParityFixture.AssertClose(f["grad." + key], parameters[key].grad!, what: $"{fixture} grad {key}");
    }

    [Fact]
    public void BasicBlockMatchesPyTorch() => CheckModule("basic_block", new BasicBlock1d("block", 4, 8, 2));

    [Fact]
    public void BottleneckMatchesPyTorch() => CheckModule("bottleneck", new Bottleneck1d("block", 8, 4, 2));

    [Fact]
    public void ResNet18MatchesPyTorch() => CheckModule("resnet18", new ResNet1d("ecg_encoder", [2, 2, 2, 2], false, leads: 3, width: 4));

    [Fact]
    public void VisionTransformerMatchesPyTorch() =>
        CheckModule("vit", new VisionTransformer1d("ecg_encoder", leads: 3, length: 60, patch: 10, width: 16, depth: 2, heads: 2));

    [Fact]
    public void AttentionPoolMatchesPyTorch() => CheckModule("attention_pool", new AttentionPool("pool", 5, 16, 4));

    [Fact]
    public void DecoderBlockMatchesPyTorch() => CheckModule("decoder_block", PreNormBlock.Decoder("block", 16, 24, 2, 8, 0));

    [Fact]
    public void DecoderMatchesPyTorch() =>
        CheckModule("decoder", new CrossModalDecoder("decoder", 6, 16, 16, 12, 24, 2, 2, 8, dropout: 0, dropPath: 0));

    [Fact]
    public void ClipLossMatchesPyTorch()
    {
        using var scope = NewDisposeScope();
        using var f = ParityFixture.Load("clip_loss");
        var x = f["in.x"].detach().requires_grad_(true);
        var loss = new ClipLoss(0.07).forward(x, f["in.y"]);
        ParityFixture.AssertClose(f["out.loss"], loss, what: "clip loss");
        loss.backward();
        ParityFixture.AssertClose(f["grad.x"], x.grad!, what: "clip loss grad");
    }

    [Fact]
    public void FullDeriForwardLossAndGradientsMatchPyTorch()
    {
        using var scope = NewDisposeScope();
        using var f = ParityFixture.Load("deri_tiny");
        var config = TinyConfigs.Parity();
        var model = ModelFactory.Create(config);
        f.LoadInto(model);

        // The reference computed the zero-shot embedding first, in eval mode (running statistics).
        model.eval();
        using (no_grad())
            ParityFixture.AssertClose(f["out.zero_shot"], model.ZeroShotEcgEmbedding(f["in.ecg"]), what: "zero-shot embedding");

        model.train();
        using var output = model.Forward(f["in.ecg"], f["in.pooled"], f["in.hidden"], f["in.perm"]);
        var outputs = new Dictionary<string, Tensor>
        {
            ["tokens"] = output.Tokens, ["aligned_ecg"] = output.AlignedEcg, ["aligned_text"] = output.AlignedText,
            ["mixed_ecg"] = output.MixedEcg!, ["mixed_text"] = output.MixedText!, ["global_ecg"] = output.GlobalEcg,
            ["view1"] = output.View1, ["view2"] = output.View2, ["decoded_ecg"] = output.DecodedEcg!, ["decoded_text"] = output.DecodedText!,
        };
        foreach (var (name, value) in outputs) ParityFixture.AssertClose(f["out." + name], value, what: name);

        using var loss = new DeriLoss(config.Loss);
        using var terms = loss.forward(output, f["in.pooled"]);
        using var total = loss.Total(terms);
        Assert.Equal([LossTermNames.Cma, LossTermNames.CmaMix, LossTermNames.Uma, LossTermNames.RecEcg, LossTermNames.RecText], terms.Terms.Select(t => t.Name));
        foreach (var (name, value) in terms.Terms) ParityFixture.AssertClose(f["out.loss." + name], value, what: "loss " + name);
        ParityFixture.AssertClose(f["out.loss.total"], total, what: "total loss");

        total.backward();
        // Gradients sum float32 products over the whole graph (softmax, normalisations, two decoders): the
        // worst observed relative error is 2e-5, so they get 1e-4; outputs and losses stay at 1e-5.
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var key in f.Keys("grad."))
            ParityFixture.AssertClose(f["grad." + key], parameters[key].grad!, 1e-4, what: "grad " + key);
    }
}
