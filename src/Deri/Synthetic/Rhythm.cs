namespace Deri.Synthetic;

/// <summary>Beat timing (sinus with respiratory arrhythmia, AF, flutter with block, PVCs) and atrial waves.</summary>
internal static class Rhythm
{
    /// <summary>QRS onsets from about one beat before the record to one second after it.</summary>
    public static List<SyntheticBeat> Schedule(SyntheticRandom rng, BeatPlan plan, HashSet<EcgCondition> c, double dur)
    {
        var beats = new List<SyntheticBeat>();
        switch (plan.Rhythm)
        {
            case RhythmKind.Sinus:
            {
                double fResp = rng.Uniform(0.15, 0.35), phase = rng.Uniform(0, 2 * Math.PI);
                double t = -rng.Uniform(0.3, 1.0) * plan.Rr;
                while (t < dur + 1)
                {
                    beats.Add(new SyntheticBeat(t, BeatKind.Conducted, true));
                    double rr = plan.Rr * (1 + plan.SinusArrhythmia * Math.Sin(2 * Math.PI * fResp * t + phase) + 0.006 * rng.Normal());
                    t += rr;
                }
                break;
            }
            case RhythmKind.Fibrillation:
            {
                // Log-normal RR with the drawn coefficient of variation, refractory floor of 260 ms.
                double s = plan.AfIrregularity, mu = Math.Log(plan.Rr) - s * s / 2;
                double t = -rng.Uniform(0.3, 1.0) * plan.Rr;
                while (t < dur + 1)
                {
                    beats.Add(new SyntheticBeat(t, BeatKind.Conducted, false));
                    t += Math.Max(0.26, Math.Exp(mu + s * rng.Normal()));
                }
                break;
            }
            case RhythmKind.Flutter:
            {
                double period = 60 / plan.AtrialRate;
                double wave = -rng.Uniform(0, 1) * period * plan.FlutterRatios[0];
                while (wave + plan.FlutterDelay < dur + 1)
                {
                    beats.Add(new SyntheticBeat(wave + plan.FlutterDelay, BeatKind.Conducted, false));
                    int ratio = plan.FlutterRatios.Length == 1 ? plan.FlutterRatios[0] : plan.FlutterRatios[rng.Int(0, plan.FlutterRatios.Length)];
                    wave += ratio * period;
                }
                // Flutter waves run continuously from the first F wave; remember their phase origin.
                plan.FlutterOrigin = beats.Count > 0 ? beats[0].QrsOnset - plan.FlutterDelay : 0;
                break;
            }
        }
        if (c.Contains(EcgCondition.PrematureVentricularComplexes)) InsertPvcs(rng, plan, beats, dur);
        return beats;
    }

    /// <summary>
    /// Replaces beats inside the record with PVCs at the coupling interval after the preceding beat. The next
    /// beat keeps its time, so in sinus rhythm the pause around the PVC is fully compensatory (2 × RR).
    /// </summary>
    private static void InsertPvcs(SyntheticRandom rng, BeatPlan plan, List<SyntheticBeat> beats, double dur)
    {
        var candidates = new List<int>();
        for (int i = 1; i < beats.Count - 1; i++)
            if (beats[i].QrsOnset > 0.8 && beats[i].QrsOnset < dur - 1.2) candidates.Add(i);
        int placed = 0;
        for (int attempt = 0; attempt < 40 && placed < plan.PvcCount && candidates.Count > 0; attempt++)
        {
            int i = candidates[rng.Int(0, candidates.Count)];
            if (beats[i - 1].Kind == BeatKind.Ventricular || beats[i].Kind == BeatKind.Ventricular || beats[i + 1].Kind == BeatKind.Ventricular) continue;
            double prev = beats[i - 1].QrsOnset;
            double t = prev + Math.Max(0.3, plan.PvcCoupling * (beats[i].QrsOnset - prev));
            beats[i] = new SyntheticBeat(t, BeatKind.Ventricular, false);
            placed++;
        }
        plan.PvcCount = placed;
    }

    /// <summary>Adds AF fibrillatory waves or flutter sawtooth waves to the (3, n) dipole buffer.</summary>
    public static void AddAtrialActivity(SyntheticRandom rng, BeatPlan plan, float[] dipole, int n, double fs)
    {
        if (plan.Rhythm == RhythmKind.Sinus) return;
        var v = plan.AtrialVector;
        if (plan.Rhythm == RhythmKind.Fibrillation)
        {
            // f waves: a 4–8 Hz oscillation whose frequency and amplitude wander, plus a harmonic.
            double f0 = plan.AtrialRate / 60, df = rng.Uniform(0.3, 1.0), fm = rng.Uniform(0.05, 0.2);
            double am = rng.Uniform(0.2, 0.5), fa = rng.Uniform(0.1, 0.4), pa = rng.Uniform(0, 6.3);
            double h = rng.Uniform(0.1, 0.35), phase = rng.Uniform(0, 6.3);
            for (int s = 0; s < n; s++)
            {
                double t = s / fs;
                phase += 2 * Math.PI * (f0 + df * Math.Sin(2 * Math.PI * fm * t)) / fs;
                double e = (1 + am * Math.Sin(2 * Math.PI * fa * t + pa)) * (Math.Sin(phase) + h * Math.Sin(2 * phase + 1));
                Add(dipole, n, s, e, v);
            }
        }
        else
        {
            double period = 60 / plan.AtrialRate;
            for (int s = 0; s < n; s++)
            {
                double ph = (s / fs - plan.FlutterOrigin) / period;
                ph -= Math.Floor(ph);
                // Sawtooth: slow descent over 70 % of the cycle, faster smooth return; mean zero.
                double e = ph < 0.7 ? 1 - 2 * ph / 0.7 : -1 + 2 * (1 - Math.Cos(Math.PI * (ph - 0.7) / 0.3)) / 2;
                Add(dipole, n, s, e, v);
            }
        }
    }

    private static void Add(float[] dipole, int n, int s, double e, Vec3 v)
    {
        dipole[s] += (float)(e * v.X);
        dipole[n + s] += (float)(e * v.Y);
        dipole[2 * n + s] += (float)(e * v.Z);
    }
}
