using Deri.Data.Store;
using Deri.Training;
using Deri.IO;

namespace Deri.Pretraining;

/// <summary>
/// ECG–report pairs of one split of an <see cref="EcgStore"/>, loaded by index for the trainer.
/// Thread-safe (the store is a read-only memory map) and free of torch randomness, as
/// <see cref="ITrainingData{TBatch}"/> requires for background prefetching.
/// </summary>
public sealed class StorePairData : ITrainingData<PairBatch>
{
    private readonly EcgStore store;
    private readonly int[] rows;

    /// <summary>The records of <paramref name="store"/> at <paramref name="rows"/> (store row numbers).</summary>
    /// <exception cref="InputFormatException">A record has an empty report.</exception>
    public StorePairData(EcgStore store, int[] rows)
    {
        this.store = store;
        this.rows = rows;
        foreach (int r in rows)
            if (string.IsNullOrWhiteSpace(store.Entries[r].Report))
                throw new InputFormatException($"{store.Directory}: record {store.Entries[r].Id} has no report; pretraining needs ECG–report pairs");
    }

    /// <summary>The records of split <paramref name="split"/> (<c>train</c>, <c>val</c>, <c>test</c>).</summary>
    public static StorePairData ForSplit(EcgStore store, string split) => new(store, store.IndicesOf(split));

    /// <inheritdoc />
    public int Count => rows.Length;

    /// <summary>Store row numbers of the records, in this data's order.</summary>
    public IReadOnlyList<int> Rows => rows;

    /// <inheritdoc />
    public PairBatch Load(ReadOnlySpan<int> indices)
    {
        var storeRows = new int[indices.Length];
        var reports = new string[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            storeRows[i] = rows[indices[i]];
            reports[i] = store.Entries[storeRows[i]].Report;
        }
        // ReadTensor fills a tensor that torch allocated, so products do not depend on managed-array alignment.
        return new PairBatch(store.ReadTensor(storeRows), reports);
    }
}
