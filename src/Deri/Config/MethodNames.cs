namespace Deri.Config;

/// <summary>
/// The accepted values of <c>network.method</c>. The config owns this vocabulary so that it can validate a file
/// without knowing how the models are built; <c>Models.ModelFactory</c> builds <see cref="EcgText"/> and
/// <c>Baselines.SslMethodRegistry</c> builds <see cref="Ssl"/> (a test checks that they build exactly these names).
/// Adding an ECG-only method is its section in <see cref="SslConfig"/> (property and one row of its table, which gives
/// the name) and its builder in the registry.
/// </summary>
public static class MethodNames
{
    /// <summary>The ECG–text methods: DERI and MERL.</summary>
    public static readonly IReadOnlyList<string> EcgText = ["deri", "merl"];

    /// <summary>The ECG-only self-supervised baselines, each with its section <c>ssl.NAME</c> (the names of <see cref="SslConfig.Sections"/>).</summary>
    public static readonly IReadOnlyList<string> Ssl = [.. SslConfig.Sections.Select(s => s.Name)];

    /// <summary>Every accepted value of <c>network.method</c>.</summary>
    public static readonly IReadOnlyList<string> All = [.. EcgText, .. Ssl];

    /// <summary>Whether <paramref name="method"/> is an ECG-only method (no text encoder, no zero-shot).</summary>
    public static bool IsEcgOnly(string method) => Ssl.Contains(method);
}

/// <summary>The accepted values of <c>network.ecg_model</c>; <c>Models.ModelFactory</c> builds each of them.</summary>
public static class EncoderNames
{
    /// <summary>Every accepted value of <c>network.ecg_model</c>.</summary>
    public static readonly IReadOnlyList<string> All =
        ["resnet18", "resnet34", "resnet50", "resnet101", "vit_tiny", "vit_small", "vit_middle", "vit_base"];
}
