using Deri.Models.Encoders;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

public sealed class PointwiseTests
{
    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(2, false)]
    public void MatchesConv1dWithItsGradientsInBothLayouts(long stride, bool bias)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var conv = nn.Conv1d(6, 5, 1, stride: stride, bias: bias);
        var x = randn(3, 6, 17);
        var grad = randn(3, 5, (17 - 1) / stride + 1);

        var xRef = x.detach().requires_grad_(true);
        var expected = conv.forward(xRef);
        autograd.backward([expected], [grad]);
        var expectedWeightGrad = conv.weight!.grad!.clone();
        var expectedInputGrad = xRef.grad!.clone();

        foreach (bool channelsLast in new[] { false, true })
        {
            conv.weight!.grad = null;
            if (bias) conv.bias!.grad = null;
            var xIn = (channelsLast ? x.unsqueeze(2).permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : x.clone()).requires_grad_(true);
            var y = Pointwise.Conv(conv, xIn);
            var y3 = channelsLast ? y.squeeze(2) : y;
            Assert.Equal(expected.shape, y3.shape);
            autograd.backward([y3], [grad]);
            Assert.True(y3.allclose(expected, rtol: 1e-5, atol: 1e-6), $"forward, channels-last {channelsLast}");
            Assert.True(conv.weight.grad!.allclose(expectedWeightGrad, rtol: 1e-5, atol: 1e-5), $"weight grad, channels-last {channelsLast}");
            var inputGrad = channelsLast ? xIn.grad!.squeeze(2) : xIn.grad!;
            Assert.True(inputGrad.allclose(expectedInputGrad, rtol: 1e-5, atol: 1e-6), $"input grad, channels-last {channelsLast}");
        }
    }

    [Fact]
    public void RefusesAConvolutionThatIsNotPointwise()
    {
        using var conv = nn.Conv1d(4, 4, 3, padding: 1);
        using var x = randn(1, 4, 8);
        Assert.Throws<ArgumentException>(() => Pointwise.Conv(conv, x));
    }
}
