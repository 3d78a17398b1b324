using Deri.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Training;

/// <summary>
/// Named scalar loss tensors of one batch, in the order the model produced them, and the one way
/// they are combined (<see cref="Weighted"/>). Disposing disposes every term tensor.
/// </summary>
public sealed class LossTerms : IDisposable
{
    private readonly List<(string Name, Tensor Value)> _terms = [];

    /// <summary>Adds a term; <paramref name="value"/> must be a scalar (a single element).</summary>
    /// <exception cref="ArgumentException">Duplicate name or non-scalar tensor.</exception>
    public LossTerms Add(string name, Tensor value)
    {
        if (_terms.Any(t => t.Name == name)) throw new ArgumentException($"loss term '{name}' was added twice", nameof(name));
        if (value.numel() != 1) throw new ArgumentException($"loss term '{name}' must be a scalar, got shape [{string.Join(", ", value.shape)}]", nameof(value));
        _terms.Add((name, value));
        return this;
    }

    /// <summary>The terms in insertion order.</summary>
    public IReadOnlyList<(string Name, Tensor Value)> Terms => _terms;

    /// <summary>The term called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such term (e.g. cma_mix of a MERL model).</exception>
    public Tensor this[string name]
    {
        get
        {
            foreach (var (n, value) in _terms)
                if (n == name) return value;
            throw new KeyNotFoundException($"no loss term '{name}' (have {string.Join(", ", _terms.Select(t => t.Name))})");
        }
    }

    /// <summary>Every term as a double, for logging (synchronises with the device).</summary>
    public IReadOnlyDictionary<string, double> Values() => _terms.ToDictionary(t => t.Name, t => t.Value.ToDouble());

    /// <summary>
    /// Σ weight·term over the terms, a scalar to call backward on. Terms weighted 0 are left out of the
    /// graph (they are still logged); every term needs a weight, so a renamed term cannot silently drop
    /// out of the total.
    /// </summary>
    /// <exception cref="InvalidOperationException">A term has no weight, or there are no terms, or every weight is 0.</exception>
    public Tensor Weighted(IReadOnlyDictionary<string, double> weights)
    {
        if (_terms.Count == 0) throw new InvalidOperationException("the model returned no loss terms");
        Tensor? total = null;
        foreach (var (name, value) in _terms)
        {
            if (!weights.TryGetValue(name, out double w))
                throw new Deri.Config.ConfigException(
                    $"loss term '{name}' has no weight in trainer.loss_weights (weights given for: {string.Join(", ", weights.Keys)})");
            if (w == 0) continue;
            var term = w == 1 ? value.reshape() : value.reshape().mul(Scalars.Constant(w));
            total = total is null ? term : total.add(term, Scalars.One);
        }
        return total ?? throw new Deri.Config.ConfigException("every loss term returned by the model has weight 0 in trainer.loss_weights");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var (_, value) in _terms) value.Dispose();
    }
}
