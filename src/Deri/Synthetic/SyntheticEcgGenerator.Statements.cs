namespace Deri.Synthetic;

/// <summary>The PTB-XL statement mode of the generator (see <see cref="PtbXlStatementSource"/>).</summary>
public sealed partial class SyntheticEcgGenerator
{
    /// <summary>Creates a generator in the PTB-XL statement mode: each record's statements are one real record's set.</summary>
    /// <param name="config">Signal configuration (seed, rate, length, noise; <see cref="SyntheticEcgConfig.NormalFraction"/> is not used).</param>
    /// <param name="statements">The statements and real statement sets to draw from.</param>
    /// <param name="composedFraction">Fraction of records whose report is PTB-XL's English statement wording; the rest get machine statements.</param>
    /// <exception cref="ArgumentException">The configuration or the fraction is invalid.</exception>
    public SyntheticEcgGenerator(SyntheticEcgConfig config, PtbXlStatementSource statements, double composedFraction = 0.5) : this(config)
    {
        if (!(composedFraction >= 0 && composedFraction <= 1)) throw new ArgumentException($"composed-report fraction {composedFraction} must be in [0, 1]");
        Statements = statements;
        ComposedFraction = composedFraction;
    }

    /// <summary>The PTB-XL statement source; <c>null</c> in the condition mode.</summary>
    public PtbXlStatementSource? Statements { get; }

    /// <summary>Fraction of PTB-XL-worded reports in the statement mode.</summary>
    public double ComposedFraction { get; }

    /// <summary>
    /// Generates record <paramref name="index"/> with the given PTB-XL statements (for tests and illustrations; the
    /// statement mode's <see cref="Generate"/> draws them). Codes must be in the source's <c>scp_statements.csv</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The generator is not in the statement mode.</exception>
    /// <exception cref="ArgumentException">A code is not a PTB-XL statement.</exception>
    public SyntheticEcg GenerateWithStatements(int index, IReadOnlyList<(string Code, double Likelihood)> codes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var source = Statements ?? throw new InvalidOperationException("the generator is not in the PTB-XL statement mode");
        foreach (var (code, _) in codes)
            if (!source.Statements.ContainsKey(code)) throw new ArgumentException($"'{code}' is not a PTB-XL statement");
        return FromStatements(index, new SyntheticRandom(Config.Seed, index), codes);
    }

    private SyntheticEcg FromStatements(int index, SyntheticRandom rng, IReadOnlyList<(string Code, double Likelihood)>? codes)
    {
        var source = Statements!;
        codes ??= source.Draw(rng);
        var fx = StatementEffects.From(codes.Select(c => c.Code), rng);
        var c = fx.RenderSet;
        bool male = rng.Chance(c.Contains(EcgCondition.LeftVentricularHypertrophy) ? 0.65 : 0.5);
        bool elderly = fx.Paced || fx.Rhythm != StatementRhythmKind.Sinus || fx.QTerritories.Count > 0
            || c.Overlaps([EcgCondition.LeftBundleBranchBlock, EcgCondition.LeftVentricularHypertrophy]);
        int age = (int)Math.Round(Math.Clamp(rng.Normal(elderly ? 70 : 57, 15), 18, 95));

        var plan = BeatPlan.DrawStatements(rng, fx, male);
        double fs = Config.SamplingRate, dur = Config.DurationSeconds;
        int n = Config.Samples;
        var atria = new List<AtrialEvent>();
        var beats = StatementRhythm.Schedule(rng, plan, fx, dur, atria);

        var dipole = new float[3 * n];
        var qrst = new BeatTemplate(plan.QrsWaves.Concat(plan.TWaves).Concat(plan.StWaves).Concat(plan.SpikeWaves), fs);
        var pvc = plan.PvcWaves is null ? null : new BeatTemplate(plan.PvcWaves, fs);
        var sinusP = new BeatTemplate(plan.PWaves.Concat(plan.AtrialSpikeWaves), fs);
        var ectopicP = plan.EctopicPWaves.Count == 0 ? null : new BeatTemplate(plan.EctopicPWaves, fs);
        foreach (var b in beats)
            (b.Kind == BeatKind.Ventricular ? pvc! : qrst).AddTo(dipole, n, (int)Math.Round(b.QrsOnset * fs));
        foreach (var a in atria)
            (a.Ectopic ? ectopicP! : sinusP).AddTo(dipole, n, (int)Math.Round(a.Onset * fs));
        Rhythm.AddAtrialActivity(rng, plan, dipole, n, fs);
        var (signal, mains) = LeadsWithNoise(rng, dipole, n, fs);

        var truth = BuildTruth(plan, beats, dur, mains);
        bool conductedP = plan.PVisible && fx.Rhythm != StatementRhythmKind.CompleteBlock;
        truth = truth with
        {
            Pr = conductedP ? plan.Pr * 1000 : null,
            PDuration = plan.PVisible ? plan.PDuration * 1000 : null,
            PAxis = plan.PVisible ? truth.PAxis : null,
            PWaveOnsets = atria.Select(a => a.Onset).ToList(),
        };
        var statements = StatementReports.Write(new SyntheticRandom(~Config.Seed, index), codes, fx, plan, truth, source.Statements, ComposedFraction);
        return new SyntheticEcg
        {
            Index = index, SamplingRate = fs, Samples = n, Signal = signal, Conditions = c,
            Statements = statements, Age = age, Sex = male ? "M" : "F", Truth = truth, ScpCodes = codes,
        };
    }
}
