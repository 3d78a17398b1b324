namespace Deri.Config;

/// <summary>Settings of <c>Baselines.TsTcc</c> (YAML keys are the snake_case property names, e.g. <c>tc_hidden_dim</c>).</summary>
public sealed record TsTccConfig : ISslMethodConfig
{
    /// <summary>Mean of the weak view's per-lead scaling factor (2: the release "scales up" the signal).</summary>
    public double ScaleMean { get; init; } = 2.0;

    /// <summary>Standard deviation of the weak view's scaling factor (1.1, the release's HAR setting).</summary>
    public double ScaleSigma { get; init; } = 1.1;

    /// <summary>Standard deviation of the weak view's additive jitter (signals are min–max scaled to about [0, 1]).</summary>
    public double WeakJitterSigma { get; init; } = 0.01;

    /// <summary>Standard deviation of the strong view's additive jitter after the permutation.</summary>
    public double StrongJitterSigma { get; init; } = 0.05;

    /// <summary>The strong view cuts each record into 1 … <c>MaxSegments − 1</c> random pieces and shuffles them (5 as the release).</summary>
    public int MaxSegments { get; init; } = 5;

    /// <summary>K: future latent steps each context predicts.</summary>
    public int Timesteps { get; init; } = 10;

    /// <summary>Width of the autoregressive transformer (100 as the release).</summary>
    public int TcHiddenDim { get; init; } = 100;

    /// <summary>Transformer blocks (4).</summary>
    public int TcDepth { get; init; } = 4;

    /// <summary>Attention heads (4); must divide <see cref="TcHiddenDim"/>.</summary>
    public int TcHeads { get; init; } = 4;

    /// <summary>Hidden width of each block's feed-forward layer (64).</summary>
    public int TcMlpDim { get; init; } = 64;

    /// <summary>Dropout inside the transformer blocks (0.1).</summary>
    public double TcDropout { get; init; } = 0.1;

    /// <summary>Temperature of the contextual contrast's NT-Xent (0.2).</summary>
    public double Temperature { get; init; } = 0.2;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(ScaleSigma >= 0, "ssl.tstcc.scale_sigma", ScaleSigma, "must be ≥ 0");
        problems.Require(WeakJitterSigma >= 0, "ssl.tstcc.weak_jitter_sigma", WeakJitterSigma, "must be ≥ 0");
        problems.Require(StrongJitterSigma >= 0, "ssl.tstcc.strong_jitter_sigma", StrongJitterSigma, "must be ≥ 0");
        problems.Require(MaxSegments >= 2, "ssl.tstcc.max_segments", MaxSegments, "must be ≥ 2");
        problems.Require(Timesteps >= 1, "ssl.tstcc.timesteps", Timesteps, "must be ≥ 1");
        problems.Require(TcHiddenDim >= 4, "ssl.tstcc.tc_hidden_dim", TcHiddenDim, "must be ≥ 4");
        problems.Require(TcDepth >= 1, "ssl.tstcc.tc_depth", TcDepth, "must be ≥ 1");
        problems.Require(TcHeads >= 1 && TcHiddenDim % TcHeads == 0, "ssl.tstcc.tc_heads", TcHeads, $"must divide tc_hidden_dim ({TcHiddenDim})");
        problems.Require(TcMlpDim >= 1, "ssl.tstcc.tc_mlp_dim", TcMlpDim, "must be ≥ 1");
        problems.Require(TcDropout is >= 0 and < 1, "ssl.tstcc.tc_dropout", TcDropout, "must be in [0, 1)");
        problems.Require(Temperature > 0, "ssl.tstcc.temperature", Temperature, "must be > 0");
    }
}
