using Deri.Data.Datasets;

namespace Deri.Synthetic;

/// <summary>
/// Reports of the PTB-XL statement mode, one of two styles per record (drawn from the record's wording stream):
/// PTB-XL's English statement descriptions, composed exactly as <c>deri data prepare --report composed</c> composes
/// them for real PTB-XL (<see cref="PtbXlDataset.ComposeReport"/>), or MIMIC-IV-ECG-style machine statements (rhythm
/// first, then conduction, axis, chambers, infarcts, ST–T, QT, and a closing <c>Normal/Borderline/Abnormal ECG</c>).
/// </summary>
internal static class StatementReports
{
    /// <summary>Machine wording per statement: position in the report and paraphrases.</summary>
    internal static readonly IReadOnlyDictionary<string, (int Order, string[] Phrases)> Machine = new Dictionary<string, (int, string[])>
    {
        ["SR"] = (0, ["Sinus rhythm", "Normal sinus rhythm"]),
        ["SBRAD"] = (0, ["Sinus bradycardia"]),
        ["STACH"] = (0, ["Sinus tachycardia"]),
        ["SARRH"] = (1, ["Sinus arrhythmia", "Marked sinus arrhythmia"]),
        ["AFIB"] = (0, ["Atrial fibrillation"]),
        ["AFLT"] = (0, ["Atrial flutter"]),
        ["SVTAC"] = (0, ["Supraventricular tachycardia", "Narrow complex tachycardia, probably supraventricular"]),
        ["PSVT"] = (0, ["Paroxysmal supraventricular tachycardia", "Run of supraventricular tachycardia"]),
        ["PACE"] = (0, ["Electronic ventricular pacemaker", "Ventricular paced rhythm", "Paced rhythm, normal pacemaker function"]),
        ["SVARR"] = (1, ["Supraventricular arrhythmia", "Frequent supraventricular premature complexes"]),
        ["BIGU"] = (1, ["Bigeminal pattern", "Bigeminy"]),
        ["TRIGU"] = (1, ["Trigeminal pattern", "Trigeminy"]),
        ["PAC"] = (2, ["Atrial premature complex", "Premature atrial contractions", "Supraventricular premature complex"]),
        ["PVC"] = (2, ["Ventricular premature complex", "Premature ventricular contractions", "Ventricular premature complexes"]),
        ["PRC(S)"] = (2, ["Premature complexes", "Premature beats"]),
        ["1AVB"] = (3, ["1st degree A-V block", "First degree A-V block"]),
        ["LPR"] = (3, ["Prolonged PR interval", "Long PR interval"]),
        ["2AVB"] = (3, ["2nd degree A-V block", "Second degree A-V block"]),
        ["3AVB"] = (3, ["Complete heart block", "3rd degree A-V block"]),
        ["WPW"] = (4, ["Wolff-Parkinson-White pattern", "Ventricular pre-excitation, WPW pattern"]),
        ["CLBBB"] = (4, ["Left bundle branch block", "Complete left bundle branch block"]),
        ["CRBBB"] = (4, ["Right bundle branch block", "Complete right bundle branch block", "RBBB"]),
        ["ILBBB"] = (4, ["Incomplete left bundle branch block"]),
        ["IRBBB"] = (4, ["Incomplete right bundle branch block", "Incomplete RBBB"]),
        ["IVCD"] = (4, ["Intraventricular conduction delay", "Nonspecific intraventricular conduction delay"]),
        ["LAFB"] = (5, ["Left anterior fascicular block", "Left axis deviation, left anterior fascicular block"]),
        ["LPFB"] = (5, ["Left posterior fascicular block", "Right axis deviation, left posterior fascicular block"]),
        ["LAO/LAE"] = (6, ["Left atrial abnormality", "Left atrial enlargement"]),
        ["RAO/RAE"] = (6, ["Right atrial abnormality", "Right atrial enlargement"]),
        ["LVH"] = (7, ["Left ventricular hypertrophy", "Left ventricular hypertrophy with repolarization abnormality"]),
        ["VCLVH"] = (7, ["Voltage criteria for left ventricular hypertrophy", "LVH by voltage criteria"]),
        ["RVH"] = (7, ["Right ventricular hypertrophy", "Right ventricular hypertrophy with right axis deviation"]),
        ["SEHYP"] = (7, ["Septal hypertrophy, prominent septal forces", "Prominent septal Q waves, septal hypertrophy"]),
        ["HVOLT"] = (8, ["High QRS voltage", "Increased QRS voltage"]),
        ["LVOLT"] = (8, ["Low QRS voltages", "Low voltage QRS", "Low QRS voltages in limb and precordial leads"]),
        ["ABQRS"] = (8, ["Abnormal QRS complex", "Fragmented QRS complex"]),
        ["QWAVE"] = (9, ["Q waves present", "Abnormal Q waves"]),
        ["IMI"] = (9, ["Inferior infarct, age undetermined", "Inferior myocardial infarction"]),
        ["ASMI"] = (9, ["Anteroseptal infarct, age undetermined", "Septal infarct, age undetermined"]),
        ["AMI"] = (9, ["Anterior infarct, age undetermined", "Anterior myocardial infarction"]),
        ["ALMI"] = (9, ["Anterolateral infarct, age undetermined", "Anterolateral myocardial infarction"]),
        ["LMI"] = (9, ["Lateral infarct, age undetermined", "Lateral myocardial infarction"]),
        ["ILMI"] = (9, ["Inferolateral infarct, age undetermined", "Inferior and lateral infarct"]),
        ["IPMI"] = (9, ["Inferior/posterior infarct, age undetermined", "Inferoposterior myocardial infarction"]),
        ["IPLMI"] = (9, ["Inferoposterolateral infarct, age undetermined", "Inferior, posterior and lateral infarct"]),
        ["PMI"] = (9, ["Posterior infarct, age undetermined", "Tall R waves in V1-V2, consider posterior infarct"]),
        ["ANEUR"] = (10, ["Anterior ST elevation, consider ventricular aneurysm", "ST-T changes consistent with ventricular aneurysm"]),
        ["INJAS"] = (10, ["Anteroseptal ST depression, consider subendocardial injury"]),
        ["INJAL"] = (10, ["Anterolateral ST depression, consider subendocardial injury"]),
        ["INJIN"] = (10, ["Inferior ST depression, consider subendocardial injury"]),
        ["INJLA"] = (10, ["Lateral ST depression, consider subendocardial injury"]),
        ["INJIL"] = (10, ["Inferolateral ST depression, consider subendocardial injury"]),
        ["ISC_"] = (10, ["ST-T changes, consider ischemia", "Ischemic ST-T changes"]),
        ["ISCAL"] = (10, ["Anterolateral ST-T changes may be due to myocardial ischemia", "Anterolateral T wave changes, consider ischemia"]),
        ["ISCIN"] = (10, ["Inferior ST-T changes may be due to myocardial ischemia", "Inferior T wave changes, consider ischemia"]),
        ["ISCIL"] = (10, ["Inferior/lateral ST-T changes may be due to myocardial ischemia", "Inferolateral T wave changes, consider ischemia"]),
        ["ISCAS"] = (10, ["Anteroseptal ST-T changes may be due to myocardial ischemia", "Septal T wave changes, consider ischemia"]),
        ["ISCLA"] = (10, ["Lateral ST-T changes may be due to myocardial ischemia", "Lateral T wave changes, consider ischemia"]),
        ["ISCAN"] = (10, ["Anterior ST-T changes may be due to myocardial ischemia", "Anterior T wave changes, consider ischemia"]),
        ["STE_"] = (10, ["Nonspecific ST elevation", "ST elevation, probably early repolarization"]),
        ["STD_"] = (10, ["ST depression", "Nonspecific ST depression", "Horizontal ST depression"]),
        ["NST_"] = (11, ["Nonspecific ST abnormality", "Nonspecific ST changes"]),
        ["DIG"] = (11, ["Digitalis effect", "ST-T changes consistent with digitalis effect"]),
        ["EL"] = (11, ["Prominent U waves, consider electrolyte abnormality", "Possible electrolyte disturbance"]),
        ["INVT"] = (11, ["T wave inversion", "Inverted T waves"]),
        ["LOWT"] = (11, ["Low amplitude T waves", "Flat T waves"]),
        ["NDT"] = (11, ["T wave abnormality in I and aVL, nondiagnostic", "Nondiagnostic T wave abnormalities"]),
        ["NT_"] = (11, ["Nonspecific T wave abnormality", "Nonspecific T wave changes"]),
        ["TAB_"] = (11, ["T wave abnormality", "Biphasic T waves"]),
        ["LNGQT"] = (12, ["Prolonged QT interval", "Long QT interval"]),
        ["NORM"] = (13, ["Normal ECG"]),
    };

    /// <summary>Statements whose only presence makes a record borderline rather than abnormal.</summary>
    private static readonly HashSet<string> Mild = ["SR", "SBRAD", "STACH", "SARRH", "1AVB", "LPR", "LVOLT", "NDT", "LOWT", "NT_", "NST_", "PAC", "PRC(S)"];

    internal static List<string> Write(SyntheticRandom rng, IReadOnlyList<(string Code, double Likelihood)> codes, StatementEffects fx,
        BeatPlan plan, SyntheticGroundTruth truth, IReadOnlyDictionary<string, ScpStatement> statements, double composedFraction)
    {
        if (rng.Chance(composedFraction))
            // The composed report joins descriptions with ". " and no description contains ". ": one statement each.
            return PtbXlDataset.ComposeReport(codes, statements).Split(". ").Where(x => x.Length > 0).ToList();
        var present = codes.Select(c => c.Code).Distinct().Where(Machine.ContainsKey).OrderBy(c => Machine[c].Order).ThenBy(c => c, StringComparer.Ordinal).ToList();
        var s = new List<string>();
        foreach (string code in present)
        {
            if (code == "NORM") continue;
            string phrase = rng.Pick(Machine[code].Phrases);
            // The machine names the rate where the rhythm statement does (as MIMIC-IV-ECG's carts do for AF and flutter).
            if (code == "AFIB" && !fx.Paced)
                phrase = truth.HeartRate > 100 ? "Atrial fibrillation with rapid ventricular response" : truth.HeartRate < 60 ? "Atrial fibrillation with slow ventricular response" : phrase;
            if (code == "AFLT" && plan.FlutterConduction is int k and > 0 && rng.Chance(0.5)) phrase = $"Atrial flutter with {k}:1 A-V conduction";
            if (code == "2AVB" && plan.MobitzType > 0) phrase += plan.MobitzType == 1 ? ", Mobitz I (Wenckebach)" : ", Mobitz II";
            if (code is "BIGU" or "TRIGU" && fx.Ectopy != EctopyPattern.None) phrase = (fx.PatternVentricular ? "Ventricular " : "Atrial ") + (code == "BIGU" ? "bigeminy" : "trigeminy");
            s.Add(phrase);
        }
        var all = codes.Select(c => c.Code).ToHashSet();
        s.Add(all.Contains("NORM") ? "Normal ECG" : all.All(Mild.Contains) ? "Borderline ECG" : "Abnormal ECG");
        return s;
    }
}
