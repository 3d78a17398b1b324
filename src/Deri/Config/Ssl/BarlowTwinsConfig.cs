namespace Deri.Config;

/// <summary><c>ssl.barlowtwins</c>: projector widths and the off-diagonal weight λ.</summary>
public sealed record BarlowTwinsConfig : ISslMethodConfig
{
    /// <summary><c>hidden_dim</c>: width of the projector's two hidden layers (the paper: 8192).</summary>
    public int HiddenDim { get; init; } = 1024;

    /// <summary><c>output_dim</c>: projection width D of the D×D cross-correlation (the paper: 8192).</summary>
    public int OutputDim { get; init; } = 1024;

    /// <summary><c>lambda</c>: weight of the redundancy-reduction (off-diagonal) term (the paper: 5e-3).</summary>
    public double Lambda { get; init; } = 5e-3;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(HiddenDim > 0, "ssl.barlowtwins.hidden_dim", HiddenDim, "must be positive");
        problems.Require(OutputDim > 0, "ssl.barlowtwins.output_dim", OutputDim, "must be positive");
        problems.Require(double.IsFinite(Lambda) && Lambda >= 0, "ssl.barlowtwins.lambda", Lambda, "must be a finite number >= 0");
    }
}
