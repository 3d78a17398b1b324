namespace Deri.Config;

/// <summary>
/// Names of DERI's loss terms: the keys of <c>trainer.loss_weights</c>, the fields of
/// <see cref="LossConfig"/>, and the names the loss logs its terms under. The one source of these names.
/// </summary>
public static class LossTermNames
{
    /// <summary>clip(aligned ECG, aligned text).</summary>
    public const string Cma = "cma";

    /// <summary>clip(mixed ECG, mixed text).</summary>
    public const string CmaMix = "cma_mix";

    /// <summary>clip(view 1, view 2).</summary>
    public const string Uma = "uma";

    /// <summary>clip(global ECG, decoded ECG).</summary>
    public const string RecEcg = "rec_ecg";

    /// <summary>clip(text pooled, decoded text).</summary>
    public const string RecText = "rec_text";

    /// <summary>The weights of <paramref name="config"/> by term name.</summary>
    public static IReadOnlyDictionary<string, double> WeightsOf(LossConfig config) => new Dictionary<string, double>(StringComparer.Ordinal)
    {
        [Cma] = config.Cma, [CmaMix] = config.CmaMix, [Uma] = config.Uma, [RecEcg] = config.RecEcg, [RecText] = config.RecText,
    };
}
