namespace Deri.Synthetic;

/// <summary>The underlying rhythm of a PTB-XL statement-mode record.</summary>
internal enum StatementRhythmKind
{
    /// <summary>Sinus (also under pacing with sensed/paced atria).</summary>
    Sinus,
    /// <summary>Atrial fibrillation.</summary>
    Fibrillation,
    /// <summary>Atrial flutter.</summary>
    Flutter,
    /// <summary>Sustained regular narrow-complex supraventricular tachycardia, P waves hidden.</summary>
    Svt,
    /// <summary>Third-degree AV block: sinus P waves dissociated from a slow escape rhythm.</summary>
    CompleteBlock,
}

/// <summary>Intraventricular conduction of a PTB-XL statement-mode record (one wins; see <see cref="StatementEffects.From"/>).</summary>
internal enum ConductionKind { Normal, Paced, Lbbb, Rbbb, IncompleteLbbb, IncompleteRbbb, Ivcd, Wpw }

/// <summary>Repetitive ectopy patterns.</summary>
internal enum EctopyPattern { None, Bigeminy, Trigeminy }

/// <summary>
/// What a set of PTB-XL statements does to the signal: the legacy conditions whose rendering is reused
/// (<see cref="RenderSet"/>), and everything else as flags and lists of territories. Conflicts are resolved here,
/// deterministically, by fixed priorities (documented in <c>Synthetic/README.md</c>): one underlying rhythm
/// (pacing &gt; third-degree block &gt; flutter &gt; fibrillation &gt; SVT &gt; sinus), one conduction pattern
/// (pacing &gt; complete LBBB &gt; complete RBBB &gt; WPW &gt; incomplete LBBB &gt; incomplete RBBB &gt; IVCD),
/// high voltage over low voltage. The labels are never changed: a statement whose rendering loses a conflict is
/// still a label of the record.
/// </summary>
internal sealed class StatementEffects
{
    // Territory directions of the dipole model (x left, y inferior, z anterior), normalised where used.
    internal static readonly Vec3 Inferior = new(-0.15, 1, 0);
    internal static readonly Vec3 Anteroseptal = new(-0.35, 0, 1);
    internal static readonly Vec3 Anterior = new(0.25, 0, 1);
    internal static readonly Vec3 Anterolateral = new(0.75, -0.1, 0.65);
    internal static readonly Vec3 Lateral = new(1, -0.45, 0.15);
    internal static readonly Vec3 Inferolateral = new(0.7, 0.75, 0.1);
    internal static readonly Vec3 Inferoposterior = new(0, 0.8, -0.6);
    internal static readonly Vec3 Inferoposterolateral = new(0.5, 0.7, -0.5);
    internal static readonly Vec3 Posterior = new(0, 0, -1);

    public HashSet<EcgCondition> RenderSet { get; } = [];
    public StatementRhythmKind Rhythm { get; private set; } = StatementRhythmKind.Sinus;
    public ConductionKind Conduction { get; private set; } = ConductionKind.Normal;
    public bool Paced { get; private set; }
    public bool SinusArrhythmia { get; private set; }
    public bool Paroxysm { get; private set; }
    public bool SecondDegreeBlock { get; private set; }
    public EctopyPattern Ectopy { get; private set; }
    /// <summary>Premature atrial complexes scattered (PAC, SVARR with a couplet, PRC(S) when atrial).</summary>
    public int AtrialPrematures { get; private set; }
    public bool AtrialCouplet { get; private set; }
    /// <summary>Scattered premature ventricular complexes (PVC, PRC(S) when ventricular).</summary>
    public bool VentricularPrematures { get; private set; }
    /// <summary>Whether bigeminy/trigeminy uses ventricular (true) or atrial premature beats.</summary>
    public bool PatternVentricular { get; private set; }

    public bool LeftAnteriorFascicular { get; private set; }
    public bool LeftPosteriorFascicular { get; private set; }
    public bool Rvh { get; private set; }
    public bool SeptalHypertrophy { get; private set; }
    public bool HighVoltage { get; private set; }
    public bool Fragmented { get; private set; }
    public bool LeftAtrial { get; private set; }
    public bool RightAtrial { get; private set; }
    /// <summary>Infarct territories: pathological Q waves (initial forces away from the territory).</summary>
    public List<Vec3> QTerritories { get; } = [];
    /// <summary>Infarct territories whose T waves are inverted too (old infarcts with T inversion).</summary>
    public bool InfarctT { get; private set; }
    /// <summary>Subendocardial injury: ST depression in the territory leads.</summary>
    public List<Vec3> InjuryTerritories { get; } = [];
    /// <summary>Ischaemia: T inversion in the territory leads.</summary>
    public List<Vec3> IschemiaTerritories { get; } = [];
    public bool NonSpecificIschemia { get; private set; }
    public bool Aneurysm { get; private set; }
    public bool NonSpecificStElevation { get; private set; }
    public bool NonSpecificSt { get; private set; }
    public bool Digitalis { get; private set; }
    public bool Electrolyte { get; private set; }
    public bool LowT { get; private set; }
    public bool NonDiagnosticT { get; private set; }
    public bool NonSpecificT { get; private set; }
    public bool TAbnormality { get; private set; }

    /// <summary>The effects of a statement set; <paramref name="rng"/> decides the free choices (QWAVE's territory, ectopic origin).</summary>
    public static StatementEffects From(IEnumerable<string> codes, SyntheticRandom rng)
    {
        var s = new HashSet<string>(codes, StringComparer.Ordinal);
        var e = new StatementEffects();
        var r = e.RenderSet;

        // Rhythm.
        e.Paced = s.Contains("PACE");
        if (s.Contains("3AVB")) e.Rhythm = StatementRhythmKind.CompleteBlock;
        else if (s.Contains("AFLT")) e.Rhythm = StatementRhythmKind.Flutter;
        else if (s.Contains("AFIB")) e.Rhythm = StatementRhythmKind.Fibrillation;
        else if (s.Contains("SVTAC") && !s.Contains("PSVT")) e.Rhythm = StatementRhythmKind.Svt;
        if (e.Paced && e.Rhythm is StatementRhythmKind.CompleteBlock or StatementRhythmKind.Svt) e.Rhythm = StatementRhythmKind.Sinus;
        if (e.Rhythm == StatementRhythmKind.Fibrillation) r.Add(EcgCondition.AtrialFibrillation);
        if (e.Rhythm == StatementRhythmKind.Flutter) r.Add(EcgCondition.AtrialFlutter);
        bool sinus = e.Rhythm == StatementRhythmKind.Sinus;
        if (sinus && !e.Paced)
        {
            if (s.Contains("SBRAD")) r.Add(EcgCondition.SinusBradycardia);
            else if (s.Contains("STACH")) r.Add(EcgCondition.SinusTachycardia);
            e.SinusArrhythmia = s.Contains("SARRH");
            e.Paroxysm = s.Contains("PSVT");
            e.SecondDegreeBlock = s.Contains("2AVB");
            if (s.Contains("1AVB") || s.Contains("LPR")) r.Add(EcgCondition.FirstDegreeAvBlock);
        }
        if (s.Contains("BIGU")) e.Ectopy = EctopyPattern.Bigeminy;
        else if (s.Contains("TRIGU")) e.Ectopy = EctopyPattern.Trigeminy;
        // Under AF or flutter only ventricular ectopy can be seen; under SVT or complete block none is drawn.
        bool atrialEctopyVisible = sinus && !e.Paced && !e.SecondDegreeBlock;
        e.PatternVentricular = !atrialEctopyVisible || s.Contains("PVC") || rng.Chance(0.6);
        if (e.Rhythm is StatementRhythmKind.Svt or StatementRhythmKind.CompleteBlock) e.Ectopy = EctopyPattern.None;
        if (atrialEctopyVisible && e.Ectopy == EctopyPattern.None)
        {
            if (s.Contains("SVARR")) { e.AtrialPrematures = 3; e.AtrialCouplet = true; }
            else if (s.Contains("PAC")) e.AtrialPrematures = rng.Chance(0.5) ? 1 : 2;
        }
        bool prcVentricular = !atrialEctopyVisible || rng.Chance(0.5);
        if (e.Rhythm is not (StatementRhythmKind.Svt or StatementRhythmKind.CompleteBlock) && e.Ectopy == EctopyPattern.None)
        {
            if (s.Contains("PVC")) e.VentricularPrematures = true;
            if (s.Contains("PRC(S)"))
            {
                if (prcVentricular) e.VentricularPrematures = true;
                else if (e.AtrialPrematures == 0) e.AtrialPrematures = 1;
            }
        }

        // Conduction.
        e.Conduction = e.Paced ? ConductionKind.Paced
            : s.Contains("CLBBB") ? ConductionKind.Lbbb
            : s.Contains("CRBBB") ? ConductionKind.Rbbb
            : s.Contains("WPW") && e.Rhythm == StatementRhythmKind.Sinus ? ConductionKind.Wpw
            : s.Contains("ILBBB") ? ConductionKind.IncompleteLbbb
            : s.Contains("IRBBB") ? ConductionKind.IncompleteRbbb
            : s.Contains("IVCD") ? ConductionKind.Ivcd
            : ConductionKind.Normal;
        if (e.Conduction is ConductionKind.Lbbb or ConductionKind.IncompleteLbbb or ConductionKind.Paced) r.Add(EcgCondition.LeftBundleBranchBlock);
        if (e.Conduction is ConductionKind.Rbbb or ConductionKind.IncompleteRbbb) r.Add(EcgCondition.RightBundleBranchBlock);
        e.LeftAnteriorFascicular = s.Contains("LAFB") && e.Conduction != ConductionKind.Paced;
        e.LeftPosteriorFascicular = s.Contains("LPFB") && !e.LeftAnteriorFascicular && e.Conduction != ConductionKind.Paced;

        // Hypertrophy, voltage, atria.
        if (s.Contains("LVH") || s.Contains("VCLVH")) r.Add(EcgCondition.LeftVentricularHypertrophy);
        e.HighVoltage = s.Contains("HVOLT") && !r.Contains(EcgCondition.LeftVentricularHypertrophy);
        if (s.Contains("LVOLT") && !r.Contains(EcgCondition.LeftVentricularHypertrophy) && !e.HighVoltage) r.Add(EcgCondition.LowQrsVoltage);
        e.Rvh = s.Contains("RVH") && e.Conduction is ConductionKind.Normal or ConductionKind.IncompleteRbbb or ConductionKind.Ivcd;
        e.SeptalHypertrophy = s.Contains("SEHYP") && e.Conduction is ConductionKind.Normal or ConductionKind.Ivcd or ConductionKind.IncompleteRbbb;
        e.Fragmented = s.Contains("ABQRS");
        bool pWaves = sinus && !e.Paced || e.Rhythm == StatementRhythmKind.CompleteBlock;
        e.LeftAtrial = s.Contains("LAO/LAE") && pWaves;
        e.RightAtrial = s.Contains("RAO/RAE") && pWaves;

        // Infarcts: Q waves in the territory (QWAVE alone: one territory drawn).
        void Mi(string code, Vec3 dir) { if (s.Contains(code)) e.QTerritories.Add(dir); }
        Mi("IMI", Inferior); Mi("ASMI", Anteroseptal); Mi("AMI", Anterior); Mi("ALMI", Anterolateral); Mi("LMI", Lateral);
        Mi("ILMI", Inferolateral); Mi("IPMI", Inferoposterior); Mi("IPLMI", Inferoposterolateral); Mi("PMI", Posterior);
        e.InfarctT = e.QTerritories.Count > 0 && rng.Chance(0.4);
        e.Aneurysm = s.Contains("ANEUR");
        if (e.Aneurysm) e.QTerritories.Add(Anterior);
        if (s.Contains("QWAVE") && e.QTerritories.Count == 0) e.QTerritories.Add(rng.Pick([Inferior, Anteroseptal, Lateral]));

        // Subendocardial injury (ST depression) and ischaemia (T inversion) by territory.
        void Inj(string code, Vec3 dir) { if (s.Contains(code)) e.InjuryTerritories.Add(dir); }
        Inj("INJAS", Anteroseptal); Inj("INJAL", Anterolateral); Inj("INJIN", Inferior); Inj("INJLA", Lateral); Inj("INJIL", Inferolateral);
        void Isc(string code, Vec3 dir) { if (s.Contains(code)) e.IschemiaTerritories.Add(dir); }
        Isc("ISCAL", Anterolateral); Isc("ISCIN", Inferior); Isc("ISCIL", Inferolateral); Isc("ISCAS", Anteroseptal); Isc("ISCLA", Lateral); Isc("ISCAN", Anterior);
        e.NonSpecificIschemia = s.Contains("ISC_");

        // ST and T statements.
        if (s.Contains("STD_")) r.Add(EcgCondition.StDepression);
        if (s.Contains("INVT")) r.Add(EcgCondition.TWaveInversion);
        if (s.Contains("LNGQT")) r.Add(EcgCondition.LongQt);
        e.NonSpecificStElevation = s.Contains("STE_");
        e.NonSpecificSt = s.Contains("NST_");
        e.Digitalis = s.Contains("DIG");
        e.Electrolyte = s.Contains("EL");
        e.LowT = s.Contains("LOWT");
        e.NonDiagnosticT = s.Contains("NDT");
        e.NonSpecificT = s.Contains("NT_");
        e.TAbnormality = s.Contains("TAB_");
        if (s.Contains("NORM")) r.Add(EcgCondition.Normal);
        return e;
    }
}
