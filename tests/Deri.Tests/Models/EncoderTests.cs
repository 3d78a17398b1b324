using Deri.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

public class EncoderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ChannelsLastConvolutionsGiveTheSameResultAndGradients(bool bottleneck)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var encoder = new ResNet1d("ecg_encoder", [1, 1, 2, 1], bottleneck, leads: 3, width: 4);
        encoder.train();
        var x = randn(3, 3, 90);
        var results = new List<(Tensor Y, Tensor Grad)>();
        foreach (var channelsLast in new[] { false, true })
        {
            encoder.ChannelsLast = channelsLast;
            encoder.zero_grad();
            var y = encoder.forward(x);
            (y * linspace(-1, 1, y.numel()).view(y.shape)).sum().backward();
            var conv = encoder.named_parameters().First(p => p.name == "layer3.1.conv2.weight").parameter;
            results.Add((y.detach().contiguous(), conv.grad!.clone()));
        }
        Assert.Equal([3L, bottleneck ? 128 : 32, 6], results[1].Y.shape);
        ParityFixture.AssertClose(results[0].Y, results[1].Y, 1e-5, "output");
        ParityFixture.AssertClose(results[0].Grad, results[1].Grad, 1e-5, "gradient");
        // Both paths update the batch-norm buffers like PyTorch's train-mode forward.
        Assert.Equal(2L, encoder.state_dict()["bn1.num_batches_tracked"].item<long>());
    }
}
