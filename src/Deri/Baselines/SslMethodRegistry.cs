using Deri.Config;

namespace Deri.Baselines;

/// <summary>
/// Builds the ECG-only self-supervised methods: one builder per name of <see cref="MethodNames.Ssl"/> (the config
/// owns the names; a test checks that this table builds exactly them). Adding a method is one line here and its
/// section in <see cref="SslConfig"/> (a property and one row of <c>SslConfig.Sections</c>, which names it).
/// </summary>
public static class SslMethodRegistry
{
    private static readonly IReadOnlyDictionary<string, Func<SslMethodContext, EcgSslMethod>> Builders =
        new Dictionary<string, Func<SslMethodContext, EcgSslMethod>>
        {
            ["simclr"] = c => new SimClr(c.CreateEncoder(), c.Ssl.Simclr.Validated(c.Leads, c.SeqLength), c.Augmentation()),
            ["byol"] = c => new Byol(c.CreateEncoder, c.Ssl.Byol.Validated(c.Leads, c.SeqLength), c.Augmentation(), c.TotalSteps),
            ["barlowtwins"] = c => new BarlowTwins(c.CreateEncoder(), c.Ssl.BarlowTwins.Validated(c.Leads, c.SeqLength), c.Augmentation()),
            ["mocov3"] = c => new MocoV3(c.CreateEncoder, c.Ssl.MocoV3.Validated(c.Leads, c.SeqLength), c.Augmentation(), c.TotalSteps),
            ["simsiam"] = c => new SimSiam(c.CreateEncoder(), c.Ssl.Simsiam.Validated(c.Leads, c.SeqLength), c.Augmentation()),
            ["tstcc"] = c => TsTcc.Create(c.Config.Network, c.SeqLength, c.Ssl.TsTcc),
            ["clocs"] = c => Clocs.Create(c.Config.Network, c.SeqLength, c.Ssl.Clocs),
            ["astcl"] = c => Astcl.Create(c.Config.Network, c.SeqLength, c.Ssl.Astcl with { SamplingRate = c.Config.Dataset.SamplingRate }),
            ["crt"] = c => Crt.Create(c.Config.Network, c.SeqLength, c.Ssl.Crt),
            ["stmem"] = c => StMem.Create(c.Config.Network, c.SeqLength, c.Ssl.StMem),
        };

    /// <summary>The names this registry has a builder for (the same set as <see cref="MethodNames.Ssl"/>).</summary>
    public static IReadOnlyList<string> BuilderNames { get; } = [.. Builders.Keys];

    /// <summary>
    /// Builds the ECG-only method <c>network.method</c> names (on the CPU; move it with <c>.to(device)</c>).
    /// <paramref name="totalSteps"/> is the run's number of optimizer steps (momentum schedules); 0 when only evaluating.
    /// </summary>
    /// <exception cref="ArgumentException">The method is deri or merl (use <c>Models.ModelFactory.Create</c>), or a setting is invalid.</exception>
    public static EcgSslMethod Create(DeriConfig config, long totalSteps = 0)
    {
        string name = config.Network.Method;
        if (!Builders.TryGetValue(name, out var create))
            throw new Deri.Config.ConfigException(
                $"network.method = '{name}' is not an ECG-only method (expected one of {string.Join(", ", MethodNames.Ssl)})");
        return create(new SslMethodContext(config, totalSteps));
    }
}
