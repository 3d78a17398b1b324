using Deri.Evaluation;

namespace Deri.Tests.Evaluation;

public class SubsetTests
{
    [Fact]
    public void SubsetsEqualScikitLearnTrainTestSplit()
    {
        using var doc = MetricFixtures.Json("subsets.json");
        foreach (var s in doc.RootElement.GetProperty("subsets").EnumerateArray())
        {
            int n = s.GetProperty("n").GetInt32();
            double ratio = s.GetProperty("ratio").GetDouble();
            long seed = s.GetProperty("seed").GetInt64();
            var expected = s.GetProperty("train").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(expected, TrainingSubset.Indices(n, ratio, seed));
        }
    }

    [Fact]
    public void SameSeedRatioAndSizeGiveTheSameSubset()
    {
        Assert.Equal(TrainingSubset.Indices(5000, 10, 42), TrainingSubset.Indices(5000, 10, 42));
        Assert.NotEqual(TrainingSubset.Indices(5000, 10, 42), TrainingSubset.Indices(5000, 10, 43));
        Assert.Equal(50, TrainingSubset.Indices(5000, 1, 42).Length);
        Assert.Equal(Enumerable.Range(0, 77), TrainingSubset.Indices(77, 100, 42));
        var ten = TrainingSubset.Indices(5000, 10, 42);
        Assert.Equal(ten.Length, ten.Distinct().Count());
        Assert.All(ten, i => Assert.InRange(i, 0, 4999));
    }

    [Fact]
    public void TooSmallARatioIsAClearError()
    {
        var e = Assert.Throws<InputValueException>(() => TrainingSubset.Indices(50, 1, 42));
        Assert.Contains("less than one sample", e.Message);
    }
}
