using Deri.IO;

namespace Deri.Data.Datasets;

/// <summary>Seeded random assignment of items to train/val/test by fractions.</summary>
public static class DatasetSplitter
{
    /// <summary>
    /// Assigns each of <paramref name="count"/> items a split: a seeded Fisher–Yates permutation, the first
    /// <c>round(count·val)</c> items of it go to val, the next <c>round(count·test)</c> to test, the rest to train.
    /// The result depends only on the count, the fractions and the seed.
    /// </summary>
    public static string[] Assign(int count, double valFraction, double testFraction, int seed)
    {
        if (valFraction < 0 || testFraction < 0 || valFraction + testFraction > 1)
            throw new InputValueException($"split fractions val={valFraction}, test={testFraction} must be ≥ 0 and sum to at most 1");
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var rng = new Random(seed);
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        int nVal = (int)Math.Round(count * valFraction), nTest = (int)Math.Round(count * testFraction);
        var splits = new string[count];
        for (int k = 0; k < count; k++)
            splits[order[k]] = k < nVal ? DataSplits.Val : k < nVal + nTest ? DataSplits.Test : DataSplits.Train;
        return splits;
    }
}
