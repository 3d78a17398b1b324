using Deri.Synthetic;

namespace Deri.Tests.Synthetic;

/// <summary>Records shared by the synthetic tests, generated once per test run.</summary>
public static class SyntheticSamples
{
    private static readonly Lazy<SyntheticEcg[]> CleanLazy = new(() => Make(NoiseLevel.None, 700));
    private static readonly Lazy<SyntheticEcg[]> NoisyLazy = new(() => Make(NoiseLevel.Medium, 250));

    /// <summary>700 noise-free records (seed 7).</summary>
    public static SyntheticEcg[] Clean => CleanLazy.Value;

    /// <summary>250 records with medium noise (seed 7).</summary>
    public static SyntheticEcg[] Noisy => NoisyLazy.Value;

    private static SyntheticEcg[] Make(NoiseLevel noise, int count)
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 7, Noise: noise));
        var r = new SyntheticEcg[count];
        Parallel.For(0, count, i => r[i] = g.Generate(i));
        return r;
    }

    /// <summary>Records having <paramref name="c"/>.</summary>
    public static IEnumerable<SyntheticEcg> With(this IEnumerable<SyntheticEcg> records, EcgCondition c) => records.Where(r => r.Conditions.Contains(c));

    /// <summary>Whether the record has a bundle branch block.</summary>
    public static bool HasBbb(this SyntheticEcg r) =>
        r.Conditions.Contains(EcgCondition.RightBundleBranchBlock) || r.Conditions.Contains(EcgCondition.LeftBundleBranchBlock);

    /// <summary>Onset sample of each ground-truth conducted beat whose QRS lies well inside the record.</summary>
    public static IEnumerable<int> ConductedOnsets(this SyntheticEcg r) =>
        r.Truth.Beats.Where(b => b.Kind == BeatKind.Conducted && b.QrsOnset > 0.5 && b.QrsOnset < r.Samples / r.SamplingRate - 0.8)
            .Select(b => (int)Math.Round(b.QrsOnset * r.SamplingRate));
}
