namespace Deri.Config;

/// <summary>The <c>network</c> section of a pretraining config.</summary>
public sealed record ModelConfig
{
    /// <summary>ECG encoder backbone name.</summary>
    public string EcgModel { get; init; } = "resnet18";

    /// <summary>Number of ECG leads.</summary>
    public int NumLeads { get; init; } = 12;

    /// <summary>Text encoder name or path.</summary>
    public string TextModel { get; init; } = "ncbi/MedCPT-Query-Encoder";

    /// <summary>Projection head sizes.</summary>
    public ProjectionHeadConfig ProjectionHead { get; init; } = new();
}

/// <summary>The <c>network.projection_head</c> section.</summary>
public sealed record ProjectionHeadConfig
{
    /// <summary>Hidden width of the projection MLP.</summary>
    public int MlpHiddenSize { get; init; } = 256;

    /// <summary>Output size of the projection.</summary>
    public int ProjectionSize { get; init; } = 256;
}
