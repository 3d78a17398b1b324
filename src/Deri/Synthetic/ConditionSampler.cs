namespace Deri.Synthetic;

/// <summary>
/// Draws the set of conditions of one record: a normal ECG with probability
/// <see cref="SyntheticEcgConfig.NormalFraction"/>, otherwise a rhythm plus independent findings with the
/// co-occurrences seen in practice (AF with LBBB, sinus tachycardia with ST depression, LVH with strain) and
/// without the impossible or label-confusing ones (AF with first-degree AV block or with flutter, LVH with
/// low voltage, both bundle branch blocks, LVH, primary ST/T findings, long QT or low voltage on top of a
/// bundle branch block).
/// </summary>
internal static class ConditionSampler
{
    public static HashSet<EcgCondition> Sample(SyntheticRandom rng, double normalFraction)
    {
        var set = new HashSet<EcgCondition>();
        if (rng.Chance(normalFraction))
        {
            set.Add(EcgCondition.Normal);
            return set;
        }
        // Redraw until at least one finding: a sinus rhythm at normal rate without findings would be NORM.
        for (int attempt = 0; attempt < 100 && set.Count == 0; attempt++) Draw(rng, set);
        if (set.Count == 0) set.Add(EcgCondition.TWaveInversion);
        return set;
    }

    private static void Draw(SyntheticRandom rng, HashSet<EcgCondition> s)
    {
        double u = rng.NextDouble();
        EcgCondition? rhythm = u < 0.15 ? EcgCondition.SinusBradycardia
            : u < 0.30 ? EcgCondition.SinusTachycardia
            : u < 0.48 ? EcgCondition.AtrialFibrillation
            : u < 0.58 ? EcgCondition.AtrialFlutter
            : null;
        if (rhythm is { } r) s.Add(r);
        bool sinus = rhythm is null or EcgCondition.SinusBradycardia or EcgCondition.SinusTachycardia;
        if (sinus && rng.Chance(0.14)) s.Add(EcgCondition.FirstDegreeAvBlock);

        double b = rng.NextDouble();
        if (b < 0.12) s.Add(EcgCondition.RightBundleBranchBlock);
        else if (b < 0.23) s.Add(EcgCondition.LeftBundleBranchBlock);
        bool bbb = s.Contains(EcgCondition.RightBundleBranchBlock) || s.Contains(EcgCondition.LeftBundleBranchBlock);

        // Voltage criteria for LVH are not read through a bundle branch block.
        if (!bbb && rng.Chance(0.15)) s.Add(EcgCondition.LeftVentricularHypertrophy);
        bool lvh = s.Contains(EcgCondition.LeftVentricularHypertrophy);

        bool ste = false;
        if (!bbb)
        {
            double e = rng.NextDouble();
            if (e < 0.08) { s.Add(EcgCondition.InferiorStElevation); ste = true; }
            else if (e < 0.16) { s.Add(EcgCondition.AnteriorStElevation); ste = true; }
        }
        if (!bbb && !ste)
        {
            double p = 0.09 + (s.Contains(EcgCondition.SinusTachycardia) ? 0.2 : 0) + (lvh ? 0.35 : 0);
            if (rng.Chance(p)) s.Add(EcgCondition.StDepression);
        }
        if (!bbb && !ste && rng.Chance(0.09 + (lvh ? 0.35 : 0))) s.Add(EcgCondition.TWaveInversion);
        if (rng.Chance(0.12)) s.Add(EcgCondition.PrematureVentricularComplexes);
        if (!lvh && !bbb && rng.Chance(0.09)) s.Add(EcgCondition.LowQrsVoltage);
        if (!bbb && rng.Chance(0.09)) s.Add(EcgCondition.LongQt);
    }
}
