namespace Deri.Config;

/// <summary><c>ssl.simclr</c>: projector g (Linear → BN → ReLU → Linear) and the NT-Xent temperature.</summary>
public sealed record SimClrConfig : ISslMethodConfig
{
    /// <summary><c>hidden_dim</c>: projector hidden width.</summary>
    public int HiddenDim { get; init; } = 512;

    /// <summary><c>output_dim</c>: projection width (the space of the contrastive loss).</summary>
    public int OutputDim { get; init; } = 128;

    /// <summary><c>temperature</c>: τ of NT-Xent.</summary>
    public double Temperature { get; init; } = 0.1;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(HiddenDim > 0, "ssl.simclr.hidden_dim", HiddenDim, "must be positive");
        problems.Require(OutputDim > 0, "ssl.simclr.output_dim", OutputDim, "must be positive");
        problems.Require(double.IsFinite(Temperature) && Temperature > 0, "ssl.simclr.temperature", Temperature, "must be a positive number");
    }
}
