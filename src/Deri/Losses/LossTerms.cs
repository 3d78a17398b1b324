using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Losses;

/// <summary>Named scalar loss terms and their weighted total. Disposing disposes every tensor.</summary>
public sealed class LossTerms : IDisposable
{
    /// <summary>Term name of clip(aligned ECG, aligned text).</summary>
    public const string Cma = "cma";
    /// <summary>Term name of clip(mixed ECG, mixed text).</summary>
    public const string CmaMix = "cma_mix";
    /// <summary>Term name of clip(view 1, view 2).</summary>
    public const string Uma = "uma";
    /// <summary>Term name of clip(global ECG, decoded ECG).</summary>
    public const string RecEcg = "rec_ecg";
    /// <summary>Term name of clip(text pooled, decoded text).</summary>
    public const string RecText = "rec_text";

    /// <summary>Creates the result from its terms (insertion order kept) and total.</summary>
    public LossTerms(IReadOnlyList<KeyValuePair<string, Tensor>> terms, Tensor total)
    {
        Terms = terms;
        Total = total;
    }

    /// <summary>Every computed term, unweighted scalars; terms of weight 0 are detached (logged, no gradient).</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Terms { get; }

    /// <summary>Σ weight·term over the terms of non-zero weight; call backward on it.</summary>
    public Tensor Total { get; }

    /// <summary>The term called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such term (e.g. cma_mix of a MERL model).</exception>
    public Tensor this[string name] =>
        Terms.FirstOrDefault(t => t.Key == name).Value ?? throw new KeyNotFoundException($"no loss term '{name}' (have {string.Join(", ", Terms.Select(t => t.Key))})");

    /// <summary>Values for logging: every term and <c>total</c> as doubles (synchronises with the device).</summary>
    public IReadOnlyDictionary<string, double> Values()
    {
        var values = Terms.ToDictionary(t => t.Key, t => t.Value.ToDouble());
        values["total"] = Total.ToDouble();
        return values;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in Terms) t.Value.Dispose();
        Total.Dispose();
    }
}
