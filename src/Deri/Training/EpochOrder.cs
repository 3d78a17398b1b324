namespace Deri.Training;

/// <summary>
/// The order in which an epoch visits the training records: a permutation that depends only on
/// (seed, epoch), so any position of any epoch can be reproduced without replaying earlier ones.
/// Uses its own generator (SplitMix64 + Fisher–Yates) rather than <see cref="Random"/>, whose
/// algorithm .NET does not promise to keep.
/// </summary>
public static class EpochOrder
{
    /// <summary>The permutation of 0..<paramref name="count"/>−1 used in <paramref name="epoch"/>.</summary>
    public static int[] Permutation(int count, long seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        ulong state = Mix((ulong)seed ^ 0x5DEECE66DUL) ^ Mix((ulong)epoch + 0x9E3779B97F4A7C15UL);
        for (int i = count - 1; i > 0; i--)
        {
            state += 0x9E3779B97F4A7C15UL;
            int j = (int)(Mix(state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Batches in an epoch; a last incomplete batch is dropped when <paramref name="dropLast"/>.</summary>
    public static int BatchCount(int count, int batchSize, bool dropLast) =>
        dropLast ? count / batchSize : (count + batchSize - 1) / batchSize;

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
