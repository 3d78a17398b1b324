using Deri.Config;
using Deri.Models.Encoders;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>
/// The <c>st_mem</c> settings of ST-MEM (Na et al., ICLR 2024). Defaults are small enough for CPU; the paper's
/// sizes are given on each key (a ViT-B encoder, a 256-wide 4-block decoder, 0.3 s patches, mask ratio 0.75).
/// </summary>
public sealed record StMemConfig
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

    /// <summary><c>heads</c>: encoder attention heads (paper 12); must divide <see cref="Width"/>.</summary>
    public int Heads { get; init; } = 4;

    /// <summary><c>decoder_width</c>: decoder token width (paper 256).</summary>
    public int DecoderWidth { get; init; } = 32;

    /// <summary><c>decoder_depth</c>: decoder blocks (paper 4).</summary>
    public int DecoderDepth { get; init; } = 1;

    /// <summary><c>decoder_heads</c>: decoder attention heads (paper 4); must divide <see cref="DecoderWidth"/>.</summary>
    public int DecoderHeads { get; init; } = 4;

    /// <summary><c>mask_ratio</c>: fraction of each lead's patches that are masked (paper 0.75); each lead keeps ⌊n·(1−ratio)⌋ ≥ 1.</summary>
    public double MaskRatio { get; init; } = 0.75;

    /// <summary><c>norm_targets</c>: standardise each target patch by its own mean and variance (MAE's <c>norm_pix_loss</c>).</summary>
    public bool NormTargets { get; init; }

    /// <summary>Checks every value for an input of <paramref name="leads"/> × <paramref name="seqLength"/>.</summary>
    /// <exception cref="ArgumentException">A key has a value the model cannot be built with; the message names it.</exception>
    public StMemConfig Validate(int leads, int seqLength)
    {
        Require(leads > 0, "num_leads", leads, "must be positive");
        Require(PatchSize > 0 && seqLength % PatchSize == 0, "patch_size", PatchSize,
            $"must be positive and divide the input length {seqLength}");
        Require(Width > 0 && Heads > 0 && Width % Heads == 0, "heads", Heads, $"must be positive and divide width {Width}");
        Require(Depth > 0, "depth", Depth, "must be positive");
        Require(DecoderWidth > 0 && DecoderHeads > 0 && DecoderWidth % DecoderHeads == 0, "decoder_heads", DecoderHeads,
            $"must be positive and divide decoder_width {DecoderWidth}");
        Require(DecoderDepth > 0, "decoder_depth", DecoderDepth, "must be positive");
        Require(MaskRatio is >= 0 and < 1, "mask_ratio", MaskRatio, "must be in [0, 1)");
        Require((int)(seqLength / PatchSize * (1 - MaskRatio)) >= 1, "mask_ratio", MaskRatio,
            $"leaves no visible patch of the {seqLength / PatchSize} per lead");
        return this;
    }

    private static void Require(bool ok, string key, object value, string expected)
    {
        if (!ok) throw new ArgumentException($"st_mem config: {key} = '{value}' is invalid: {expected}");
    }
}

/// <summary>
/// ST-MEM, spatio-temporal masked electrocardiogram modelling (Na et al., ICLR 2024): every lead is cut into
/// non-overlapping patches embedded by one linear map shared across leads, with temporal position embeddings, a
/// learnable embedding per lead and a SEP token at each end of every lead. A random fraction (<c>mask_ratio</c>) of each lead's patches
/// is masked; a ViT encodes the visible tokens of all leads together (so attention mixes time and leads); a light
/// decoder fills the masked positions with a mask token and reconstructs every lead's patches from that lead's
/// tokens. The loss is the MSE over the masked patches only. The representation is the mean of the encoder's
/// output tokens over all leads and patches (SEP tokens excluded) of the unmasked input, layer-normalised.
/// </summary>
/// <remarks>
/// Field names follow the authors' state-dict keys without the <c>encoder.</c> prefix. Position embeddings are
/// the fixed 1-D sine–cosine tables of MAE (not trained), as in the authors' pretraining model.
/// </remarks>
public sealed class StMem : EcgSslMethod
{
    private readonly Linear to_patch_embedding;
    private readonly Parameter pos_embedding;
    private readonly Parameter sep_embedding;
    private readonly Parameter lead_embeddings;
    private readonly ModuleList<VitBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Parameter mask_token;
    private readonly Linear decoder_embed;
    private readonly Parameter decoder_pos_embed;
    private readonly ModuleList<VitBlock> decoder_blocks;
    private readonly LayerNorm decoder_norm;
    private readonly Linear decoder_head;
    private readonly StMemConfig config;
    private readonly long leads, length, patch, patches;

    /// <summary>Builds ST-MEM for <paramref name="leads"/> × <paramref name="seqLength"/> inputs.</summary>
    /// <exception cref="ArgumentException">The configuration does not fit the input geometry.</exception>
    public StMem(int leads, int seqLength, StMemConfig config) : base("st_mem")
    {
        this.config = config.Validate(leads, seqLength);
        (this.leads, length, patch) = (leads, seqLength, config.PatchSize);
        patches = seqLength / config.PatchSize;
        to_patch_embedding = Linear(patch, config.Width);
        // Positions 0 and n+1 belong to the left and right SEP token, 1..n to the patches.
        pos_embedding = Parameter(SinCosTable(patches + 2, config.Width), requires_grad: false);
        sep_embedding = Parameter(randn(config.Width).mul_(0.02));
        lead_embeddings = Parameter(randn(leads, config.Width).mul_(0.02));
        blocks = new ModuleList<VitBlock>();
        for (int i = 0; i < config.Depth; i++) blocks.Add(new VitBlock($"{i}", config.Width, config.Heads, 0));
        norm = LayerNorm(config.Width);
        mask_token = Parameter(randn(1, 1, 1, config.DecoderWidth).mul_(0.02));
        decoder_embed = Linear(config.Width, config.DecoderWidth);
        decoder_pos_embed = Parameter(SinCosTable(patches + 2, config.DecoderWidth), requires_grad: false);
        decoder_blocks = new ModuleList<VitBlock>();
        for (int i = 0; i < config.DecoderDepth; i++)
            decoder_blocks.Add(new VitBlock($"{i}", config.DecoderWidth, config.DecoderHeads, 0));
        decoder_norm = LayerNorm(config.DecoderWidth);
        decoder_head = Linear(config.DecoderWidth, patch);
        RegisterComponents();
    }

    /// <summary>Builds ST-MEM for <c>network.num_leads</c> leads of <paramref name="seqLength"/> samples.</summary>
    public static StMem Create(NetworkConfig network, int seqLength, StMemConfig config) => new(network.NumLeads, seqLength, config);

    /// <summary>The one loss term, <c>masked_mse</c>, weighted 1.</summary>
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } =
        new Dictionary<string, double> { ["masked_mse"] = 1.0 };

    /// <inheritdoc/>
    public override long RepresentationDim => config.Width;

    /// <summary>Patches per lead.</summary>
    public long PatchesPerLead => patches;

    /// <summary>Visible patches per lead during pretraining: ⌊n·(1 − mask_ratio)⌋.</summary>
    public long VisiblePerLead => (long)(patches * (1 - config.MaskRatio));

    /// <summary><c>masked_mse</c>: the mean squared error over the masked patches (see <see cref="MaskedMse"/>).</summary>
    public override LossTerms Losses(EcgBatch batch)
    {
        var ecg = CheckInput(batch.Ecg);
        var (pred, mask) = Reconstruct(ecg);
        return new LossTerms().Add("masked_mse", MaskedMse(pred, Patchify(ecg, patch), mask, config.NormTargets));
    }

    /// <summary>
    /// One masked reconstruction: draws a mask from the torch default generator, encodes the visible patches and
    /// decodes all of them. Returns the predicted patches <c>(B, leads, n, patch)</c> and the mask
    /// <c>(B, leads, n)</c> (1 = masked, 0 = visible).
    /// </summary>
    public (Tensor Prediction, Tensor Mask) Reconstruct(Tensor ecg)
    {
        CheckInput(ecg);
        using var scope = NewDisposeScope();
        long b = ecg.shape[0], w = config.Width, d = config.DecoderWidth, keep = VisiblePerLead;
        var tokens = to_patch_embedding.forward(Patchify(ecg, patch)) + PatchPositions(pos_embedding); // (B, C, n, W)
        var (idsKeep, mask, idsRestore) = RandomMasking(b, leads, patches, keep, ecg.device);
        var visible = tokens.gather(2, idsKeep.unsqueeze(-1).expand(b, leads, keep, w)); // (B, C, keep, W)
        var encoded = norm.forward(Encode(visible)); // (B, C·(keep+2), W)

        var x = decoder_embed.forward(encoded).view(b, leads, keep + 2, d);
        var masked = mask_token.expand(b, leads, patches - keep, d);
        var body = cat([x[.., .., 1..(int)(keep + 1)], masked], 2)
            .gather(2, idsRestore.unsqueeze(-1).expand(b, leads, patches, d)) + PatchPositions(decoder_pos_embed); // (B, C, n, D)
        var left = x[.., .., ..1] + decoder_pos_embed[.., ..1].unsqueeze(1);
        var right = x[.., .., ^1..] + decoder_pos_embed[.., ^1..].unsqueeze(1);
        // The decoder attends within each lead: leads become batch entries, (B·C, n+2, D).
        var y = cat([left, body, right], 2).view(b * leads, patches + 2, d);
        foreach (var block in decoder_blocks) y = block.forward(y);
        var pred = decoder_head.forward(decoder_norm.forward(y))[.., 1..(int)(patches + 1)].reshape(b, leads, patches, patch);
        return (pred.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// ECG <c>(B, leads, L)</c> → <c>(B, width)</c>: all patches visible, the encoder's output tokens averaged over
    /// leads and patches (SEP tokens left out), then the encoder's final layer norm (as the authors' encoder).
    /// </summary>
    public override Tensor Represent(Tensor ecg)
    {
        CheckInput(ecg);
        using var scope = NewDisposeScope();
        long b = ecg.shape[0];
        var tokens = to_patch_embedding.forward(Patchify(ecg, patch)) + PatchPositions(pos_embedding);
        var encoded = Encode(tokens).view(b, leads, patches + 2, config.Width)[.., .., 1..(int)(patches + 1)];
        return norm.forward(encoded.mean([1, 2])).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The masked MSE of ST-MEM: per patch the mean of (prediction − target)² over its samples, then the mean over the
    /// patches where <paramref name="mask"/> is 1. With <paramref name="normTargets"/> each target patch is first
    /// standardised: (t − mean) / √(var + 1e-6), var unbiased, as MAE's <c>norm_pix_loss</c>.
    /// </summary>
    /// <param name="prediction">(B, leads, n, patch).</param>
    /// <param name="target">(B, leads, n, patch).</param>
    /// <param name="mask">(B, leads, n), 1 = masked.</param>
    /// <param name="normTargets">Standardise target patches.</param>
    public static Tensor MaskedMse(Tensor prediction, Tensor target, Tensor mask, bool normTargets)
    {
        if (!prediction.shape.SequenceEqual(target.shape) || !mask.shape.SequenceEqual(target.shape[..^1]))
            throw new ArgumentException($"masked MSE: prediction ({string.Join(", ", prediction.shape)}), target " +
                $"({string.Join(", ", target.shape)}) and mask ({string.Join(", ", mask.shape)}) do not match");
        using var scope = NewDisposeScope();
        if (normTargets)
            target = (target - target.mean([-1], keepdim: true)) / (target.var(-1, keepdim: true) + 1e-6).sqrt();
        var perPatch = (prediction - target).square().mean([-1]); // (B, C, n)
        return ((perPatch * mask).sum() / mask.sum()).MoveToOuterDisposeScope();
    }

    /// <summary>(B, leads, L) → (B, leads, L/patch, patch): consecutive samples of each lead.</summary>
    public static Tensor Patchify(Tensor ecg, long patch)
    {
        if (ecg.dim() != 3 || ecg.shape[2] % patch != 0)
            throw new ArgumentException($"patchify: expected (B, leads, L) with L divisible by {patch}, got ({string.Join(", ", ecg.shape)})");
        return ecg.reshape(ecg.shape[0], ecg.shape[1], ecg.shape[2] / patch, patch);
    }

    /// <summary>(B, leads, n, patch) → (B, leads, n·patch), the inverse of <see cref="Patchify"/>.</summary>
    public static Tensor Unpatchify(Tensor patches) =>
        patches.dim() == 4
            ? patches.reshape(patches.shape[0], patches.shape[1], patches.shape[2] * patches.shape[3])
            : throw new ArgumentException($"unpatchify: expected (B, leads, n, patch), got ({string.Join(", ", patches.shape)})");

    /// <summary>
    /// MAE's 1-D sine–cosine position table <c>(1, positions, width)</c>: entry (p, i) is sin(p·ωᵢ) for i &lt; width/2
    /// and cos(p·ω_{i−width/2}) after, with ωᵢ = 10000^(−i/(width/2)).
    /// </summary>
    public static Tensor SinCosTable(long positions, long width)
    {
        if (width % 2 != 0) throw new ArgumentException($"sine-cosine positions need an even width, got {width}");
        long half = width / 2;
        var table = new float[positions * width];
        for (long p = 0; p < positions; p++)
            for (long i = 0; i < half; i++)
            {
                double angle = p * Math.Pow(10000, -(double)i / half);
                table[p * width + i] = (float)Math.Sin(angle);
                table[p * width + half + i] = (float)Math.Cos(angle);
            }
        return tensor(table, [1, positions, width]).clone();
    }

    // Per lead an independent random order of the n patches (noise drawn from the default generator); the first
    // `keep` stay visible. Returns ids of visible patches (B, C, keep), the mask (B, C, n) in patch order and the
    // permutation that restores patch order from [visible…, masked…] (B, C, n).
    private static (Tensor IdsKeep, Tensor Mask, Tensor IdsRestore) RandomMasking(long b, long c, long n, long keep, Device device)
    {
        using var scope = NewDisposeScope();
        var noise = rand(b, c, n, device: device);
        var idsShuffle = noise.argsort(2);
        var idsRestore = idsShuffle.argsort(2);
        var mask = ones(b, c, n, device: device);
        mask[.., .., ..(int)keep] = 0;
        mask = mask.gather(2, idsRestore);
        return (idsShuffle[.., .., ..(int)keep].MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope(),
            idsRestore.MoveToOuterDisposeScope());
    }

    // tokens (B, C, k, W), positions already added → (B, C·(k+2), W): a SEP token at each end of every lead (with the
    // positions 0 and n+1), the lead embeddings, then the encoder blocks over all leads' tokens together (no final norm).
    private Tensor Encode(Tensor tokens)
    {
        long b = tokens.shape[0], k = tokens.shape[2], w = config.Width;
        var sep = sep_embedding.view(1, 1, 1, w);
        var left = (sep + pos_embedding[.., ..1].unsqueeze(1)).expand(b, leads, 1, w);
        var right = (sep + pos_embedding[.., ^1..].unsqueeze(1)).expand(b, leads, 1, w);
        var x = (cat([left, tokens, right], 2) + lead_embeddings.view(1, leads, 1, w)).reshape(b, leads * (k + 2), w);
        foreach (var block in blocks) x = block.forward(x);
        return x;
    }

    // The patch rows 1..n of a (1, n+2, W) position table as (1, 1, n, W), to broadcast over batch and leads.
    private Tensor PatchPositions(Tensor table) => table[.., 1..(int)(patches + 1)].unsqueeze(1);

    private Tensor CheckInput(Tensor ecg)
    {
        if (ecg.dim() != 3 || ecg.shape[1] != leads || ecg.shape[2] != length)
            throw new ArgumentException($"st_mem: built for ECG (B, {leads}, {length}), got ({string.Join(", ", ecg.shape)})");
        return ecg;
    }
}
