namespace Deri.Config;

/// <summary><c>ssl.byol</c>: projector and predictor MLPs and the target network's EMA momentum.</summary>
public sealed record ByolConfig : ISslMethodConfig
{
    /// <summary><c>hidden_dim</c>: projector hidden width (the paper: 4096).</summary>
    public int HiddenDim { get; init; } = 1024;

    /// <summary><c>output_dim</c>: projection width (the paper: 256).</summary>
    public int OutputDim { get; init; } = 256;

    /// <summary><c>predictor_hidden_dim</c>: predictor hidden width (the paper: 4096).</summary>
    public int PredictorHiddenDim { get; init; } = 1024;

    /// <summary><c>momentum</c>: τ_base; the target's momentum rises from it to 1 over training on a cosine (the paper: 0.996).</summary>
    public double Momentum { get; init; } = 0.996;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(HiddenDim > 0, "ssl.byol.hidden_dim", HiddenDim, "must be positive");
        problems.Require(OutputDim > 0, "ssl.byol.output_dim", OutputDim, "must be positive");
        problems.Require(PredictorHiddenDim > 0, "ssl.byol.predictor_hidden_dim", PredictorHiddenDim, "must be positive");
        problems.Require(Momentum is >= 0 and <= 1, "ssl.byol.momentum", Momentum, "must be in [0, 1]");
    }
}
