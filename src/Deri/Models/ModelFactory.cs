using Deri.Baselines;
using Deri.Config;
using Deri.Models.Encoders;

namespace Deri.Models;

/// <summary>Builds ECG encoders and models from a <see cref="ModelConfig"/>: the one place that switches on architecture and method names.</summary>
public static class ModelFactory
{
    /// <summary>
    /// The ECG-only self-supervised methods (<c>network.method</c> besides deri and merl) and how each is built.
    /// Adding a method is one line here plus its section in <see cref="SslConfig"/>.
    /// </summary>
    private static readonly (string Name, Func<SslMethodContext, EcgSslMethod> Create)[] SslMethods =
    [
        ("simclr", c => new SimClr(c.CreateEncoder(), c.Ssl.Simclr, c.Augmentation())),
        ("byol", c => new Byol(c.CreateEncoder, c.Ssl.Byol, c.Augmentation(), c.TotalSteps)),
        ("barlowtwins", c => new BarlowTwins(c.CreateEncoder(), c.Ssl.BarlowTwins, c.Augmentation())),
        ("mocov3", c => new MocoV3(c.CreateEncoder, c.Ssl.MocoV3, c.Augmentation(), c.TotalSteps)),
        ("simsiam", c => new SimSiam(c.CreateEncoder(), c.Ssl.Simsiam, c.Augmentation())),
        ("tstcc", c => TsTcc.Create(c.Config.Network, c.Config.Dataset.SeqLength, c.Ssl.TsTcc)),
        ("clocs", c => Clocs.Create(c.Config.Network, c.Config.Dataset.SeqLength, c.Ssl.Clocs)),
        ("astcl", c => Astcl.Create(c.Config.Network, c.Config.Dataset.SeqLength, c.Ssl.Astcl with { SamplingRate = c.Config.Dataset.SamplingRate })),
        ("crt", c => Crt.Create(c.Config.Network, c.Config.Dataset.SeqLength, c.Ssl.Crt)),
        ("stmem", c => StMem.Create(c.Config.Network, c.Config.Dataset.SeqLength, c.Ssl.StMem)),
    ];

    /// <summary>The ECG–text methods, built by <see cref="Create"/>.</summary>
    public static readonly IReadOnlyList<string> EcgTextMethodNames = ["deri", "merl"];

    /// <summary>The ECG-only methods, built by <see cref="CreateSslMethod"/>.</summary>
    public static readonly IReadOnlyList<string> SslMethodNames = SslMethods.Select(m => m.Name).ToArray();

    /// <summary>Accepted values of <c>network.method</c>.</summary>
    public static readonly IReadOnlyList<string> MethodNames = [.. EcgTextMethodNames, .. SslMethodNames];

    /// <summary>Whether <paramref name="method"/> is an ECG-only method (no text encoder, no zero-shot).</summary>
    public static bool IsEcgOnly(string method) => SslMethodNames.Contains(method);

    /// <summary>
    /// Builds the ECG-only method <c>network.method</c> names (on the CPU; move it with <c>.to(device)</c>).
    /// <paramref name="totalSteps"/> is the run's number of optimizer steps (momentum schedules); 0 when only evaluating.
    /// </summary>
    /// <exception cref="ArgumentException">The method is deri or merl (use <see cref="Create"/>), or a setting is invalid.</exception>
    public static EcgSslMethod CreateSslMethod(DeriConfig config, long totalSteps = 0)
    {
        string name = config.Network.Method;
        foreach (var (n, create) in SslMethods)
            if (n == name) return create(new SslMethodContext(config, totalSteps));
        throw new ArgumentException(
            $"network.method = '{name}' is not an ECG-only method (expected one of {string.Join(", ", SslMethodNames)})");
    }

    /// <summary>Accepted values of <c>network.ecg_model</c>.</summary>
    public static readonly IReadOnlyList<string> EncoderNames =
        ["resnet18", "resnet34", "resnet50", "resnet101", "vit_tiny", "vit_small", "vit_middle", "vit_base"];

    /// <summary>Builds the configured DERI or MERL model (on the CPU; move it with <c>.to(device)</c>).</summary>
    /// <exception cref="ArgumentException">The configuration is invalid or names an ECG-only method.</exception>
    public static DeriModel Create(ModelConfig config)
    {
        config.Validate();
        if (IsEcgOnly(config.Network.Method))
            throw new ArgumentException($"network.method = '{config.Network.Method}' is an ECG-only method: build it with {nameof(CreateSslMethod)}");
        var encoder = CreateEncoder(config.Network, config.Dataset.SeqLength);
        int stride = config.Network.DownconvStride ?? (encoder is ResNet1d ? 3 : 1);
        return new DeriModel(encoder, config, stride);
    }

    /// <summary>Builds the ECG backbone named by <c>network.ecg_model</c> for inputs of <paramref name="length"/> samples.</summary>
    /// <exception cref="ArgumentException">Unknown architecture name.</exception>
    public static EcgEncoder CreateEncoder(NetworkConfig network, int length)
    {
        long leads = network.NumLeads, w = network.EcgBaseWidth;
        return network.EcgModel switch
        {
            "resnet18" => new ResNet1d("ecg_encoder", [2, 2, 2, 2], bottleneck: false, leads, w),
            "resnet34" => new ResNet1d("ecg_encoder", [3, 4, 6, 3], bottleneck: false, leads, w),
            "resnet50" => new ResNet1d("ecg_encoder", [3, 4, 6, 3], bottleneck: true, leads, w),
            "resnet101" => new ResNet1d("ecg_encoder", [3, 4, 23, 3], bottleneck: true, leads, w),
            "vit_tiny" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 192, 12, 3),
            "vit_small" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 384, 12, 6),
            "vit_middle" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 512, 12, 8),
            "vit_base" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 768, 12, 12),
            _ => throw new ArgumentException(
                $"model config: network.ecg_model = '{network.EcgModel}' is unknown: expected one of {string.Join(", ", EncoderNames)}"),
        };
    }
}
