namespace Deri.Synthetic;

/// <summary>
/// The conditions the synthetic generator can produce, each with ground truth. The numeric order is the
/// column order of label vectors and of <c>labels.csv</c>; <see cref="EcgConditions.Code"/> gives the short
/// label code used in files and prompts.
/// </summary>
public enum EcgCondition
{
    /// <summary>Normal ECG: sinus rhythm 60–100 bpm and no other finding.</summary>
    Normal,
    /// <summary>Sinus bradycardia (&lt; 60 bpm).</summary>
    SinusBradycardia,
    /// <summary>Sinus tachycardia (&gt; 100 bpm).</summary>
    SinusTachycardia,
    /// <summary>Atrial fibrillation: irregular RR, no P waves, fibrillatory baseline waves.</summary>
    AtrialFibrillation,
    /// <summary>Atrial flutter: sawtooth F waves near 300/min with regular or variable block.</summary>
    AtrialFlutter,
    /// <summary>First-degree AV block (PR &gt; 200 ms).</summary>
    FirstDegreeAvBlock,
    /// <summary>Right bundle branch block (QRS ≥ 120 ms, rsR' in V1, wide S in I and V6).</summary>
    RightBundleBranchBlock,
    /// <summary>Left bundle branch block (QRS ≥ 120 ms, broad notched R in I, aVL, V5–V6, deep S in V1).</summary>
    LeftBundleBranchBlock,
    /// <summary>Left ventricular hypertrophy (high QRS voltage).</summary>
    LeftVentricularHypertrophy,
    /// <summary>Inferior ST elevation (II, III, aVF).</summary>
    InferiorStElevation,
    /// <summary>Anterior ST elevation (V1–V4).</summary>
    AnteriorStElevation,
    /// <summary>ST depression (lateral and inferior leads, elevated in aVR).</summary>
    StDepression,
    /// <summary>T-wave inversion.</summary>
    TWaveInversion,
    /// <summary>Premature ventricular complexes (wide early beats with a compensatory pause).</summary>
    PrematureVentricularComplexes,
    /// <summary>Low QRS voltage.</summary>
    LowQrsVoltage,
    /// <summary>Long QT interval.</summary>
    LongQt,
}

/// <summary>Label codes and helpers for <see cref="EcgCondition"/>.</summary>
public static class EcgConditions
{
    /// <summary>All conditions in label-vector order.</summary>
    public static IReadOnlyList<EcgCondition> All { get; } = Enum.GetValues<EcgCondition>();

    /// <summary>Short label codes in label-vector order (NORM, SBRAD, …, LQT).</summary>
    public static IReadOnlyList<string> Codes { get; } = All.Select(Code).ToArray();

    /// <summary>Number of labels.</summary>
    public static int Count => All.Count;

    /// <summary>The short label code of a condition.</summary>
    public static string Code(EcgCondition c) => c switch
    {
        EcgCondition.Normal => "NORM",
        EcgCondition.SinusBradycardia => "SBRAD",
        EcgCondition.SinusTachycardia => "STACH",
        EcgCondition.AtrialFibrillation => "AFIB",
        EcgCondition.AtrialFlutter => "AFLT",
        EcgCondition.FirstDegreeAvBlock => "IAVB",
        EcgCondition.RightBundleBranchBlock => "RBBB",
        EcgCondition.LeftBundleBranchBlock => "LBBB",
        EcgCondition.LeftVentricularHypertrophy => "LVH",
        EcgCondition.InferiorStElevation => "STE_INF",
        EcgCondition.AnteriorStElevation => "STE_ANT",
        EcgCondition.StDepression => "STD",
        EcgCondition.TWaveInversion => "TINV",
        EcgCondition.PrematureVentricularComplexes => "PVC",
        EcgCondition.LowQrsVoltage => "LVOLT",
        EcgCondition.LongQt => "LQT",
        _ => throw new ArgumentOutOfRangeException(nameof(c), c, "unknown condition"),
    };

    /// <summary>The condition of a label code (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The code is not one of <see cref="Codes"/>.</exception>
    public static EcgCondition FromCode(string code)
    {
        foreach (var c in All)
            if (string.Equals(Code(c), code.Trim(), StringComparison.OrdinalIgnoreCase)) return c;
        throw new ArgumentException($"unknown synthetic ECG label '{code}': expected one of {string.Join(", ", Codes)}", nameof(code));
    }
}
