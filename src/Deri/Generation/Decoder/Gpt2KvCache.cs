using static TorchSharp.torch;

namespace Deri.Generation.Decoder;

/// <summary>
/// The key/value cache of incremental decoding: per layer, the self-attention keys and values of every token fed
/// so far, <c>(B, heads, T, head_dim)</c>, and the cross-attention keys and values of the memory,
/// <c>(B, heads, M, head_dim)</c>, computed once. Its tensors live outside any dispose scope (they are replaced, not
/// accumulated, each step) and are freed by <see cref="Dispose"/>. Rows follow the batch of the last
/// <see cref="Gpt2Model.Forward(Tensor, Tensor, Tensor?, Gpt2KvCache?)"/>; <see cref="Reorder"/> selects, repeats or
/// drops rows (beam selection, finished records).
/// </summary>
public sealed class Gpt2KvCache : IDisposable
{
    private readonly Tensor?[] selfKeys;
    private readonly Tensor?[] selfValues;
    private readonly Tensor?[] crossKeys;
    private readonly Tensor?[] crossValues;

    /// <summary>An empty cache for a model of <paramref name="layers"/> blocks.</summary>
    public Gpt2KvCache(int layers)
    {
        if (layers <= 0) throw new ArgumentException($"layers must be positive, got {layers}");
        selfKeys = new Tensor?[layers];
        selfValues = new Tensor?[layers];
        crossKeys = new Tensor?[layers];
        crossValues = new Tensor?[layers];
    }

    /// <summary>Tokens cached so far (the position of the next token fed).</summary>
    public int Length { get; private set; }

    /// <summary>Rows in the cache, or −1 while it is empty.</summary>
    public long BatchSize => selfKeys[0]?.shape[0] ?? crossKeys[0]?.shape[0] ?? -1;

    /// <summary>Memory length M of the cached cross-attention keys, or −1 when none is cached.</summary>
    public long MemoryLength => crossKeys[0]?.shape[2] ?? -1;

    /// <summary>
    /// Keeps row <c>index[i]</c> as row i of every cached tensor (<paramref name="index"/> int64 <c>(B')</c>): after beam
    /// selection, the parent hypothesis of each new beam; after records finish, the rows still decoding.
    /// </summary>
    public void Reorder(Tensor index)
    {
        if (index.dim() != 1) throw new ArgumentException($"reorder index must be 1-D, got [{string.Join(", ", index.shape)}]");
        foreach (var table in new[] { selfKeys, selfValues, crossKeys, crossValues })
            for (var l = 0; l < table.Length; l++)
                if (table[l] is { } old)
                {
                    var picked = old.index_select(0, index.to(old.device));
                    picked.DetachFromDisposeScope();
                    old.Dispose();
                    table[l] = picked;
                }
    }

    /// <summary>Cached cross-attention keys and values of <paramref name="layer"/>, or nulls.</summary>
    internal (Tensor? Key, Tensor? Value) Cross(int layer) => (crossKeys[layer], crossValues[layer]);

    /// <summary>Cached self-attention keys and values of <paramref name="layer"/>, or nulls.</summary>
    internal (Tensor? Key, Tensor? Value) Self(int layer) => (selfKeys[layer], selfValues[layer]);

    internal void SetCross(int layer, Tensor key, Tensor value)
    {
        Replace(crossKeys, layer, key);
        Replace(crossValues, layer, value);
    }

    internal void SetSelf(int layer, Tensor key, Tensor value)
    {
        Replace(selfKeys, layer, key);
        Replace(selfValues, layer, value);
    }

    internal void Advance(int tokens) => Length += tokens;

    private static void Replace(Tensor?[] table, int layer, Tensor value)
    {
        if (ReferenceEquals(table[layer], value)) return;
        value.DetachFromDisposeScope();
        table[layer]?.Dispose();
        table[layer] = value;
    }

    /// <summary>Frees every cached tensor.</summary>
    public void Dispose()
    {
        foreach (var table in new[] { selfKeys, selfValues, crossKeys, crossValues })
            for (var l = 0; l < table.Length; l++)
            {
                table[l]?.Dispose();
                table[l] = null;
            }
        Length = 0;
    }
}
