using YamlDotNet.Serialization;

namespace Deri.Config;

/// <summary>
/// The <c>ssl</c> section: the ECG-only self-supervised baselines (<c>network.method</c> = simclr, byol,
/// barlowtwins, mocov3, simsiam, …). <c>ssl.augment</c> is the two-view augmentation pipeline they share; each
/// method has its own sub-section of head widths and objective constants. Ignored by deri and merl runs.
/// </summary>
public sealed record SslConfig
{
    /// <summary><c>ssl.augment</c>: the augmentations that make two views of each ECG.</summary>
    public AugmentConfig Augment { get; init; } = new();

    /// <summary><c>ssl.simclr</c>: SimCLR (Chen et al., 2020).</summary>
    public SimClrConfig Simclr { get; init; } = new();

    /// <summary><c>ssl.byol</c>: BYOL (Grill et al., 2020).</summary>
    public ByolConfig Byol { get; init; } = new();

    /// <summary><c>ssl.barlowtwins</c>: Barlow Twins (Zbontar et al., 2021).</summary>
    [YamlMember(Alias = "barlowtwins")]
    public BarlowTwinsConfig BarlowTwins { get; init; } = new();

    /// <summary><c>ssl.mocov3</c>: MoCo v3 (Chen, Xie and He, 2021).</summary>
    [YamlMember(Alias = "mocov3")]
    public MocoV3Config MocoV3 { get; init; } = new();

    /// <summary><c>ssl.simsiam</c>: SimSiam (Chen and He, 2021).</summary>
    public SimSiamConfig Simsiam { get; init; } = new();

    /// <summary><c>ssl.tstcc</c>: TS-TCC (Eldele et al., 2021).</summary>
    [YamlMember(Alias = "tstcc")]
    public TsTccConfig TsTcc { get; init; } = new();

    /// <summary><c>ssl.clocs</c>: CLOCS (Kiyasseh et al., 2021).</summary>
    public ClocsConfig Clocs { get; init; } = new();

    /// <summary><c>ssl.astcl</c>: ASTCL (Wang et al., 2023).</summary>
    public AstclConfig Astcl { get; init; } = new();

    /// <summary><c>ssl.crt</c>: CRT (Zhang et al., 2023).</summary>
    public CrtConfig Crt { get; init; } = new();

    /// <summary><c>ssl.stmem</c>: ST-MEM (Na et al., 2024).</summary>
    [YamlMember(Alias = "stmem")]
    public StMemConfig StMem { get; init; } = new();

    /// <summary>
    /// Every baseline's name (<c>network.method</c> and <c>ssl.NAME</c>) with its section, in the order the methods are
    /// listed: the one table of ECG-only method names (<see cref="MethodNames.Ssl"/> is read from it). Adding a baseline
    /// here is its property above and one row.
    /// </summary>
    internal static readonly IReadOnlyList<(string Name, Func<SslConfig, ISslMethodConfig> Section)> Sections =
    [
        ("simclr", c => c.Simclr),
        ("byol", c => c.Byol),
        ("barlowtwins", c => c.BarlowTwins),
        ("mocov3", c => c.MocoV3),
        ("simsiam", c => c.Simsiam),
        ("tstcc", c => c.TsTcc),
        ("clocs", c => c.Clocs),
        ("astcl", c => c.Astcl),
        ("crt", c => c.Crt),
        ("stmem", c => c.StMem),
    ];

    /// <summary>
    /// The section of <paramref name="method"/> (<c>ssl.NAME</c>); null for deri and merl, which have none.
    /// </summary>
    public ISslMethodConfig? Section(string method)
    {
        foreach (var (name, section) in Sections)
            if (name == method) return section(this);
        return null;
    }

    /// <summary>
    /// Adds a problem, naming its full key, for every bad value of <c>ssl.augment</c> and of the section of
    /// <paramref name="method"/> (checked for records of <paramref name="leads"/> × <paramref name="seqLength"/>).
    /// The other methods' sections are not used by the run and are checked when a run selects them.
    /// </summary>
    public void Validate(ConfigProblems problems, string method, int leads, int seqLength)
    {
        Augment.Validate(problems);
        Section(method)?.Validate(problems, leads, seqLength);
    }
}
