using Deri.Data.Datasets;
using Deri.Measurements;
using Deri.Synthetic;

namespace Deri.Tests.Synthetic;

/// <summary>
/// Every PTB-XL statement of the statement mode shows a measurable signature in the noise-free signal of a record
/// that has it alone (three records each): intervals and axes by <see cref="EcgMeasurer"/>, amplitudes (Q waves, ST
/// level at J+60 ms, T waves, voltages, P waves, spikes) read from the leads at the true beat positions, rhythm
/// regularity from the true beat times. A statement without a signature here fails the test.
/// </summary>
public class StatementSignatureTests
{
    internal static readonly Lazy<PtbXlStatementSource> Source = new(() => PtbXlStatementSource.Load(
        Path.Combine(SharedData.Data, "ptbxl", "scp_statements.csv"), Path.Combine(SharedData.Data, "ptbxl-reports", "ptbxl_reports.csv")));

    private static readonly SyntheticEcgGenerator Clean = new(new SyntheticEcgConfig(Seed: 11, Noise: NoiseLevel.None), Source.Value);

    public static TheoryData<string> AllCodes()
    {
        var d = new TheoryData<string>();
        foreach (string c in Source.Value.Codes) d.Add(c);
        return d;
    }

    private static int L(string lead) => SyntheticEcgGenerator.Leads.ToList().IndexOf(lead);

    private static float V(SyntheticEcg e, string lead, int sample) => e.Lead(L(lead))[Math.Clamp(sample, 0, e.Samples - 1)];

    private static int S(SyntheticEcg e, double seconds) => (int)Math.Round(seconds * e.SamplingRate);

    /// <summary>Conducted (and premature atrial) beats whose QRS–T lies inside the record.</summary>
    private static List<int> Onsets(SyntheticEcg e) =>
        e.Truth.Beats.Where(b => b.Kind != BeatKind.Ventricular && b.QrsOnset > 0.4 && b.QrsOnset < e.Samples / e.SamplingRate - 0.9)
            .Select(b => S(e, b.QrsOnset)).ToList();

    private static double Min(SyntheticEcg e, string lead, int from, int to)
    {
        double m = double.MaxValue;
        for (int s = from; s <= to; s++) m = Math.Min(m, V(e, lead, s));
        return m;
    }

    private static double Max(SyntheticEcg e, string lead, int from, int to)
    {
        double m = double.MinValue;
        for (int s = from; s <= to; s++) m = Math.Max(m, V(e, lead, s));
        return m;
    }

    /// <summary>Median over the beats of a per-beat value.</summary>
    private static double PerBeat(SyntheticEcg e, Func<int, double> f)
    {
        var v = Onsets(e).Select(f).OrderBy(x => x).ToList();
        return v[v.Count / 2];
    }

    /// <summary>Deepest initial deflection: the minimum over the first 20 ms of the QRS.</summary>
    private static double Q(SyntheticEcg e, string lead) => PerBeat(e, o => Min(e, lead, o - S(e, 0.005), o + S(e, 0.02)));

    /// <summary>Largest initial deflection (R in the first 40 ms).</summary>
    private static double InitialR(SyntheticEcg e, string lead) => PerBeat(e, o => Max(e, lead, o, o + S(e, 0.04)));

    /// <summary>ST level at J+60 ms.</summary>
    private static double St(SyntheticEcg e, string lead) => PerBeat(e, o => V(e, lead, o + S(e, e.Truth.Qrs / 1000 + 0.06)));

    /// <summary>ST level at J+20 ms, before the T wave's upslope: for the small shifts of NST_.</summary>
    private static double St20(SyntheticEcg e, string lead) => PerBeat(e, o => V(e, lead, o + S(e, e.Truth.Qrs / 1000 + 0.02)));

    private static (int From, int To) TWindow(SyntheticEcg e, int o) => (o + S(e, e.Truth.Qrs / 1000 + 0.08), o + S(e, e.Truth.Qt / 1000));

    /// <summary>The T wave's extreme (signed: the value of largest magnitude in the T window).</summary>
    private static double T(SyntheticEcg e, string lead) => PerBeat(e, o =>
    {
        var (a, b) = TWindow(e, o);
        double lo = Min(e, lead, a, b), hi = Max(e, lead, a, b);
        return Math.Abs(lo) > Math.Abs(hi) ? lo : hi;
    });

    private static double TMin(SyntheticEcg e, string lead) => PerBeat(e, o => { var (a, b) = TWindow(e, o); return Min(e, lead, a, b); });

    private static double TMax(SyntheticEcg e, string lead) => PerBeat(e, o => { var (a, b) = TWindow(e, o); return Max(e, lead, a, b); });

    private static double QrsPeakToPeak(SyntheticEcg e, string lead) => PerBeat(e, o =>
    {
        int a = o - S(e, 0.03), b = o + S(e, e.Truth.Qrs / 1000 + 0.02);
        return Max(e, lead, a, b) - Min(e, lead, a, b);
    });

    private static readonly string[] LimbLeads = ["I", "II", "III", "aVR", "aVF", "aVL"];
    private static readonly string[] Precordial = ["V1", "V2", "V3", "V4", "V5", "V6"];
    private static readonly string[] AllLeads = [.. LimbLeads, .. Precordial];

    /// <summary>Sinus P wave in II: the largest value in the 300 ms before QRS onset, outside the QRS.</summary>
    private static double PInII(SyntheticEcg e) => PerBeat(e, o => Max(e, "II", o - S(e, 0.3), o - S(e, 0.02)));

    private static double Sokolow(SyntheticEcg e) => PerBeat(e, o =>
    {
        int a = o - S(e, 0.02), b = o + S(e, e.Truth.Qrs / 1000 + 0.02);
        return -Min(e, "V1", a, b) + Math.Max(Max(e, "V5", a, b), Max(e, "V6", a, b));
    });

    /// <summary>Local extrema of a lead inside the QRS (slope sign changes ignoring flat steps).</summary>
    private static int QrsExtrema(SyntheticEcg e, string lead) => (int)PerBeat(e, o =>
    {
        int a = o - S(e, 0.01), b = o + S(e, e.Truth.Qrs / 1000 + 0.01), n = 0, last = 0;
        for (int s = a; s < b; s++)
        {
            double d = V(e, lead, s + 1) - V(e, lead, s);
            int sign = d > 2e-3 ? 1 : d < -2e-3 ? -1 : 0;
            if (sign != 0 && last != 0 && sign != last) n++;
            if (sign != 0) last = sign;
        }
        return n;
    });

    private static List<double> Rr(SyntheticEcg e)
    {
        var t = e.Truth.Beats.Select(b => b.QrsOnset).Where(x => x > 0 && x < e.Samples / e.SamplingRate).ToList();
        return t.Zip(t.Skip(1), (a, b) => b - a).ToList();
    }

    private static double RrCv(SyntheticEcg e)
    {
        var rr = Rr(e);
        double m = rr.Average();
        return Math.Sqrt(rr.Average(x => (x - m) * (x - m))) / m;
    }

    private static double Median(IEnumerable<double> x)
    {
        var v = x.OrderBy(y => y).ToList();
        return v[v.Count / 2];
    }

    /// <summary>RR of each premature beat (ventricular or atrial) relative to the median RR.</summary>
    private static IEnumerable<double> PrematureRatios(SyntheticEcg e, BeatKind kind)
    {
        var beats = e.Truth.Beats.Where(b => b.QrsOnset > 0).ToList();
        double med = Median(Rr(e));
        for (int i = 1; i < beats.Count; i++)
            if (beats[i].Kind == kind && beats[i].QrsOnset < e.Samples / e.SamplingRate) yield return (beats[i].QrsOnset - beats[i - 1].QrsOnset) / med;
    }

    private static EcgMeasurements Measure(SyntheticEcg e) => EcgMeasurer.Measure(e.Signal, e.Samples, e.SamplingRate, true, $"record {e.Index}");

    private static bool SinusP(SyntheticEcg e) => PInII(e) > 0.04 && e.Truth.PWaveOnsets.Count >= Onsets(e).Count;

    /// <summary>The signature of each statement, true when the record shows it.</summary>
    internal static readonly IReadOnlyDictionary<string, Func<SyntheticEcg, bool>> Signatures = new Dictionary<string, Func<SyntheticEcg, bool>>
    {
        // Rhythm.
        ["SR"] = e => SinusP(e) && Measure(e).HeartRateBpm is >= 58 and <= 102 && RrCv(e) < 0.06,
        ["SBRAD"] = e => SinusP(e) && Measure(e).HeartRateBpm < 60,
        ["STACH"] = e => SinusP(e) && Measure(e).HeartRateBpm > 100,
        ["SARRH"] = e => SinusP(e) && (Rr(e).Max() - Rr(e).Min()) / Rr(e).Average() > 0.15,
        ["AFIB"] = e => e.Truth.PWaveOnsets.Count == 0 && RrCv(e) > 0.1,
        ["AFLT"] = e => e.Truth.PWaveOnsets.Count == 0 && e.Truth.AtrialRate >= 250 && PerBeat(e, o => Max(e, "II", o - S(e, 0.2), o - S(e, 0.02)) - Min(e, "II", o - S(e, 0.2), o - S(e, 0.02))) > 0.08,
        ["PACE"] = e => Onsets(e).All(o => Enumerable.Range(o - S(e, 0.012), S(e, 0.012)).Any(s => Math.Abs(V(e, "II", s + 1) - V(e, "II", s)) > 0.8))
            && Measure(e).QrsMs >= 120,
        ["SVARR"] = e => PrematureRatios(e, BeatKind.AtrialPremature).Count(r => r < 0.8) >= 3,
        ["BIGU"] = e => Rr(e).Zip(Rr(e).Skip(1), (a, b) => Math.Min(a, b) / Math.Max(a, b)).Count(r => r < 0.8) >= 0.8 * (Rr(e).Count - 1),
        ["TRIGU"] = e => PrematureRatios(e, BeatKind.Ventricular).Concat(PrematureRatios(e, BeatKind.AtrialPremature)).Count(r => r < 0.8) >= 2
            && e.Truth.Beats.Count(b => b.Kind != BeatKind.Conducted) * 3 >= e.Truth.Beats.Count - 3,
        ["SVTAC"] = e => Measure(e).HeartRateBpm >= 150 && Measure(e).QrsMs < 110,
        ["PSVT"] = e => Rr(e).Min() < 60.0 / 150 && Rr(e).Max() > 60.0 / 110,
        // Form.
        ["PVC"] = e => PrematureRatios(e, BeatKind.Ventricular).Any(r => r < 0.8),
        ["PAC"] = e => PrematureRatios(e, BeatKind.AtrialPremature).Any(r => r < 0.85)
            && e.Truth.Beats.Where(b => b.Kind == BeatKind.AtrialPremature).All(b => Min(e, "II", S(e, b.QrsOnset - 0.2), S(e, b.QrsOnset - 0.02)) < -0.03),
        ["PRC(S)"] = e => PrematureRatios(e, BeatKind.Ventricular).Concat(PrematureRatios(e, BeatKind.AtrialPremature)).Any(r => r < 0.85),
        ["LPR"] = e => Measure(e).PrMs > 200,
        ["ABQRS"] = e => AllLeads.Max(l => QrsExtrema(e, l)) >= 5,
        ["STD_"] = e => AllLeads.Min(l => St(e, l)) <= -0.1,
        ["STE_"] = e => AllLeads.Max(l => St(e, l)) >= 0.1,
        ["NST_"] = e => AllLeads.Min(l => St20(e, l)) is >= -0.1 and <= -0.045,
        ["VCLVH"] = e => Sokolow(e) >= 3.5,
        ["HVOLT"] = e => LimbLeads.Max(l => QrsPeakToPeak(e, l)) >= 2.0,
        ["LVOLT"] = e => LimbLeads.Max(l => QrsPeakToPeak(e, l)) < 0.5 && Precordial.Max(l => QrsPeakToPeak(e, l)) < 1.0,
        ["QWAVE"] = e => AllLeads.Min(l => Q(e, l)) <= -0.2,
        ["LOWT"] = e => AllLeads.Max(l => Math.Abs(T(e, l))) is > 0.01 and < 0.1,
        ["INVT"] = e => Math.Min(T(e, "II"), T(e, "V5")) <= -0.1,
        ["NDT"] = e => T(e, "I") <= -0.03 && Precordial.Max(l => T(e, l)) >= 0.1,
        ["NT_"] = e => T(e, "aVF") <= -0.01 && T(e, "III") <= 0,
        ["TAB_"] = e => Precordial.Any(l => TMin(e, l) <= -0.05 && TMax(e, l) >= 0.05),
        // Diagnostic.
        ["NORM"] = e => SinusP(e) && Measure(e) is { QrsMs: < 110, QrsAxisDeg: >= -30 and <= 90, HeartRateBpm: >= 50 and <= 100 } && AllLeads.Max(l => Math.Abs(St(e, l))) < 0.05,
        ["1AVB"] = e => Measure(e).PrMs > 200,
        ["2AVB"] = e => e.Truth.PWaveOnsets.Any(p => p > 0.3 && p < e.Samples / e.SamplingRate - 0.6 && !e.Truth.Beats.Any(b => b.QrsOnset > p && b.QrsOnset < p + 0.5)
            && Max(e, "II", S(e, p), S(e, p + 0.1)) > 0.04),
        ["3AVB"] = e => Measure(e).HeartRateBpm < 50 && e.Truth.PWaveOnsets.Count >= 1.4 * e.Truth.Beats.Count
            && StandardDeviation(e.Truth.Beats.Select(b => b.QrsOnset - e.Truth.PWaveOnsets.Where(p => p < b.QrsOnset).DefaultIfEmpty(double.NaN).Max()).Where(double.IsFinite)) > 0.05,
        ["CLBBB"] = e => Measure(e).QrsMs >= 120 && QrsPeakToPeak(e, "V1") > 0 && PerBeat(e, o => Min(e, "V1", o, o + S(e, 0.12)) + Max(e, "V1", o, o + S(e, 0.12))) < 0,
        ["CRBBB"] = e => Measure(e).QrsMs >= 120 && PerBeat(e, o => V(e, "V1", o + S(e, 0.8 * e.Truth.Qrs / 1000))) > 0.1,
        ["ILBBB"] = e => Measure(e).QrsMs is >= 95 and < 125 && Q(e, "V6") > -0.05 && PerBeat(e, o => Min(e, "V1", o, o + S(e, 0.1)) + Max(e, "V1", o, o + S(e, 0.1))) < 0,
        ["IRBBB"] = e => Measure(e).QrsMs is >= 95 and < 125 && PerBeat(e, o => V(e, "V1", o + S(e, 0.8 * e.Truth.Qrs / 1000))) > 0.05,
        ["IVCD"] = e => Measure(e).QrsMs >= 110,
        ["WPW"] = e => Measure(e) is { PrMs: < 120, QrsMs: >= 110 },
        ["LAFB"] = e => Measure(e).QrsAxisDeg <= -40,
        ["LPFB"] = e => Measure(e).QrsAxisDeg >= 95,
        ["LVH"] = e => Sokolow(e) >= 3.5,
        ["RVH"] = e => InitialR(e, "V1") + PerBeat(e, o => Max(e, "V1", o, o + S(e, 0.1))) > 1.0 && PerBeat(e, o => Min(e, "V1", o, o + S(e, 0.1)) + Max(e, "V1", o, o + S(e, 0.1))) > 0 && Measure(e).QrsAxisDeg >= 90,
        ["SEHYP"] = e => Q(e, "V6") <= -0.2 && InitialR(e, "V1") >= 0.3,
        ["LAO/LAE"] = e => e.Truth.PDuration >= 110 && PerBeat(e, o => Min(e, "V1", o - S(e, 0.3), o - S(e, 0.02))) <= -0.05,
        ["RAO/RAE"] = e => PInII(e) >= 0.25,
        ["IMI"] = e => Math.Min(Q(e, "III"), Q(e, "aVF")) <= -0.2,
        ["ASMI"] = e => Q(e, "V2") <= -0.15,
        ["AMI"] = e => Math.Min(Q(e, "V2"), Q(e, "V3")) <= -0.15,
        ["ALMI"] = e => Math.Min(Q(e, "V5"), Q(e, "V6")) <= -0.2,
        ["LMI"] = e => Math.Min(Q(e, "I"), Q(e, "aVL")) <= -0.2,
        ["ILMI"] = e => Q(e, "aVF") <= -0.15 && Math.Min(Q(e, "V5"), Q(e, "V6")) <= -0.15,
        ["IPMI"] = e => Q(e, "aVF") <= -0.15 && InitialR(e, "V1") >= 0.3,
        ["IPLMI"] = e => Q(e, "aVF") <= -0.15 && InitialR(e, "V1") >= 0.2,
        ["PMI"] = e => InitialR(e, "V1") >= 0.35,
        ["ANEUR"] = e => Math.Min(Q(e, "V2"), Q(e, "V3")) <= -0.15 && Math.Max(St(e, "V2"), St(e, "V3")) >= 0.1,
        ["INJAS"] = e => Math.Min(St(e, "V1"), St(e, "V2")) <= -0.1,
        ["INJAL"] = e => Math.Min(St(e, "V5"), St(e, "V6")) <= -0.1,
        ["INJIN"] = e => Math.Min(St(e, "III"), St(e, "aVF")) <= -0.1,
        ["INJLA"] = e => Math.Min(St(e, "I"), St(e, "aVL")) <= -0.1,
        ["INJIL"] = e => Math.Min(St(e, "aVF"), St(e, "V6")) <= -0.1,
        ["ISC_"] = e => Math.Min(T(e, "I"), T(e, "V5")) <= -0.05 && AllLeads.Min(l => St(e, l)) <= -0.03,
        ["ISCAL"] = e => Math.Min(T(e, "V5"), T(e, "V6")) <= -0.1,
        ["ISCIN"] = e => Math.Min(T(e, "III"), T(e, "aVF")) <= -0.1,
        ["ISCIL"] = e => Math.Min(T(e, "aVF"), T(e, "V6")) <= -0.1,
        ["ISCAS"] = e => Math.Min(T(e, "V1"), T(e, "V2")) <= -0.1,
        ["ISCLA"] = e => Math.Min(T(e, "I"), T(e, "aVL")) <= -0.1,
        ["ISCAN"] = e => Math.Min(T(e, "V2"), T(e, "V3")) <= -0.1,
        ["DIG"] = e => Measure(e).QtcBazettMs < 390 && AllLeads.Min(l => St(e, l)) <= -0.05,
        ["EL"] = e => PerBeat(e, o => Max(e, "V3", o + S(e, e.Truth.Qt / 1000 + 0.02), o + S(e, e.Truth.Qt / 1000 + 0.16))) >= 0.08,
        ["LNGQT"] = e => Measure(e).QtcBazettMs >= 470,
    };

    private static double StandardDeviation(IEnumerable<double> x)
    {
        var v = x.ToList();
        double m = v.Average();
        return Math.Sqrt(v.Average(y => (y - m) * (y - m)));
    }

    [Theory]
    [MemberData(nameof(AllCodes))]
    public void EveryStatementShowsItsSignature(string code)
    {
        Assert.True(Signatures.ContainsKey(code), $"statement {code} has no signature check");
        for (int i = 0; i < 3; i++)
        {
            var e = Clean.GenerateWithStatements(i, [(code, 100)]);
            Assert.True(Signatures[code](e), $"{code}: record {i} does not show the signature");
        }
    }

    /// <summary>Signatures that a plain sinus-rhythm record must not show: they are the statements', not the normal ECG's.</summary>
    public static TheoryData<string> SpecificCodes()
    {
        var d = new TheoryData<string>();
        foreach (string c in Source.Value.Codes)
            if (c is not ("SR" or "NORM" or "LMI" or "QWAVE")) d.Add(c);
        return d;
    }

    [Theory]
    [MemberData(nameof(SpecificCodes))]
    public void PlainSinusRecordsDoNotShowTheSignature(string code)
    {
        for (int i = 0; i < 6; i++)
        {
            var e = Clean.GenerateWithStatements(100 + i, [("SR", 0)]);
            Assert.False(Signatures[code](e), $"{code}: the sinus-rhythm record {100 + i} shows its signature");
        }
    }
}
