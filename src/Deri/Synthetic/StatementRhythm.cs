namespace Deri.Synthetic;

/// <summary>One P wave of a statement-mode record: its onset in seconds and whether it is ectopic (premature atrial).</summary>
internal readonly record struct AtrialEvent(double Onset, bool Ectopic);

/// <summary>
/// Beat timing of the PTB-XL statement mode: sinus (with deep respiratory arrhythmia for SARRH, a PSVT run,
/// second-degree block, bigeminy/trigeminy and scattered premature beats), pacing, SVT, complete heart block; AF and
/// flutter reuse <see cref="Rhythm.Schedule"/>. P waves are returned apart from the QRS onsets.
/// </summary>
internal static class StatementRhythm
{
    public static List<SyntheticBeat> Schedule(SyntheticRandom rng, BeatPlan plan, StatementEffects fx, double dur, List<AtrialEvent> atria)
    {
        List<SyntheticBeat> beats;
        if (fx.Paced && plan.Rhythm != RhythmKind.Sinus)
        {
            // Paced ventricles under AF or flutter: regular, the atrial activity runs on independently.
            beats = [];
            for (double t = -rng.Uniform(0.3, 1.0) * plan.Rr; t < dur + 1; t += plan.Rr) beats.Add(new SyntheticBeat(t, BeatKind.Conducted, false));
            if (plan.Rhythm == RhythmKind.Flutter) plan.FlutterOrigin = rng.Uniform(0, 1);
        }
        else if (plan.Rhythm != RhythmKind.Sinus)
        {
            // AF and flutter: the legacy timing (its PVC insertion is not asked for: premature beats are placed below).
            beats = Rhythm.Schedule(rng, plan, [], dur);
        }
        else if (fx.Rhythm == StatementRhythmKind.CompleteBlock)
        {
            beats = [];
            double pp = 60 / plan.AtrialRate;
            for (double a = -rng.Uniform(0, 1) * pp; a < dur + 1; a += pp * (1 + 0.01 * rng.Normal())) atria.Add(new AtrialEvent(a, false));
            for (double t = -rng.Uniform(0.2, 1.0) * plan.Rr; t < dur + 1; t += plan.Rr * (1 + 0.01 * rng.Normal())) beats.Add(new SyntheticBeat(t, BeatKind.Conducted, false));
            return beats;
        }
        else if (fx.Rhythm == StatementRhythmKind.Svt)
        {
            beats = [];
            for (double t = -rng.Uniform(0.1, 1.0) * plan.Rr; t < dur + 1; t += plan.Rr * (1 + 0.005 * rng.Normal())) beats.Add(new SyntheticBeat(t, BeatKind.Conducted, false));
            return beats;
        }
        else
        {
            return Sinus(rng, plan, fx, dur, atria);
        }
        // AF, flutter, paced-AF: ventricular ectopy only.
        if (fx.Ectopy != EctopyPattern.None)
        {
            int every = fx.Ectopy == EctopyPattern.Bigeminy ? 2 : 3;
            for (int i = every - 1; i < beats.Count; i += every)
            {
                double prev = beats[i - 1].QrsOnset;
                beats[i] = new SyntheticBeat(prev + Math.Max(0.3, rng.Uniform(0.5, 0.68) * (beats[i].QrsOnset - prev)), BeatKind.Ventricular, false);
            }
        }
        else if (fx.VentricularPrematures)
        {
            int placed = 0;
            for (int attempt = 0; attempt < 40 && placed < Math.Max(1, plan.PvcCount); attempt++)
            {
                int i = rng.Int(1, beats.Count - 1);
                if (beats[i].QrsOnset < 0.8 || beats[i].QrsOnset > dur - 1.2) continue;
                if (beats[i - 1].Kind == BeatKind.Ventricular || beats[i].Kind == BeatKind.Ventricular || beats[i + 1].Kind == BeatKind.Ventricular) continue;
                double prev = beats[i - 1].QrsOnset;
                beats[i] = new SyntheticBeat(prev + Math.Max(0.3, plan.PvcCoupling * (beats[i].QrsOnset - prev)), BeatKind.Ventricular, false);
                placed++;
            }
            plan.PvcCount = placed;
        }
        return beats;
    }

    /// <summary>
    /// Sinus-node driven timing, iterated over P onsets: each P is conducted after its PR (Mobitz I lengthens it beat by
    /// beat, the last P of a group is blocked); a premature beat may follow a conducted one (a PVC keeps the sinus
    /// timing: full compensatory pause; a PAC resets the sinus node).
    /// </summary>
    private static List<SyntheticBeat> Sinus(SyntheticRandom rng, BeatPlan plan, StatementEffects fx, double dur, List<AtrialEvent> atria)
    {
        var beats = new List<SyntheticBeat>();
        double fResp = rng.Uniform(0.15, 0.3), phase = rng.Uniform(0, 2 * Math.PI);
        double pr = plan.Pr;
        double a = -rng.Uniform(0.3, 1.0) * plan.Rr - pr;
        double runStart = rng.Uniform(2.0, 4.0), runEnd = runStart + rng.Uniform(2.5, 4.0);
        // Scattered premature beats: each at the first conducted beat after a drawn time.
        var targets = new List<(double Time, bool Ventricular)>();
        int pacs = fx.AtrialPrematures, pvcs = fx.VentricularPrematures ? Math.Max(1, plan.PvcCount) : 0;
        for (int k = 0; k < pacs + pvcs; k++) targets.Add((rng.Uniform(1.0, dur - 2.0), k >= pacs));
        targets.Sort((x, y) => x.Time.CompareTo(y.Time));
        int nextTarget = 0, groupPos = 0, sinceEctopic = 0, placedPvcs = 0;
        bool coupletDone = false;
        while (a + pr < dur + 1)
        {
            double rr = plan.Rr * (1 + plan.SinusArrhythmia * Math.Sin(2 * Math.PI * fResp * a + phase) + (fx.Paced ? 0 : 0.006 * rng.Normal()));
            if (fx.Paroxysm && a + pr >= runStart && a + pr < runEnd)
            {
                // The PSVT run: regular narrow beats, P waves hidden in the QRS.
                beats.Add(new SyntheticBeat(a + pr, BeatKind.Conducted, false));
                a += plan.SvtRr * (1 + 0.005 * rng.Normal());
                continue;
            }
            double prK = pr;
            bool conducted = true;
            if (plan.MobitzType > 0)
            {
                groupPos++;
                if (groupPos == plan.MobitzCycle) { conducted = false; groupPos = 0; }
                else if (plan.MobitzType == 1) prK = pr + plan.MobitzPrStep * (1 - Math.Pow(0.45, groupPos - 1));
            }
            if (plan.PVisible) atria.Add(new AtrialEvent(a, false));
            if (!conducted) { a += rr; continue; }
            double qrs = a + prK;
            beats.Add(new SyntheticBeat(qrs, BeatKind.Conducted, plan.PVisible));
            sinceEctopic++;
            bool? ventricular = null;
            if (fx.Ectopy == EctopyPattern.Bigeminy || fx.Ectopy == EctopyPattern.Trigeminy && sinceEctopic >= 2)
                ventricular = fx.PatternVentricular;
            else if (nextTarget < targets.Count && qrs >= targets[nextTarget].Time && qrs < dur - 1.2)
                ventricular = targets[nextTarget++].Ventricular;
            if (ventricular is null || qrs < 0.2) { a += rr; continue; }
            sinceEctopic = 0;
            if (ventricular.Value)
            {
                beats.Add(new SyntheticBeat(qrs + Math.Max(0.3, plan.PvcCoupling * rr), BeatKind.Ventricular, false));
                placedPvcs++;
                a += 2 * rr;
                continue;
            }
            double te = qrs + rng.Uniform(0.6, 0.72) * rr;
            atria.Add(new AtrialEvent(te - 0.9 * pr, true));
            beats.Add(new SyntheticBeat(te, BeatKind.AtrialPremature, true));
            if (fx.AtrialCouplet && !coupletDone)
            {
                te += rng.Uniform(0.62, 0.72) * rr;
                atria.Add(new AtrialEvent(te - 0.9 * pr, true));
                beats.Add(new SyntheticBeat(te, BeatKind.AtrialPremature, true));
                coupletDone = true;
            }
            // The ectopic beat resets the sinus node: the next sinus P one cycle after the ectopic P.
            a = te - 0.9 * pr + rr;
        }
        if (pvcs > 0 || fx.Ectopy != EctopyPattern.None && fx.PatternVentricular) plan.PvcCount = placedPvcs;
        return beats;
    }
}
