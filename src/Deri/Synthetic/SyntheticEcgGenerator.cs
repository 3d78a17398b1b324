namespace Deri.Synthetic;

/// <summary>
/// Generates synthetic 12-lead ECGs with paired machine-style reports and ground truth.
/// <para>
/// Each beat is a sum of Gaussian waves (P, q, R, S, T and the extra waves of bundle branch blocks and
/// ventricular ectopy) of a 3-D cardiac dipole — a vectorcardiogram — plus plateau waves for ST-segment
/// shifts. The dipole is projected onto lead I, lead II and the six precordial lead vectors; electrode-level
/// noise (baseline wander, mains, muscle, electrode motion) is added per electrode (RA, LA, LL, V1–V6) and
/// III, aVR, aVL, aVF are then derived exactly as an electrocardiograph does, so Einthoven's law and the
/// augmented-lead identities hold for the noisy signal too.
/// </para>
/// <para>A record is a pure function of (<see cref="SyntheticEcgConfig.Seed"/>, index): generate in any order, on any thread.</para>
/// </summary>
public sealed partial class SyntheticEcgGenerator
{
    /// <summary>Lead order of the output (MIMIC-IV-ECG's): I, II, III, aVR, aVF, aVL, V1–V6.</summary>
    public static IReadOnlyList<string> Leads { get; } = ["I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6"];

    // Precordial lead vectors: horizontal-plane angle from the patient's left towards anterior, a small
    // inferior tilt for the lower electrodes, and a gain for their closeness to the heart.
    private static readonly Vec3[] Precordial = BuildPrecordial();

    private static Vec3[] BuildPrecordial()
    {
        double[] angle = [115, 94, 76, 60, 36, 0];
        double[] tilt = [0, 0, 0.05, 0.1, 0.12, 0.15];
        double[] gain = [1.0, 1.4, 1.5, 1.5, 1.3, 1.05];
        var v = new Vec3[6];
        for (int k = 0; k < 6; k++)
        {
            double a = angle[k] * Math.PI / 180;
            v[k] = gain[k] * new Vec3(Math.Cos(a), tilt[k], Math.Sin(a));
        }
        return v;
    }

    private static readonly Vec3 LeadI = new(1, 0, 0);
    private static readonly Vec3 LeadII = new(0.5, Math.Sqrt(3) / 2, 0);

    /// <summary>Creates a generator.</summary>
    /// <exception cref="ArgumentException">The configuration is invalid.</exception>
    public SyntheticEcgGenerator(SyntheticEcgConfig config)
    {
        config.Validate();
        Config = config;
    }

    /// <summary>The configuration.</summary>
    public SyntheticEcgConfig Config { get; }

    /// <summary>Projection of a dipole vector onto the 12 leads (output lead order), noise-free.</summary>
    public static double[] Project(Vec3 v)
    {
        double i = v.Dot(LeadI), ii = v.Dot(LeadII);
        var r = new double[12];
        r[0] = i; r[1] = ii; r[2] = ii - i; r[3] = -(i + ii) / 2; r[4] = ii - i / 2; r[5] = i - ii / 2;
        for (int k = 0; k < 6; k++) r[6 + k] = v.Dot(Precordial[k]);
        return r;
    }

    /// <summary>Generates record <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public SyntheticEcg Generate(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var rng = new SyntheticRandom(Config.Seed, index);
        if (Statements is not null) return FromStatements(index, rng, null);
        var conditions = ConditionSampler.Sample(rng, Config.NormalFraction);
        bool male = rng.Chance(conditions.Contains(EcgCondition.LeftVentricularHypertrophy) ? 0.65 : 0.5);
        bool elderly = conditions.Overlaps([EcgCondition.AtrialFibrillation, EcgCondition.AtrialFlutter, EcgCondition.LeftBundleBranchBlock, EcgCondition.LeftVentricularHypertrophy]);
        int age = (int)Math.Round(Math.Clamp(rng.Normal(elderly ? 70 : 57, 15), 18, 95));

        var plan = BeatPlan.Draw(rng, conditions, male);
        double fs = Config.SamplingRate, dur = Config.DurationSeconds;
        int n = Config.Samples;
        var beats = Rhythm.Schedule(rng, plan, conditions, dur);
        if (conditions.Contains(EcgCondition.PrematureVentricularComplexes) && plan.PvcCount == 0)
        {
            // Too short a record to place a PVC: the label must not claim one.
            conditions.Remove(EcgCondition.PrematureVentricularComplexes);
            if (conditions.Count == 0) conditions.Add(EcgCondition.Normal);
        }

        // Dipole buffer (3, n): x, y, z.
        var dipole = new float[3 * n];
        // Every conducted beat of a record shares one template (with a P wave exactly when the rhythm is sinus).
        var conducted = new BeatTemplate(plan.ConductedWaves(), fs);
        var pvc = plan.PvcWaves is null ? null : new BeatTemplate(plan.PvcWaves, fs);
        foreach (var b in beats)
        {
            int onset = (int)Math.Round(b.QrsOnset * fs);
            var t = b.Kind == BeatKind.Ventricular ? pvc! : conducted;
            t.AddTo(dipole, n, onset);
        }
        Rhythm.AddAtrialActivity(rng, plan, dipole, n, fs);
        var (signal, mains) = LeadsWithNoise(rng, dipole, n, fs);

        var truth = BuildTruth(plan, beats, dur, mains);
        // The wording has its own stream, so a record reads the same at every noise level.
        var statements = SyntheticReports.Write(new SyntheticRandom(~Config.Seed, index), conditions, plan, truth);
        return new SyntheticEcg
        {
            Index = index, SamplingRate = fs, Samples = n, Signal = signal, Conditions = conditions,
            Statements = statements, Age = age, Sex = male ? "M" : "F", Truth = truth,
        };
    }

    /// <summary>The 12 leads of a (3, n) dipole: I, II and V1–V6 projected, electrode noise added, III, aVR, aVF, aVL derived.</summary>
    private (float[] Signal, int Mains) LeadsWithNoise(SyntheticRandom rng, float[] dipole, int n, double fs)
    {
        var signal = new float[12 * n];
        Span<float> lI = signal.AsSpan(0, n), lII = signal.AsSpan(n, n);
        for (int s = 0; s < n; s++)
        {
            float x = dipole[s], y = dipole[n + s], z = dipole[2 * n + s];
            lI[s] = x;
            lII[s] = (float)(LeadII.X * x + LeadII.Y * y);
            for (int k = 0; k < 6; k++)
            {
                var v = Precordial[k];
                signal[(6 + k) * n + s] = (float)(v.X * x + v.Y * y + v.Z * z);
            }
        }
        int mains = 60;
        if (Config.Noise != NoiseLevel.None) mains = NoiseModel.Add(rng, Config.Noise, signal, n, fs);
        DeriveLimbLeads(signal, n);
        return (signal, mains);
    }

    /// <summary>III, aVR, aVF, aVL from I and II (channels 0 and 1) into channels 2–5, as an electrocardiograph derives them.</summary>
    private static void DeriveLimbLeads(float[] signal, int n)
    {
        for (int s = 0; s < n; s++)
        {
            float i = signal[s], ii = signal[n + s];
            signal[2 * n + s] = ii - i;
            signal[3 * n + s] = -(i + ii) / 2;
            signal[4 * n + s] = ii - i / 2;
            signal[5 * n + s] = i - ii / 2;
        }
    }

    private static SyntheticGroundTruth BuildTruth(BeatPlan plan, List<SyntheticBeat> beats, double dur, int mains)
    {
        // Beat time = R peak (≈ 40 % into the QRS); only beats whose peak lies clearly inside the record count.
        var times = beats.Select(b => b.QrsOnset + 0.4 * (b.Kind == BeatKind.Ventricular ? plan.PvcQrs : plan.Qrs))
            .Where(t => t >= 0.15 && t <= dur - 0.15).ToList();
        double meanRr = times.Count >= 2 ? (times[^1] - times[0]) / (times.Count - 1) : plan.Rr;
        double j60 = plan.Qrs + 0.06;
        var st = new float[12];
        foreach (var w in plan.StWaves)
        {
            var p = Project(w.Shape(j60) * w.Amplitude);
            for (int c = 0; c < 12; c++) st[c] += (float)p[c];
        }
        return new SyntheticGroundTruth
        {
            HeartRate = 60 / meanRr,
            MeanRr = meanRr * 1000,
            AtrialRate = plan.AtrialRate,
            Pr = plan.HasP ? plan.Pr * 1000 : null,
            PDuration = plan.HasP ? plan.PDuration * 1000 : null,
            Qrs = plan.Qrs * 1000,
            Qt = plan.Qt * 1000,
            Qtc = plan.Qt / Math.Sqrt(plan.Rr) * 1000,
            StShift = st,
            PAxis = plan.HasP ? Axis(plan.PWaves) : null,
            QrsAxis = Axis(plan.QrsWaves),
            TAxis = Axis(plan.TWaves),
            Beats = beats,
            FlutterConduction = plan.FlutterConduction,
            MainsFrequency = mains,
        };
    }

    /// <summary>Frontal axis of the area-weighted sum of waves, in degrees (−180, 180].</summary>
    private static double Axis(IEnumerable<DipoleWave> waves)
    {
        var sum = new Vec3(0, 0, 0);
        foreach (var w in waves) sum += w.Area * w.Amplitude;
        return Math.Round(sum.FrontalAxis);
    }
}
