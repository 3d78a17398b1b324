namespace Deri.Config;

/// <summary><c>ssl.mocov3</c>: projector and predictor, InfoNCE temperature and the momentum encoder's EMA.</summary>
public sealed record MocoV3Config : ISslMethodConfig
{
    /// <summary><c>hidden_dim</c>: projector hidden width (the paper: 4096).</summary>
    public int HiddenDim { get; init; } = 1024;

    /// <summary><c>output_dim</c>: projection width (the paper: 256).</summary>
    public int OutputDim { get; init; } = 256;

    /// <summary><c>predictor_hidden_dim</c>: predictor hidden width (the paper: 4096).</summary>
    public int PredictorHiddenDim { get; init; } = 1024;

    /// <summary><c>temperature</c>: τ of InfoNCE (the paper: 0.2).</summary>
    public double Temperature { get; init; } = 0.2;

    /// <summary><c>momentum</c>: m_base; the momentum rises from it to 1 over training on a cosine (the paper: 0.99).</summary>
    public double Momentum { get; init; } = 0.99;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(HiddenDim > 0, "ssl.mocov3.hidden_dim", HiddenDim, "must be positive");
        problems.Require(OutputDim > 0, "ssl.mocov3.output_dim", OutputDim, "must be positive");
        problems.Require(PredictorHiddenDim > 0, "ssl.mocov3.predictor_hidden_dim", PredictorHiddenDim, "must be positive");
        problems.Require(double.IsFinite(Temperature) && Temperature > 0, "ssl.mocov3.temperature", Temperature, "must be a positive number");
        problems.Require(Momentum is >= 0 and <= 1, "ssl.mocov3.momentum", Momentum, "must be in [0, 1]");
    }
}
