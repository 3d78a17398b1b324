using Deri.IO;

namespace Deri.Evaluation;

/// <summary>
/// The seeded training subsets of linear probing (1 %, 10 %, 100 %). The subset depends only on
/// (seed, ratio, N), so every method probed with the same seed sees the same samples. It is the subset the
/// DERI/MERL release draws (<c>finetune_dataset.getdataset</c>):
/// <c>train_test_split(rows, train_size=ratio/100, random_state=seed)</c> of scikit-learn, i.e. a numpy
/// <c>RandomState(seed).permutation(N)</c> whose entries after the first <c>N - floor(ratio/100·N)</c> are kept,
/// in that order; ratio 100 keeps every row in its original order, as the release does.
/// </summary>
public static class TrainingSubset
{
    /// <summary>Row indices of the subset, in the order the release lists them.</summary>
    /// <param name="n">Rows in the full training split.</param>
    /// <param name="ratioPercent">Percentage in (0, 100].</param>
    /// <param name="seed">Seed in [0, 2^32); the release uses 42.</param>
    /// <exception cref="ArgumentException">The ratio leaves no sample, or arguments are out of range.</exception>
    public static int[] Indices(int n, double ratioPercent, long seed)
    {
        if (n <= 0) throw new InputValueException($"the training split has {n} samples");
        if (!(ratioPercent > 0 && ratioPercent <= 100)) throw new InputValueException($"ratio must be in (0, 100] percent, got {ratioPercent}");
        if (ratioPercent == 100) return Enumerable.Range(0, n).ToArray();
        // scikit-learn's _validate_shuffle_split: n_train = floor(train_size * n), n_test = n - n_train.
        int nTrain = (int)Math.Floor(ratioPercent / 100 * n);
        if (nTrain == 0)
            throw new InputValueException($"{ratioPercent} % of {n} samples is less than one sample: use a larger ratio or a larger split");
        int nTest = n - nTrain;
        var perm = new NumpyRandomState(seed).Permutation(n);
        return perm.AsSpan(nTest, nTrain).ToArray();
    }
}

/// <summary>
/// The part of numpy's legacy <c>RandomState</c> (MT19937) that <c>permutation</c> uses, bit-exact, so that
/// subsets equal those drawn in Python with the same seed.
/// </summary>
public sealed class NumpyRandomState
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _pos;

    /// <summary>Seeds like <c>np.random.RandomState(seed)</c> with an integer seed (init_genrand).</summary>
    public NumpyRandomState(long seed)
    {
        if (seed < 0 || seed > uint.MaxValue) throw new ArgumentOutOfRangeException(nameof(seed), seed, "seed must be in [0, 2^32)");
        _mt[0] = (uint)seed;
        for (int i = 1; i < N; i++) _mt[i] = unchecked(1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        _pos = N;
    }

    /// <summary>The next 32-bit output of MT19937.</summary>
    public uint NextUInt32()
    {
        if (_pos >= N) Generate();
        uint y = _mt[_pos++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary><c>RandomState.permutation(n)</c>: a Fisher–Yates shuffle of 0..n-1 from the last element down.</summary>
    public int[] Permutation(int n)
    {
        var a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)Interval((uint)i);
            (a[i], a[j]) = (a[j], a[i]);
        }
        return a;
    }

    // numpy's random_interval: a uniform integer in [0, max] by masked rejection sampling.
    private uint Interval(uint max)
    {
        if (max == 0) return 0;
        uint mask = max;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
        uint v;
        while ((v = NextUInt32() & mask) > max) { }
        return v;
    }

    private void Generate()
    {
        for (int k = 0; k < N; k++)
        {
            uint y = (_mt[k] & 0x80000000u) | (_mt[(k + 1) % N] & 0x7fffffffu);
            _mt[k] = _mt[(k + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
        }
        _pos = 0;
    }
}
