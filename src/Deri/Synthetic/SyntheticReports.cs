namespace Deri.Synthetic;

/// <summary>
/// Machine-statement reports in the style of MIMIC-IV-ECG (one statement per <c>report_i</c>): a rhythm
/// statement (possibly combined with first-degree AV block), conduction, hypertrophy, voltage, ST–T and QT
/// statements, and a closing <c>Normal ECG</c> / <c>Borderline ECG</c> / <c>Abnormal ECG</c>. Wording varies
/// between paraphrases and with the drawn values (e.g. <c>Marked sinus bradycardia</c> below 50 bpm).
/// </summary>
internal static class SyntheticReports
{
    internal static List<string> Write(SyntheticRandom rng, HashSet<EcgCondition> c, BeatPlan plan, SyntheticGroundTruth truth)
    {
        var s = new List<string>();
        double hr = truth.HeartRate;
        bool iavb = c.Contains(EcgCondition.FirstDegreeAvBlock);
        bool iavbDone = false;
        if (c.Contains(EcgCondition.AtrialFibrillation))
            s.Add(hr > 100 ? "Atrial fibrillation with rapid ventricular response"
                : hr < 60 ? "Atrial fibrillation with slow ventricular response"
                : rng.Chance(0.5) ? "Atrial fibrillation" : "Atrial fibrillation with controlled ventricular response");
        else if (c.Contains(EcgCondition.AtrialFlutter))
            s.Add(plan.FlutterConduction switch
            {
                0 => rng.Chance(0.7) ? "Atrial flutter with variable A-V block" : "Atrial flutter",
                int k when rng.Chance(0.7) => $"Atrial flutter with {k}:1 A-V conduction",
                _ => "Atrial flutter",
            });
        else
        {
            string rhythm = c.Contains(EcgCondition.SinusBradycardia) ? (hr < 50 ? "Marked sinus bradycardia" : "Sinus bradycardia")
                : c.Contains(EcgCondition.SinusTachycardia) ? "Sinus tachycardia"
                : rng.Chance(0.8) ? "Sinus rhythm" : "Normal sinus rhythm";
            if (iavb && rng.Chance(0.5))
            {
                rhythm += " with 1st degree A-V block";
                iavbDone = true;
            }
            s.Add(rhythm);
        }
        if (iavb && !iavbDone) s.Add(rng.Pick(["1st degree A-V block", "First degree A-V block", "Prolonged PR interval, 1st degree A-V block"]));
        if (c.Contains(EcgCondition.PrematureVentricularComplexes))
            s.Add(plan.PvcCount > 1
                ? rng.Pick(["Multiple ventricular premature complexes", "Premature ventricular complexes", "Frequent premature ventricular contractions"])
                : rng.Pick(["Ventricular premature complex", "Premature ventricular complex", "Occasional premature ventricular contractions"]));
        if (c.Contains(EcgCondition.RightBundleBranchBlock))
            s.Add(rng.Pick(["Right bundle branch block", "Complete right bundle branch block", "RBBB"]));
        if (c.Contains(EcgCondition.LeftBundleBranchBlock))
            s.Add(rng.Pick(["Left bundle branch block", "Complete left bundle branch block", "LBBB"]));
        // Axis statements only where the axis is that of a normally conducted QRS (not of a bundle branch block).
        bool bbb = c.Contains(EcgCondition.LeftBundleBranchBlock) || c.Contains(EcgCondition.RightBundleBranchBlock);
        if (!bbb && truth.QrsAxis < -30) s.Add("Left axis deviation");
        else if (!bbb && truth.QrsAxis > 100) s.Add("Right axis deviation");
        if (c.Contains(EcgCondition.LeftVentricularHypertrophy))
        {
            bool strain = c.Contains(EcgCondition.StDepression) || c.Contains(EcgCondition.TWaveInversion);
            s.Add(strain && rng.Chance(0.6) ? "Left ventricular hypertrophy with repolarization abnormality"
                : rng.Pick(["Left ventricular hypertrophy", "Voltage criteria for left ventricular hypertrophy", "LVH by voltage criteria"]));
        }
        if (c.Contains(EcgCondition.LowQrsVoltage))
            s.Add(rng.Pick(["Low QRS voltages", "Low voltage QRS", "Low QRS voltages in limb and precordial leads"]));
        if (c.Contains(EcgCondition.InferiorStElevation))
            s.Add(rng.Pick(["Inferior ST elevation", "ST elevation in inferior leads", "ST elevation, consider inferior injury or acute infarct"]));
        if (c.Contains(EcgCondition.AnteriorStElevation))
            s.Add(rng.Pick(["Anterior ST elevation", "ST elevation in anterior leads", "ST elevation, consider anterior injury or acute infarct"]));
        if ((c.Contains(EcgCondition.InferiorStElevation) || c.Contains(EcgCondition.AnteriorStElevation)) && rng.Chance(0.4))
            s.Add("** ** ACUTE MI / STEMI ** **");
        if (c.Contains(EcgCondition.StDepression))
            s.Add(rng.Pick(["ST depression", "Diffuse ST depression", "ST depression, consider subendocardial ischemia", "Horizontal ST depression"]));
        if (c.Contains(EcgCondition.TWaveInversion))
            s.Add(rng.Pick(["T wave inversion", "Inverted T waves", "Diffuse T wave inversion", "T wave abnormality with inverted T waves"]));
        if (c.Contains(EcgCondition.LongQt))
            s.Add(rng.Pick(["Prolonged QT interval", "Long QT interval", "Prolonged QT"]));
        s.Add(Closing(c, hr));
        return s;
    }

    /// <summary>
    /// <c>Normal ECG</c> for a normal record; <c>Borderline ECG</c> when the only findings are mild (sinus
    /// brady- or tachycardia, first-degree AV block, low voltage); otherwise <c>Abnormal ECG</c>.
    /// </summary>
    private static string Closing(HashSet<EcgCondition> c, double hr)
    {
        if (c.Contains(EcgCondition.Normal)) return "Normal ECG";
        bool mildOnly = c.All(x => x is EcgCondition.SinusTachycardia or EcgCondition.FirstDegreeAvBlock or EcgCondition.LowQrsVoltage
            || x == EcgCondition.SinusBradycardia && hr >= 50);
        return mildOnly ? "Borderline ECG" : "Abnormal ECG";
    }
}
