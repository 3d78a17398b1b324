namespace Deri.Config;

/// <summary>
/// The <c>st_mem</c> settings of ST-MEM (Na et al., ICLR 2024). Defaults are small enough for CPU; the paper's
/// sizes are given on each key (a ViT-B encoder, a 256-wide 4-block decoder, 0.3 s patches, mask ratio 0.75).
/// </summary>
public sealed record StMemConfig : ISslMethodConfig
{
    /// <summary>
    /// <c>patch_size</c>: samples per patch; must divide the input length. The paper uses 75 at 250 Hz (0.3 s);
    /// the default 50 divides every length this project uses (0.1 s at 500 Hz).
    /// </summary>
    public int PatchSize { get; init; } = 50;

    /// <summary><c>width</c>: encoder token width (paper 768).</summary>
    public int Width { get; init; } = 64;

    /// <summary><c>depth</c>: encoder blocks (paper 12).</summary>
    public int Depth { get; init; } = 2;

    /// <summary><c>heads</c>: encoder attention heads (paper 12).</summary>
    public int Heads { get; init; } = 4;

    /// <summary><c>head_dim</c>: width of every attention head, encoder and decoder (release 64).</summary>
    public int HeadDim { get; init; } = 16;

    /// <summary><c>decoder_width</c>: decoder token width (paper 256).</summary>
    public int DecoderWidth { get; init; } = 32;

    /// <summary><c>decoder_depth</c>: decoder blocks (paper 4).</summary>
    public int DecoderDepth { get; init; } = 1;

    /// <summary><c>decoder_heads</c>: decoder attention heads (paper 4).</summary>
    public int DecoderHeads { get; init; } = 4;

    /// <summary>
    /// <c>mask_ratio</c>: fraction of each lead's patches that are masked (paper 0.75); each lead keeps
    /// ⌊n·(1−ratio)⌋ ≥ 1 patches visible.
    /// </summary>
    public double MaskRatio { get; init; } = 0.75;

    /// <summary>
    /// <c>norm_targets</c>: standardise each target patch by its own mean and variance (MAE's <c>norm_pix_loss</c>;
    /// on in the release's pretraining config, hence the default).
    /// </summary>
    public bool NormTargets { get; init; } = true;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(leads > 0, "network.num_leads", leads, "must be positive");
        problems.Require(PatchSize > 0 && seqLength % PatchSize == 0, "ssl.stmem.patch_size", PatchSize,
            $"must be positive and divide the input length {seqLength}");
        problems.Require(Width > 0 && Width % 2 == 0, "ssl.stmem.width", Width, "must be positive and even (sine-cosine positions)");
        problems.Require(Heads > 0, "ssl.stmem.heads", Heads, "must be positive");
        problems.Require(HeadDim > 0, "ssl.stmem.head_dim", HeadDim, "must be positive");
        problems.Require(Depth > 0, "ssl.stmem.depth", Depth, "must be positive");
        problems.Require(DecoderWidth > 0 && DecoderWidth % 2 == 0, "ssl.stmem.decoder_width", DecoderWidth, "must be positive and even (sine-cosine positions)");
        problems.Require(DecoderHeads > 0, "ssl.stmem.decoder_heads", DecoderHeads, "must be positive");
        problems.Require(DecoderDepth > 0, "ssl.stmem.decoder_depth", DecoderDepth, "must be positive");
        // Above 0 so every lead has a masked patch (⌊n·(1−ratio)⌋ < n): the loss averages over them.
        problems.Require(MaskRatio is > 0 and < 1, "ssl.stmem.mask_ratio", MaskRatio, "must be in (0, 1)");
        if (PatchSize > 0)
        {
            long visible = (long)(seqLength / PatchSize * (1 - MaskRatio));
            problems.Require(visible >= 1, "ssl.stmem.mask_ratio", MaskRatio, $"leaves no visible patch of the {seqLength / PatchSize} per lead");
        }
    }
}
