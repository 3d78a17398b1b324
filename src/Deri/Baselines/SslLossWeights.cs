using Deri.Config;

namespace Deri.Baselines;

/// <summary>
/// The loss weights of an ECG-only run. Rule: each of the method's terms takes its weight from
/// <c>trainer.loss_weights</c> when that names the term, otherwise the method's default
/// (<see cref="EcgSslMethod.DefaultLossWeights"/>). Entries naming DERI's terms (<c>cma</c>, <c>cma_mix</c>,
/// <c>uma</c>, <c>rec_ecg</c>, <c>rec_text</c>: the section's defaults) are ignored, so that one config serves
/// every method; any other name is an error (a misspelt term would otherwise be silently unweighted).
/// The resolved weights replace <c>trainer.loss_weights</c> in the run's saved <c>config.yaml</c>.
/// </summary>
public static class SslLossWeights
{
    /// <summary>Resolves the weights of the terms <paramref name="defaults"/> names for method <paramref name="methodName"/> from <paramref name="configured"/> (see the class remarks).</summary>
    /// <exception cref="ConfigException">An entry names neither a term of the method nor one of DERI's terms, or no weight is positive.</exception>
    public static Dictionary<string, double> Resolve(string methodName, IReadOnlyDictionary<string, double> defaults,
        IReadOnlyDictionary<string, double> configured)
    {
        var ecgText = new TrainerConfig().LossWeights.Keys;
        var unknown = configured.Keys.Where(k => !defaults.ContainsKey(k) && !ecgText.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ConfigException(
                $"trainer.loss_weights: {methodName} has no loss term {string.Join(", ", unknown)} (its terms: {string.Join(", ", defaults.Keys)})");
        var resolved = defaults.ToDictionary(kv => kv.Key, kv => configured.TryGetValue(kv.Key, out double w) ? w : kv.Value);
        if (!resolved.Values.Any(w => w > 0))
            throw new ConfigException($"trainer.loss_weights: every loss term of {methodName} has weight 0");
        return resolved;
    }

    /// <summary><paramref name="config"/> with <c>trainer.loss_weights</c> resolved for <paramref name="method"/>.</summary>
    /// <exception cref="ConfigException">As for <see cref="Resolve"/>.</exception>
    public static DeriConfig Apply(DeriConfig config, EcgSslMethod method) => config with
    {
        Trainer = config.Trainer with { LossWeights = Resolve(config.Network.Method, method.DefaultLossWeights, config.Trainer.LossWeights) },
    };
}
