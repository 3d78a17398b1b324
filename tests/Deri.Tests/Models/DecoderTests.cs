using Deri.Models.Layers;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

public class DecoderTests
{
    [Fact]
    public void ForwardMeanEqualsTheMeanOfTheOutputTokens()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        using var decoder = new CrossModalDecoder("d", 7, 12, 16, 10, 24, 2, 2, 8, dropout: 0.2, dropPath: 0.1);
        decoder.eval();
        var x = randn(3, 7, 12);
        ParityFixture.AssertClose(decoder.forward(x).mean([1]), decoder.ForwardMean(x), 1e-6, "mean of tokens");
        Assert.Equal([3L, 7, 10], decoder.forward(x).shape);
        Assert.Throws<ArgumentException>(() => decoder.ForwardMean(randn(3, 8, 12)));
    }

    [Fact]
    public void DropoutAndDropPathActOnlyInTraining()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        using var decoder = new CrossModalDecoder("d", 7, 12, 16, 10, 24, 2, 2, 8, dropout: 0.2, dropPath: 0.1);
        var x = randn(3, 7, 12);
        decoder.train();
        Assert.False(decoder.forward(x).allclose(decoder.forward(x)));
        decoder.eval();
        Assert.True(decoder.forward(x).equal(decoder.forward(x)).all().item<bool>());
    }
}
