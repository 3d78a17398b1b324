namespace Deri.Synthetic;

/// <summary>
/// The PTB-XL statement mode of <see cref="BeatPlan"/>: the legacy drawing (rate, P, QRS, repolarisation, PVC) with
/// the statements' changes applied between its steps. P waves are kept apart from the QRS–T here (times relative to
/// P onset) so that rhythms with P waves not followed by a QRS (second- and third-degree block) and premature atrial
/// beats with their own P can be placed. The legacy mode never calls this file.
/// </summary>
internal sealed partial class BeatPlan
{
    /// <summary>The statement effects of the record (statement mode only).</summary>
    public StatementEffects? Effects { get; private set; }
    /// <summary>Whether sinus (or dissociated sinus) P waves are drawn.</summary>
    public bool PVisible { get; private set; }
    /// <summary>Ventricular pacing spike, relative to QRS onset.</summary>
    public List<DipoleWave> SpikeWaves { get; } = [];
    /// <summary>Atrial pacing spike, relative to P onset (dual-chamber pacing).</summary>
    public List<DipoleWave> AtrialSpikeWaves { get; } = [];
    /// <summary>P wave of premature atrial beats (low-atrial focus), relative to P onset.</summary>
    public List<DipoleWave> EctopicPWaves { get; } = [];
    /// <summary>RR of the tachycardia run of PSVT, seconds.</summary>
    public double SvtRr { get; private set; }
    /// <summary>Second-degree block: 1 = Mobitz I (Wenckebach), 2 = Mobitz II; 0 = none.</summary>
    public int MobitzType { get; private set; }
    /// <summary>P waves per group in second-degree block, the last one not conducted.</summary>
    public int MobitzCycle { get; private set; }
    /// <summary>Mobitz I: the PR prolongation from the first to the last conducted beat of a group, seconds.</summary>
    public double MobitzPrStep { get; private set; }

    public static BeatPlan DrawStatements(SyntheticRandom rng, StatementEffects fx, bool male)
    {
        var c = fx.RenderSet;
        var rhythm = fx.Rhythm switch
        {
            StatementRhythmKind.Fibrillation => RhythmKind.Fibrillation,
            StatementRhythmKind.Flutter => RhythmKind.Flutter,
            _ => RhythmKind.Sinus,
        };
        var p = new BeatPlan { Rhythm = rhythm, Effects = fx };
        p.DrawRate(rng, c);
        bool ddd = false;
        switch (fx.Rhythm)
        {
            case StatementRhythmKind.Svt:
                p.Rr = 60 / rng.Uniform(150, 220);
                p.AtrialRate = 60 / p.Rr;
                p.SinusArrhythmia = 0.003;
                break;
            case StatementRhythmKind.CompleteBlock:
                // Escape rate at a non-integer fraction of the atrial rate, so that the dissociation shows within 10 s.
                p.AtrialRate = rng.Uniform(62, 95);
                p.Rr = 60 / Math.Clamp(p.AtrialRate / rng.Uniform(2.3, 2.9), 28, 45);
                p.SinusArrhythmia = rng.Uniform(0.005, 0.02);
                break;
        }
        if (fx.Paced)
        {
            // Ventricular pacing at the lower rate; dual-chamber (atrial spike + P) in half of the sinus records.
            p.Rr = 60 / rng.Uniform(60, 80);
            ddd = rhythm == RhythmKind.Sinus && rng.Chance(0.5);
            if (rhythm == RhythmKind.Sinus) p.AtrialRate = 60 / p.Rr;
            p.SinusArrhythmia = 0;
        }
        if (fx.SinusArrhythmia) p.SinusArrhythmia = rng.Uniform(0.1, 0.16);
        if (fx.Paroxysm) p.SvtRr = 60 / rng.Uniform(160, 220);
        if (fx.SecondDegreeBlock)
        {
            p.MobitzType = rng.Chance(0.6) ? 1 : 2;
            p.MobitzCycle = rng.Int(3, 6);
            p.MobitzPrStep = rng.Uniform(0.12, 0.2);
        }
        p.PVisible = fx.Rhythm == StatementRhythmKind.CompleteBlock || rhythm == RhythmKind.Sinus && fx.Rhythm != StatementRhythmKind.Svt && (!fx.Paced || ddd);

        bool lvh = c.Contains(EcgCondition.LeftVentricularHypertrophy);
        p.Qrs = fx.Conduction switch
        {
            ConductionKind.Lbbb or ConductionKind.Rbbb => rng.Uniform(0.13, 0.165),
            ConductionKind.Paced => rng.Uniform(0.14, 0.18),
            ConductionKind.IncompleteLbbb or ConductionKind.IncompleteRbbb => rng.Uniform(0.1, 0.115),
            ConductionKind.Ivcd => rng.Uniform(0.115, 0.135),
            _ when fx.Rhythm == StatementRhythmKind.CompleteBlock => rng.Uniform(0.1, 0.125),
            _ => rng.Uniform(0.078, 0.1) + (lvh ? 0.006 : 0),
        };
        p.Pr = fx.Conduction == ConductionKind.Wpw ? rng.Uniform(0.085, 0.11)
            : ddd ? rng.Uniform(0.14, 0.18)
            : c.Contains(EcgCondition.FirstDegreeAvBlock) ? rng.Uniform(0.225, 0.34)
            : p.MobitzType == 1 ? rng.Uniform(0.15, 0.19)
            : rng.Uniform(0.125, 0.185) - 0.02 * Math.Max(0, 0.6 - p.Rr);
        double qtc = c.Contains(EcgCondition.LongQt) ? rng.Uniform(0.49, 0.57)
            : fx.Digitalis ? rng.Uniform(0.33, 0.365)
            : male ? rng.Uniform(0.37, 0.43) : rng.Uniform(0.38, 0.44);
        bool wide = fx.Conduction is ConductionKind.Lbbb or ConductionKind.Rbbb or ConductionKind.Paced or ConductionKind.Ivcd;
        // A PSVT run shares the template: its QT is that of the tachycardia, so T never runs into the next QRS.
        double qtRr = fx.Paroxysm ? p.SvtRr : p.Rr;
        p.Qt = qtc * Math.Sqrt(qtRr) + (wide ? p.Qrs - 0.09 : 0);
        p.Qt = Math.Max(p.Qt, p.Qrs + 0.17);

        p._damp = c.Contains(EcgCondition.LowQrsVoltage) ? rng.Uniform(0.4, 0.55) : 1;
        p.DrawP(rng);
        p.ReshapeP(rng, fx);
        // Without an axis statement (LAFB, LPFB, RVH, pacing) the axis stays normal (−10° to 80°), so that the axis
        // statements are the only records with a deviated axis.
        bool axisStatement = fx.LeftAnteriorFascicular || fx.LeftPosteriorFascicular || fx.Rvh || fx.Paced;
        p.DrawQrs(rng, axisStatement ? c : [.. c, EcgCondition.Normal]);
        p.ReshapeQrs(rng, fx);
        p.DrawRepolarisation(rng, c);
        p.ReshapeRepolarisation(rng, fx);
        if (fx.VentricularPrematures || fx.Ectopy != EctopyPattern.None && fx.PatternVentricular) p.DrawPvc(rng);
        if (fx.AtrialPrematures > 0 || fx.Ectopy != EctopyPattern.None && !fx.PatternVentricular)
        {
            double sigma = rng.Uniform(0.016, 0.02);
            var dir = new Vec3(0.45, -0.75, 0.3).Normalized().RotateFrontal(rng.Normal(0, 10));
            p.EctopicPWaves.Add(DipoleWave.Gauss(2.5 * sigma, sigma, p._damp * rng.Uniform(0.08, 0.15) * dir));
        }
        if (fx.Paced)
        {
            // Pacing spikes: ~1 ms wide, 2–4 mV, bipolar-lead direction varies with the lead position.
            var dir = new Vec3(rng.Uniform(-0.3, 0.3), rng.Uniform(0.6, 1), rng.Uniform(-0.8, -0.3)).Normalized();
            p.SpikeWaves.Add(DipoleWave.Gauss(-0.004, 0.0008, rng.Uniform(2, 4) * dir));
            if (ddd) p.AtrialSpikeWaves.Add(DipoleWave.Gauss(-0.004, 0.0008, rng.Uniform(1.5, 3) * dir));
        }
        if (rhythm == RhythmKind.Fibrillation)
            p.AtrialVector = p._damp * rng.Uniform(0.03, 0.1) * new Vec3(rng.Uniform(-0.2, 0.3), rng.Uniform(0.4, 0.8), 1).Normalized();
        else if (rhythm == RhythmKind.Flutter)
            p.AtrialVector = p._damp * rng.Uniform(0.1, 0.2) * new Vec3(rng.Uniform(-0.2, 0.1), -1, rng.Uniform(0.3, 0.6)).Normalized();
        return p;
    }

    /// <summary>P waves relative to P onset; left atrial enlargement: wide notched P with a negative terminal part in V1; right atrial: tall peaked P.</summary>
    private void ReshapeP(SyntheticRandom rng, StatementEffects fx)
    {
        var sinusP = PWaves[0];
        PWaves.Clear();
        if (fx.RightAtrial && !fx.LeftAtrial)
        {
            double sigma = rng.Uniform(0.016, 0.019);
            var dir = new Vec3(0.25, 0.95, 0.25).Normalized().RotateFrontal(rng.Normal(0, 5));
            PWaves.Add(DipoleWave.Gauss(2.5 * sigma, sigma, _damp * rng.Uniform(0.28, 0.38) * dir));
            PDuration = 5 * sigma;
        }
        else if (fx.LeftAtrial)
        {
            // Right atrium first, the enlarged left atrium 35–45 ms later, leftward and posterior.
            double s1 = rng.Uniform(0.019, 0.023), s2 = rng.Uniform(0.018, 0.022), gap = rng.Uniform(0.035, 0.045);
            PWaves.Add(DipoleWave.Gauss(2.5 * s1, s1, (fx.RightAtrial ? 2.0 : 0.8) * sinusP.Amplitude));
            var dir = new Vec3(0.65, 0.25, -0.72).Normalized();
            PWaves.Add(DipoleWave.Gauss(2.5 * s1 + gap, s2, _damp * rng.Uniform(0.12, 0.17) * dir));
            PDuration = 2.5 * s1 + gap + 2.5 * s2;
        }
        else
        {
            PWaves.Add(sinusP with { Center = sinusP.Center + Pr });
        }
    }

    private void ReshapeQrs(SyntheticRandom rng, StatementEffects fx)
    {
        if (fx.Conduction == ConductionKind.IncompleteRbbb) QrsWaves[^1] = QrsWaves[^1] with { Amplitude = 0.55 * QrsWaves[^1].Amplitude };
        double? axis = fx.LeftAnteriorFascicular ? rng.Uniform(-75, -45)
            : fx.LeftPosteriorFascicular ? rng.Uniform(100, 140)
            : fx.Rvh ? rng.Uniform(100, 150)
            : fx.Conduction == ConductionKind.Paced ? rng.Uniform(-90, -60)
            : null;
        if (axis is { } a) Rotate(QrsWaves, a - QrsAxisOf(QrsWaves), 0);
        if (fx.Rvh)
        {
            // Dominant right-anterior forces: tall R in V1, S in V5–V6.
            QrsWaves[^1] = QrsWaves[^1] with { Amplitude = 0.3 * QrsWaves[^1].Amplitude };
            QrsWaves.Add(DipoleWave.Gauss(0.5 * Qrs, 0.1 * Qrs, rng.Uniform(0.8, 1.1) * new Vec3(-0.45, 0.35, 0.82).Normalized()));
        }
        // Hypertrophied septum: strong early rightward-anterior forces, deep narrow q in I, aVL, V5–V6 and a tall r in V1–V2.
        if (fx.SeptalHypertrophy) QrsWaves[0] = QrsWaves[0] with { Amplitude = rng.Uniform(0.6, 0.8) * new Vec3(-0.5, 0, 0.85).Normalized().RotateHorizontal(rng.Normal(0, 5)) };
        double scale = Math.Clamp(_voltage, 0.6, 1.2);
        foreach (var territory in fx.QTerritories)
        {
            // Necrosis removes the forces towards the territory: initial forces point away (Q waves), R is reduced.
            var dir = territory.Normalized();
            int main = 0;
            for (int i = 1; i < QrsWaves.Count; i++) if (QrsWaves[i].Amplitude.Length > QrsWaves[main].Amplitude.Length) main = i;
            var m = QrsWaves[main].Amplitude;
            double along = m.Dot(dir);
            if (along > 0) QrsWaves[main] = QrsWaves[main] with { Amplitude = m - 0.6 * along * dir };
            QrsWaves.Add(DipoleWave.Gauss(0.02, 0.01, -scale * rng.Uniform(0.45, 0.65) * dir));
        }
        if (fx.Fragmented)
        {
            // Fragmented QRS: two or three narrow notches inside the QRS.
            int k = rng.Int(3, 5);
            var dir = new Vec3(rng.Normal(), rng.Normal(), rng.Normal()).Normalized();
            double sign = 1;
            for (int i = 0; i < k; i++)
            {
                QrsWaves.Add(DipoleWave.Gauss(Qrs * (0.25 + 0.6 * (i + 0.5) / k), rng.Uniform(0.003, 0.0045), sign * rng.Uniform(0.25, 0.4) * dir));
                sign = -sign;
            }
        }
        if (fx.Conduction == ConductionKind.Wpw)
        {
            // Pre-excitation: a slow delta wave along the mean QRS forces starts the QRS; the rest follows it late.
            double d = rng.Uniform(0.03, 0.045);
            var mean = new Vec3(0, 0, 0);
            foreach (var w in QrsWaves) mean += w.Area * w.Amplitude;
            for (int i = 0; i < QrsWaves.Count; i++) QrsWaves[i] = QrsWaves[i] with { Center = QrsWaves[i].Center + d };
            QrsWaves.Insert(0, DipoleWave.Gauss(0.8 * d, 0.45 * d, rng.Uniform(0.3, 0.45) * mean.Normalized()));
            Qrs += d;
            Qt += d;
        }
        if (fx.HighVoltage)
        {
            var (_, limb, _) = QrsVoltages(QrsWaves);
            double k = rng.Uniform(2.1, 2.8) / limb;
            for (int i = 0; i < QrsWaves.Count; i++) QrsWaves[i] = QrsWaves[i] with { Amplitude = k * QrsWaves[i].Amplitude };
            _voltage *= k;
        }
    }

    private void ReshapeRepolarisation(SyntheticRandom rng, StatementEffects fx)
    {
        var tw = TWaves[0];
        double centreT = tw.Center, sigmaT = tw.Width;
        var t = tw.Amplitude;
        void St(Vec3 v, double edge = 0.006) => StWaves.Add(DipoleWave.Plateau(Qrs - 0.02, centreT, edge, v, 0.8 * sigmaT));
        // Projection of the T vector on a territory set to −b: T inverted in the territory leads.
        Vec3 Invert(Vec3 v, Vec3 territory, double b)
        {
            var n = territory.Normalized();
            return v - (v.Dot(n) + b) * n;
        }
        foreach (var d in fx.IschemiaTerritories) t = Invert(t, d, rng.Uniform(0.18, 0.3));
        if (fx.InfarctT) foreach (var d in fx.QTerritories) t = Invert(t, d, rng.Uniform(0.12, 0.25));
        if (fx.NonSpecificIschemia)
        {
            St(-rng.Uniform(0.05, 0.08) * new Vec3(0.7, 0.35, 0.55).Normalized());
            t = Invert(t, new Vec3(0.8, 0.2, 0.5), rng.Uniform(0.1, 0.2));
        }
        foreach (var d in fx.InjuryTerritories) St(-rng.Uniform(0.15, 0.28) * d.Normalized());
        if (fx.Aneurysm) St(rng.Uniform(0.15, 0.28) * StatementEffects.Anterior.Normalized());
        if (fx.NonSpecificStElevation) St(rng.Uniform(0.1, 0.17) * new Vec3(0.25, 0.45, 0.85).Normalized());
        if (fx.NonSpecificSt)
        {
            // Mild lateral ST depression, below the 0.1 mV of STD_ in every lead.
            var dir = new Vec3(-0.6, -0.5, -0.3).Normalized();
            St(rng.Uniform(0.06, 0.085) / SyntheticEcgGenerator.Project(dir).Max(Math.Abs) * dir);
        }
        if (fx.Digitalis)
        {
            // Sagging ("scooped") ST depression, slow to rise, running into a small inverted T; a short QT.
            St(rng.Uniform(0.1, 0.16) * new Vec3(-0.7, -0.45, -0.5).Normalized(), 0.02);
            t = -rng.Uniform(0.1, 0.25) * t;
        }
        if (fx.NonDiagnosticT) t = new Vec3(-rng.Uniform(0.05, 0.1), Math.Max(t.Y, 0.1), Math.Max(t.Z, 0.2));
        if (fx.NonSpecificT) t = new Vec3(0.5 * t.X, -rng.Uniform(0.03, 0.08), t.Z);
        if (fx.LowT)
        {
            double peak = SyntheticEcgGenerator.Project(t).Max(Math.Abs);
            t = rng.Uniform(0.05, 0.085) / Math.Max(peak, 1e-6) * t;
        }
        if (fx.Electrolyte) t = 0.5 * t;
        TWaves.Clear();
        if (fx.TAbnormality)
        {
            // Biphasic T: an early negative lobe before the positive one.
            TWaves.Add(DipoleWave.Gauss(centreT - 1.1 * sigmaT, 0.7 * sigmaT, -rng.Uniform(0.6, 0.8) * t));
            TWaves.Add(DipoleWave.Gauss(centreT + 0.3 * sigmaT, 0.8 * sigmaT, t));
        }
        else
        {
            TWaves.Add(tw with { Amplitude = t });
        }
        if (fx.Electrolyte)
            // Hypokalaemia: a prominent U wave after the T, largest in V2–V3.
            TWaves.Add(DipoleWave.Gauss(Qt + rng.Uniform(0.06, 0.08), 0.03, rng.Uniform(0.12, 0.2) * new Vec3(0.3, 0.3, 0.9).Normalized()));
    }
}
