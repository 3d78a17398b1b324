namespace Deri.Synthetic;

/// <summary>The rhythm family of a record.</summary>
internal enum RhythmKind { Sinus, Fibrillation, Flutter }

/// <summary>
/// The per-record drawn physiology: rates, intervals and the dipole waves of a conducted beat and of a
/// premature ventricular complex. Times in seconds; wave times relative to QRS onset.
/// </summary>
internal sealed partial class BeatPlan
{
    public RhythmKind Rhythm { get; private init; }
    /// <summary>Target mean RR in seconds (for flutter: F-wave period × conduction ratio).</summary>
    public double Rr { get; private set; }
    public double AtrialRate { get; private set; }
    public bool HasP => Rhythm == RhythmKind.Sinus;
    public double Pr { get; private set; }
    public double PDuration { get; private set; }
    public double Qrs { get; private set; }
    public double Qt { get; private set; }
    public double PvcQrs { get; private set; }
    public int? FlutterConduction { get; private set; }
    /// <summary>Flutter ratios to cycle through beat by beat (one entry for a fixed ratio).</summary>
    public int[] FlutterRatios { get; private set; } = [];
    /// <summary>AF ventricular RR coefficient of variation (log-normal sigma).</summary>
    public double AfIrregularity { get; private set; }
    /// <summary>Respiratory sinus arrhythmia depth (fraction of RR).</summary>
    public double SinusArrhythmia { get; private set; }
    public int PvcCount { get; set; }
    /// <summary>Time of an F-wave start, the phase origin of the continuous flutter waves.</summary>
    public double FlutterOrigin { get; set; }
    public double PvcCoupling { get; private set; }
    /// <summary>AV conduction delay from an F wave to the QRS in flutter.</summary>
    public double FlutterDelay { get; private set; }

    public List<DipoleWave> PWaves { get; } = [];
    public List<DipoleWave> QrsWaves { get; } = [];
    public List<DipoleWave> TWaves { get; } = [];
    public List<DipoleWave> StWaves { get; } = [];
    public List<DipoleWave>? PvcWaves { get; private set; }

    /// <summary>Direction and amplitude (mV) of the atrial fibrillation or flutter waves.</summary>
    public Vec3 AtrialVector { get; private set; }

    public IEnumerable<DipoleWave> ConductedWaves() => (HasP ? PWaves : []).Concat(QrsWaves).Concat(TWaves).Concat(StWaves);

    public static BeatPlan Draw(SyntheticRandom rng, HashSet<EcgCondition> c, bool male)
    {
        var rhythm = c.Contains(EcgCondition.AtrialFibrillation) ? RhythmKind.Fibrillation
            : c.Contains(EcgCondition.AtrialFlutter) ? RhythmKind.Flutter : RhythmKind.Sinus;
        var p = new BeatPlan { Rhythm = rhythm };
        p.DrawRate(rng, c);

        bool rbbb = c.Contains(EcgCondition.RightBundleBranchBlock), lbbb = c.Contains(EcgCondition.LeftBundleBranchBlock);
        bool lvh = c.Contains(EcgCondition.LeftVentricularHypertrophy);
        p.Qrs = rbbb || lbbb ? rng.Uniform(0.13, 0.165) : rng.Uniform(0.078, 0.1) + (lvh ? 0.006 : 0);
        // PR shortens a little with rate; first-degree block is clearly above 200 ms.
        p.Pr = c.Contains(EcgCondition.FirstDegreeAvBlock) ? rng.Uniform(0.225, 0.34) : rng.Uniform(0.125, 0.185) - 0.02 * Math.Max(0, 0.6 - p.Rr);
        double qtc = c.Contains(EcgCondition.LongQt) ? rng.Uniform(0.49, 0.57) : male ? rng.Uniform(0.37, 0.43) : rng.Uniform(0.38, 0.44);
        p.Qt = qtc * Math.Sqrt(p.Rr) + (rbbb || lbbb ? p.Qrs - 0.09 : 0);
        p.Qt = Math.Max(p.Qt, p.Qrs + 0.17);

        // Low voltage (effusion, obesity, emphysema) attenuates every wave, not only the QRS it is defined by.
        p._damp = c.Contains(EcgCondition.LowQrsVoltage) ? rng.Uniform(0.4, 0.55) : 1;
        p.DrawP(rng);
        p.DrawQrs(rng, c);
        p.DrawRepolarisation(rng, c);
        if (c.Contains(EcgCondition.PrematureVentricularComplexes)) p.DrawPvc(rng);
        if (rhythm == RhythmKind.Fibrillation)
            p.AtrialVector = p._damp * rng.Uniform(0.03, 0.1) * new Vec3(rng.Uniform(-0.2, 0.3), rng.Uniform(0.4, 0.8), 1).Normalized();
        else if (rhythm == RhythmKind.Flutter)
            // Typical (counter-clockwise) flutter: negative sawtooth in II, III, aVF, positive in V1.
            p.AtrialVector = p._damp * rng.Uniform(0.1, 0.2) * new Vec3(rng.Uniform(-0.2, 0.1), -1, rng.Uniform(0.3, 0.6)).Normalized();
        return p;
    }

    private void DrawRate(SyntheticRandom rng, HashSet<EcgCondition> c)
    {
        switch (Rhythm)
        {
            case RhythmKind.Sinus:
                double hr = c.Contains(EcgCondition.SinusBradycardia) ? rng.Uniform(42, 57)
                    : c.Contains(EcgCondition.SinusTachycardia) ? rng.Uniform(105, 150)
                    : rng.Uniform(62, 97);
                Rr = 60 / hr;
                AtrialRate = hr;
                SinusArrhythmia = rng.Uniform(0.005, 0.035);
                break;
            case RhythmKind.Fibrillation:
                double u = rng.NextDouble();
                double vr = u < 0.3 ? rng.Uniform(108, 150) : u < 0.45 ? rng.Uniform(42, 56) : rng.Uniform(64, 96);
                Rr = 60 / vr;
                AfIrregularity = rng.Uniform(0.18, 0.32);
                AtrialRate = Math.Round(rng.Uniform(300, 480));
                break;
            case RhythmKind.Flutter:
                double atrial = rng.Uniform(250, 340);
                double k = rng.NextDouble();
                FlutterRatios = k < 0.45 ? [2] : k < 0.65 ? [4] : k < 0.7 ? [3] : rng.Chance(0.5) ? [2, 4] : [2, 3, 4];
                FlutterConduction = FlutterRatios.Length == 1 ? FlutterRatios[0] : 0;
                AtrialRate = atrial;
                Rr = 60 / atrial * FlutterRatios.Average();
                FlutterDelay = rng.Uniform(0.14, 0.22);
                break;
        }
    }

    private void DrawP(SyntheticRandom rng)
    {
        double sigma = rng.Uniform(0.018, 0.023);
        PDuration = 5 * sigma;
        var dir = new Vec3(0.55, 0.75, 0.2).Normalized().RotateFrontal(rng.Normal(0, 8));
        PWaves.Add(DipoleWave.Gauss(-Pr + 2.5 * sigma, sigma, _damp * rng.Uniform(0.1, 0.2) * dir));
    }

    /// <summary>QRS voltage scale of the record (1 = typical); secondary repolarisation follows it.</summary>
    private double _voltage = 1;

    /// <summary>Attenuation of all non-QRS waves in low-voltage records (1 otherwise).</summary>
    private double _damp = 1;

    private void DrawQrs(SyntheticRandom rng, HashSet<EcgCondition> c)
    {
        double q = Qrs;
        double scale = rng.Uniform(0.8, 1.2);
        double horiz = rng.Normal(0, 8);
        if (c.Contains(EcgCondition.RightBundleBranchBlock))
        {
            // Normal early activation compressed into ~75 ms, then slow right-ventricular activation:
            // a late rightward-anterior wave = R' in V1 and a wide S in I and V6.
            Add(QrsWaves, 0.015, 0.0065, scale * new Vec3(-0.12, 0.02, 0.25));
            Add(QrsWaves, 0.037, 0.009, scale * new Vec3(0.85, 0.8, 0.05));
            Add(QrsWaves, 0.06, 0.008, scale * new Vec3(-0.1, -0.15, -0.45));
            Add(QrsWaves, (q + 0.06) / 2, (q - 0.06) / 5, scale * new Vec3(-0.55, -0.1, 0.75));
            Rotate(QrsWaves, rng.Normal(0, 12), horiz);
        }
        else if (c.Contains(EcgCondition.LeftBundleBranchBlock))
        {
            // No septal q; slow leftward-posterior activation in two fronts = broad notched R in I, aVL,
            // V5–V6 and a deep S (QS) in V1.
            double k = 1.3 * scale;
            Add(QrsWaves, 0.3 * q, 0.13 * q, k * new Vec3(0.8, 0.15, -0.4));
            Add(QrsWaves, 0.68 * q, 0.12 * q, k * new Vec3(0.85, -0.05, -0.45));
            Rotate(QrsWaves, rng.Normal(-10, 12), horiz);
        }
        else
        {
            Add(QrsWaves, 0.18 * q, 0.075 * q, scale * new Vec3(-0.12, 0.02, 0.22));
            Add(QrsWaves, 0.42 * q, 0.1 * q, scale * new Vec3(0.95, 0.85, 0.1));
            Add(QrsWaves, 0.7 * q, 0.085 * q, scale * new Vec3(-0.25, -0.25, -0.75));
            double baseAxis = QrsAxisOf(QrsWaves);
            double target = c.Contains(EcgCondition.Normal) ? rng.Uniform(-10, 80) : Math.Clamp(rng.Normal(45, 32), -75, 130);
            Rotate(QrsWaves, target - baseAxis, horiz);
        }
        _voltage = scale * CalibrateVoltage(rng, c);
    }

    /// <summary>
    /// Scales the QRS so that the voltage criteria hold as drawn: LVH has a Sokolow–Lyon index
    /// (S in V1 + the larger R in V5/V6) of 3.6–5.0 mV; low voltage has every limb lead below 0.5 mV and
    /// every precordial lead below 1.0 mV peak to peak; other records stay between (Sokolow–Lyon ≤ 3.3 mV,
    /// limb leads ≥ 0.6 mV, precordial ≥ 1.1 mV). Returns the factor applied.
    /// </summary>
    private double CalibrateVoltage(SyntheticRandom rng, HashSet<EcgCondition> c)
    {
        var (sokolow, limb, precordial) = QrsVoltages(QrsWaves);
        double k;
        if (c.Contains(EcgCondition.LeftVentricularHypertrophy)) k = rng.Uniform(3.6, 5.0) / sokolow;
        else if (c.Contains(EcgCondition.LowQrsVoltage)) k = Math.Min(rng.Uniform(0.3, 0.45) / limb, rng.Uniform(0.6, 0.9) / precordial);
        else
        {
            k = Math.Min(1, rng.Uniform(2.6, 3.3) / sokolow);
            k = Math.Max(k, Math.Max(0.6 / limb, 1.1 / precordial));
        }
        for (int i = 0; i < QrsWaves.Count; i++) QrsWaves[i] = QrsWaves[i] with { Amplitude = k * QrsWaves[i].Amplitude };
        return k;
    }

    /// <summary>Sokolow–Lyon index and the largest limb and precordial QRS peak-to-peak amplitudes (mV), noise-free.</summary>
    internal static (double Sokolow, double Limb, double Precordial) QrsVoltages(IReadOnlyList<DipoleWave> qrs)
    {
        double start = qrs.Min(w => w.Start), end = qrs.Max(w => w.End);
        var max = Enumerable.Repeat(double.MinValue, 12).ToArray();
        var min = Enumerable.Repeat(double.MaxValue, 12).ToArray();
        for (double t = start; t <= end; t += 0.001)
        {
            var v = new Vec3(0, 0, 0);
            foreach (var w in qrs) v += w.Shape(t) * w.Amplitude;
            var p = SyntheticEcgGenerator.Project(v);
            for (int l = 0; l < 12; l++) { max[l] = Math.Max(max[l], p[l]); min[l] = Math.Min(min[l], p[l]); }
        }
        double sokolow = -min[6] + Math.Max(max[10], max[11]);
        double limb = Enumerable.Range(0, 6).Max(l => max[l] - min[l]);
        double precordial = Enumerable.Range(6, 6).Max(l => max[l] - min[l]);
        return (sokolow, limb, precordial);
    }

    private void DrawRepolarisation(SyntheticRandom rng, HashSet<EcgCondition> c)
    {
        double sigmaT = rng.Uniform(0.036, 0.05) * Math.Clamp(Math.Sqrt(Rr / 0.85), 0.75, 1.2);
        double centreT = Qt - 2.5 * sigmaT;
        var qrsMean = new Vec3(0, 0, 0);
        foreach (var w in QrsWaves) qrsMean += w.Area * w.Amplitude;
        Vec3 t;
        bool bbb = c.Contains(EcgCondition.RightBundleBranchBlock) || c.Contains(EcgCondition.LeftBundleBranchBlock);
        if (bbb)
        {
            // Secondary repolarisation: T (and a small ST shift) opposite to the slow terminal QRS forces.
            var terminal = QrsWaves[^1].Amplitude.Normalized();
            double k = Math.Min(1.5, _voltage);
            t = -k * rng.Uniform(0.25, 0.4) * terminal;
            StWaves.Add(DipoleWave.Plateau(Qrs - 0.02, centreT, 0.006, -k * rng.Uniform(0.05, 0.1) * terminal, 0.8 * sigmaT));
        }
        else
        {
            // Normal T roughly follows the QRS axis in the frontal plane, pointing anterior-left.
            double axis = qrsMean.FrontalAxis;
            t = rng.Uniform(0.28, 0.5) * new Vec3(0.55, 0.5, 0.4).Normalized().RotateFrontal(Math.Clamp((axis - 42) * 0.6, -40, 40));
        }
        if (c.Contains(EcgCondition.TWaveInversion)) t = -rng.Uniform(0.7, 1.2) * t;
        // ST shifts rise from late in the QRS (the J point sits on the shifted level) and merge into the T wave.
        if (c.Contains(EcgCondition.InferiorStElevation))
        {
            // Right-coronary injury current: inferior and slightly rightward (III ≥ II, reciprocal aVL).
            var dir = new Vec3(rng.Uniform(-0.3, 0), 1, rng.Uniform(-0.1, 0.1)).Normalized();
            double a = rng.Uniform(0.22, 0.45);
            StWaves.Add(DipoleWave.Plateau(Qrs - 0.02, centreT, 0.006, a * dir, 0.8 * sigmaT));
            t += 0.4 * a * dir;
        }
        if (c.Contains(EcgCondition.AnteriorStElevation))
        {
            var dir = new Vec3(rng.Uniform(-0.3, -0.1), rng.Uniform(-0.1, 0.1), 1).Normalized();
            double a = rng.Uniform(0.18, 0.35);
            StWaves.Add(DipoleWave.Plateau(Qrs - 0.02, centreT, 0.006, a * dir, 0.8 * sigmaT));
            t += 0.4 * a * dir;
        }
        if (c.Contains(EcgCondition.StDepression))
        {
            // Subendocardial ischaemia: ST vector towards aVR, depressing the lateral and inferior leads.
            var dir = new Vec3(-0.75, -0.43, -0.3).Normalized().RotateFrontal(rng.Normal(0, 10));
            StWaves.Add(DipoleWave.Plateau(Qrs - 0.02, centreT, 0.006, rng.Uniform(0.12, 0.26) * dir, 0.8 * sigmaT));
            // Ischaemic depression flattens the T wave (unless it is inverted outright).
            if (!c.Contains(EcgCondition.TWaveInversion)) t = rng.Uniform(0.3, 0.6) * t;
        }
        // ST shifts are not damped by low voltage: the injury current is what the ST label is about.
        TWaves.Add(DipoleWave.Gauss(centreT, sigmaT, _damp * t));
    }

    private void DrawPvc(SyntheticRandom rng)
    {
        PvcCount = rng.Chance(0.5) ? 1 : rng.Int(2, 4);
        PvcCoupling = rng.Uniform(0.5, 0.68);
        PvcQrs = rng.Uniform(0.15, 0.19);
        // Ectopic beats share the record's voltage: large with LVH, small with low voltage.
        double q = PvcQrs, amp = rng.Uniform(2.2, 3.2) * Math.Max(_damp, Math.Min(_voltage, 2));
        double sup = rng.Chance(0.5) ? 1 : -1;
        // Right-ventricular origin looks like LBBB, left-ventricular origin like RBBB.
        var dir = (rng.Chance(0.6) ? new Vec3(0.8, 0.35 * sup, -0.5) : new Vec3(-0.6, 0.4 * sup, 0.7)).Normalized().RotateFrontal(rng.Normal(0, 15));
        PvcWaves =
        [
            DipoleWave.Gauss(0.3 * q, 0.11 * q, 0.8 * amp * dir),
            DipoleWave.Gauss(0.7 * q, 0.1 * q, 0.6 * amp * dir.RotateFrontal(25)),
            DipoleWave.Gauss(q + 0.2, 0.06, -0.2 * amp * dir),
        ];
    }

    private static void Add(List<DipoleWave> list, double centre, double sigma, Vec3 a) => list.Add(DipoleWave.Gauss(centre, sigma, a));

    private static void Rotate(List<DipoleWave> list, double frontal, double horizontal)
    {
        for (int i = 0; i < list.Count; i++)
            list[i] = list[i] with { Amplitude = list[i].Amplitude.RotateFrontal(frontal).RotateHorizontal(horizontal) };
    }

    private static double QrsAxisOf(IEnumerable<DipoleWave> waves)
    {
        var sum = new Vec3(0, 0, 0);
        foreach (var w in waves) sum += w.Area * w.Amplitude;
        return sum.FrontalAxis;
    }
}
