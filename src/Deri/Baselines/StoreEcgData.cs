using Deri.Data.Store;
using Deri.Training;

namespace Deri.Baselines;

/// <summary>
/// The ECGs of one split of an <see cref="EcgStore"/> for ECG-only pretraining (reports are not needed), with the
/// patient of each record when the store has one. Thread-safe (the store is a read-only memory map) and free of
/// torch randomness, as <see cref="ITrainingData{TBatch}"/> requires for background prefetching.
/// </summary>
public sealed class StoreEcgData : ITrainingData<EcgBatch>
{
    private readonly EcgStore store;
    private readonly int[] rows;

    /// <summary>The records of <paramref name="store"/> at <paramref name="rows"/> (store row numbers).</summary>
    public StoreEcgData(EcgStore store, int[] rows)
    {
        this.store = store;
        this.rows = rows;
    }

    /// <summary>The records of split <paramref name="split"/> (<c>train</c>, <c>val</c>, <c>test</c>).</summary>
    public static StoreEcgData ForSplit(EcgStore store, string split) => new(store, store.IndicesOf(split));

    /// <inheritdoc />
    public int Count => rows.Length;

    /// <summary>Store row numbers of the records, in this data's order.</summary>
    public IReadOnlyList<int> Rows => rows;

    /// <inheritdoc />
    public EcgBatch Load(ReadOnlySpan<int> indices)
    {
        var storeRows = new int[indices.Length];
        var patients = new string?[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            storeRows[i] = rows[indices[i]];
            patients[i] = store.Entries[storeRows[i]].Patient;
        }
        // ReadTensor fills a tensor that torch allocated, so products do not depend on managed-array alignment.
        return new EcgBatch(store.ReadTensor(storeRows), patients);
    }
}
