using TorchSharp;
using Deri.Config;
using Deri.Losses;
using Deri.Models;
using Deri.Tests.Models;
using static TorchSharp.torch;

namespace Deri.Tests.Losses;

public class DeriLossTests
{
    [Fact]
    public void ClipLossOfOrthogonalPairsMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        // Rows already unit and orthogonal: logits = I/0.07, so each CE row = log(1 + e^{−1/0.07}).
        var x = tensor(new float[] { 3, 0, 0, 2 }).reshape(2, 2);
        var y = tensor(new float[] { 1, 0, 0, 5 }).reshape(2, 2);
        double expected = 2 * Math.Log(1 + Math.Exp(-1 / 0.07));
        Assert.Equal(expected, new ClipLoss().forward(x, y).ToDouble(), 6);
        // Swapped pairs: the diagonal is the wrong answer, CE = log(1 + e^{1/0.07}) ≈ 1/0.07.
        double swapped = 2 * Math.Log(1 + Math.Exp(1 / 0.07));
        Assert.Equal(swapped, new ClipLoss().forward(x, y.flip(0)).ToDouble(), 4);
        Assert.Throws<ArgumentException>(() => new ClipLoss().forward(x, randn(3, 2)));
    }

    [Fact]
    public void ReleaseTotalLeavesRecTextOutButLogsIt()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var config = TinyConfigs.Training();
        using var model = ModelFactory.Create(config);
        var pooled = randn(4, 20);
        using var output = model.Forward(randn(4, 3, 200), pooled, randn(4, 6, 20));
        using var loss = new DeriLoss(config.Loss);
        using var terms = loss.forward(output, pooled);
        using var total = loss.Total(terms);
        var v = terms.Values();
        Assert.Equal(v["cma"] + v["cma_mix"] + v["uma"] + v["rec_ecg"], total.ToDouble(), 4);
        Assert.True(v["rec_text"] > 0);
        Assert.False(terms[LossTermNames.RecText].requires_grad);
        Assert.True(total.requires_grad);
    }

    [Fact]
    public void WeightsScaleTheirTerms()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var config = TinyConfigs.Training();
        using var model = ModelFactory.Create(config);
        model.eval(); // deterministic outputs: no dropout
        var pooled = randn(4, 20);
        using var output = model.Forward(randn(4, 3, 200), pooled, randn(4, 6, 20), arange(5).repeat(4, 1));
        var weights = new LossConfig { Cma = 2, CmaMix = 0, Uma = 0.5, RecEcg = 1, RecText = 3 };
        using var loss = new DeriLoss(weights);
        using var terms = loss.forward(output, pooled);
        var v = terms.Values();
        Assert.Equal(2 * v["cma"] + 0.5 * v["uma"] + v["rec_ecg"] + 3 * v["rec_text"], loss.Total(terms).ToDouble(), 4);
        Assert.True(terms[LossTermNames.RecText].requires_grad);
        Assert.Throws<KeyNotFoundException>(() => terms["nope"]);
    }
}
