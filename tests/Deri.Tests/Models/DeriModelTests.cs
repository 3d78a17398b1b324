using TorchSharp;
using Deri.Config;
using Deri.Losses;
using Deri.Models;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

public class DeriModelTests
{
    private static (Tensor Ecg, Tensor Pooled, Tensor Hidden) Inputs(int b = 4)
    {
        manual_seed(3);
        return (randn(b, 3, 200), randn(b, 20), randn(b, 6, 20));
    }

    [Fact]
    public void RmePermutationIsInjectable()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = ModelFactory.Create(TinyConfigs.Parity());
        var (ecg, pooled, hidden) = Inputs();
        long n = model.Tokens;
        Assert.Equal(5, n);
        Assert.Equal(4, model.Keep);
        var identity = arange(n).unsqueeze(0).expand(4, n).contiguous();
        var reversed = identity.flip(1).contiguous();
        using var a = model.Forward(ecg, pooled, hidden, identity);
        using var b = model.Forward(ecg, pooled, hidden, identity);
        using var c = model.Forward(ecg, pooled, hidden, reversed);
        Assert.True(a.View1.equal(b.View1).all().item<bool>());
        Assert.False(a.View1.allclose(c.View1));
        // Reversal keeps tokens {4,3,2,1} for view 1, i.e. view 2's set of the identity, so only the order differs.
        Assert.True(a.Tokens.equal(c.Tokens).all().item<bool>());
        Assert.Throws<ArgumentException>(() => model.Forward(ecg, pooled, hidden, identity.narrow(1, 0, 3)));
    }

    [Fact]
    public void ProbeFeaturesAreTheDocumentedCombinations()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = ModelFactory.Create(TinyConfigs.Parity());
        model.eval();
        var (ecg, _, _) = Inputs();
        using var _ = no_grad();
        var mixed = model.ProbeFeature(ecg, ProbeFeatureKind.Mixed);
        var aligned = model.ProbeFeature(ecg, ProbeFeatureKind.Aligned);
        var global = model.ProbeFeature(ecg, ProbeFeatureKind.Global);
        Assert.Equal([4L, 16], mixed.shape);
        Assert.Equal([4L, 16], global.shape);
        // The zero-shot embedding is the normalised mixed feature.
        Assert.True(model.ZeroShotEcgEmbedding(ecg).allclose(nn.functional.normalize(mixed, dim: -1), 1e-5, 1e-6));
        Assert.False(mixed.allclose(aligned));
        var norms = model.TextClassEmbedding(randn(7, 20)).norm(1);
        Assert.True(norms.allclose(ones(7), 1e-5, 1e-5));
        Assert.Throws<ArgumentException>(() => model.ProbeFeature(randn(4, 3, 199), ProbeFeatureKind.Aligned));
        Assert.Throws<ArgumentException>(() => model.TextClassEmbedding(randn(7, 21)));
    }

    [Fact]
    public void MerlIsTheSameCodeWithoutDecoders()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = ModelFactory.Create(TinyConfigs.Training("merl"));
        Assert.Equal(PretrainingMethod.Merl, model.Method);
        var keys = model.state_dict().Keys.ToList();
        Assert.Contains("linear1.weight", keys);
        Assert.Contains("att_pool_head.mha.in_proj_weight", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("text_decoder") || k.StartsWith("rme_pool"));
        var (ecg, pooled, _) = Inputs();
        model.train();
        using var output = model.Forward(ecg, pooled, null);
        Assert.Null(output.MixedEcg);
        Assert.Null(output.DecodedText);
        // Dropout makes the two views of the same feature differ in training.
        Assert.False(output.View1.allclose(output.View2));
        using var loss = new DeriLoss(TinyConfigs.Training("merl").Loss);
        using var terms = loss.forward(output, pooled);
        Assert.Equal([LossTermNames.Cma, LossTermNames.Uma], terms.Terms.Select(t => t.Name));
        // float32 sum of two terms near 16: compare within a few ulps, not to 5 rounded decimals.
        Assert.Equal(terms[LossTermNames.Cma].ToDouble() + terms[LossTermNames.Uma].ToDouble(), loss.Total(terms).ToDouble(), 1e-5);
        model.eval();
        using var _ = no_grad();
        Assert.Throws<InputValueException>(() => model.ProbeFeature(ecg, ProbeFeatureKind.Mixed));
        var z = model.ZeroShotEcgEmbedding(ecg);
        Assert.True(z.allclose(nn.functional.normalize(model.ProbeFeature(ecg, ProbeFeatureKind.Aligned), dim: -1), 1e-5, 1e-6));
    }

    [Fact]
    public void WrongInputShapesAreRejectedWithTheExpectedShape()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFactory.Create(TinyConfigs.Parity());
        var (ecg, pooled, hidden) = Inputs();
        var e = Assert.Throws<ArgumentException>(() => model.Forward(randn(4, 12, 200), pooled, hidden));
        Assert.Contains("(B, 3, 200)", e.Message);
        Assert.Throws<ArgumentException>(() => model.Forward(ecg, randn(3, 20), hidden));
        Assert.Contains("(4, 6, 20)", Assert.Throws<ArgumentException>(() => model.Forward(ecg, pooled, randn(4, 7, 20))).Message);
        Assert.Throws<ArgumentNullException>(() => model.Forward(ecg, pooled, null));
    }
}
