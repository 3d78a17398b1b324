namespace Deri.Config;

/// <summary>
/// The <c>crt</c> settings of CRT (Zhang et al., IEEE TNNLS 2023). Defaults are small enough for CPU; the authors'
/// release uses a 6-block encoder with 8 heads, a 2-block decoder of the encoder's width and a drop ratio of 0.5.
/// </summary>
public sealed record CrtConfig : ISslMethodConfig
{
    /// <summary>
    /// <c>patch_size</c>: samples (time) or frequency bins (magnitude, phase) per patch; 2·patch_size must divide the
    /// input length, since the spectrum keeps L/2 bins. The release uses 20.
    /// </summary>
    public int PatchSize { get; init; } = 50;

    /// <summary><c>width</c>: encoder token width.</summary>
    public int Width { get; init; } = 64;

    /// <summary><c>depth</c>: encoder blocks (release 6).</summary>
    public int Depth { get; init; } = 2;

    /// <summary><c>heads</c>: encoder attention heads (release 8).</summary>
    public int Heads { get; init; } = 4;

    /// <summary><c>head_dim</c>: width of every attention head, encoder and decoder (release 64).</summary>
    public int HeadDim { get; init; } = 16;

    /// <summary><c>decoder_width</c>: decoder token width (release: the encoder's width).</summary>
    public int DecoderWidth { get; init; } = 64;

    /// <summary><c>decoder_depth</c>: decoder blocks (release 2).</summary>
    public int DecoderDepth { get; init; } = 1;

    /// <summary><c>decoder_heads</c>: decoder attention heads (release 8).</summary>
    public int DecoderHeads { get; init; } = 4;

    /// <summary>
    /// <c>drop_ratio</c>: fraction of the patches of each domain that are dropped (left out of the encoder's input);
    /// ⌊ratio·n⌋ of the n time patches and ⌊ratio·n/2⌋ spectral positions (magnitude and phase alike). Release 0.5.
    /// </summary>
    public double DropRatio { get; init; } = 0.5;

    /// <summary>
    /// <c>fft_norm</c>: scaling of the spectrum, <c>ortho</c> (1/√L, so magnitudes are on the signal's scale; the
    /// default), <c>backward</c> (none, the release's) or <c>forward</c> (1/L).
    /// </summary>
    public string FftNorm { get; init; } = "ortho";

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(leads > 0, "network.num_leads", leads, "must be positive");
        problems.Require(PatchSize > 0 && seqLength % (2 * PatchSize) == 0, "ssl.crt.patch_size", PatchSize,
            $"must be positive and 2·patch_size must divide the input length {seqLength}");
        problems.Require(Width > 0, "ssl.crt.width", Width, "must be positive");
        problems.Require(Heads > 0, "ssl.crt.heads", Heads, "must be positive");
        problems.Require(HeadDim > 0, "ssl.crt.head_dim", HeadDim, "must be positive");
        problems.Require(Depth > 0, "ssl.crt.depth", Depth, "must be positive");
        problems.Require(DecoderWidth > 0, "ssl.crt.decoder_width", DecoderWidth, "must be positive");
        problems.Require(DecoderHeads > 0, "ssl.crt.decoder_heads", DecoderHeads, "must be positive");
        problems.Require(DecoderDepth > 0, "ssl.crt.decoder_depth", DecoderDepth, "must be positive");
        problems.Require(DropRatio is >= 0 and < 1, "ssl.crt.drop_ratio", DropRatio, "must be in [0, 1)");
        problems.Require(FftNorm is "ortho" or "backward" or "forward", "ssl.crt.fft_norm", FftNorm, "expected ortho, backward or forward");
    }

}
