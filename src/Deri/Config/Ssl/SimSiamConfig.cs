namespace Deri.Config;

/// <summary><c>ssl.simsiam</c>: projector and bottleneck predictor widths.</summary>
public sealed record SimSiamConfig : ISslMethodConfig
{
    /// <summary><c>hidden_dim</c>: projector hidden width (the paper: 2048).</summary>
    public int HiddenDim { get; init; } = 512;

    /// <summary><c>output_dim</c>: projection width (the paper: 2048).</summary>
    public int OutputDim { get; init; } = 512;

    /// <summary><c>predictor_hidden_dim</c>: bottleneck width of the predictor (the paper: 512, a quarter of the output).</summary>
    public int PredictorHiddenDim { get; init; } = 128;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(HiddenDim > 0, "ssl.simsiam.hidden_dim", HiddenDim, "must be positive");
        problems.Require(OutputDim > 0, "ssl.simsiam.output_dim", OutputDim, "must be positive");
        problems.Require(PredictorHiddenDim > 0, "ssl.simsiam.predictor_hidden_dim", PredictorHiddenDim, "must be positive");
    }
}
