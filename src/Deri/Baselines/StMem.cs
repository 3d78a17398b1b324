using Deri.Config;
using Deri.Runtime;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>
/// ST-MEM, spatio-temporal masked electrocardiogram modelling (Na et al., ICLR 2024): every lead is cut into
/// non-overlapping patches embedded by one map shared across leads, with temporal position embeddings, a learnable
/// embedding per lead and a SEP token at each end of every lead. A random fraction (<c>mask_ratio</c>) of each lead's
/// patches is masked; a ViT encodes the visible tokens of all leads together (so attention mixes time and leads); a
/// light decoder fills the masked positions with a mask embedding and reconstructs every lead's patches from that
/// lead's tokens alone. The loss is the MSE over the masked patches only. The representation is the mean of the
/// encoder's output tokens over all leads and patches (SEP tokens excluded) of the unmasked input, layer-normalised.
/// </summary>
/// <remarks>
/// Parameter names follow the release (<c>encoder.*</c>, <c>to_decoder_embedding</c>, <c>mask_embedding</c>,
/// <c>decoder_pos_embed</c>, <c>decoder_blocks.*</c>, <c>decoder_norm</c>, <c>decoder_head</c>), as do its
/// initialisation (xavier-uniform linear weights, zero biases, N(0, 0.02²) SEP, lead and mask embeddings) and its
/// fixed sine–cosine position tables.
/// </remarks>
public sealed class StMem : EcgSslMethod
{
    private readonly StMemEncoder encoder;
    private readonly Linear to_decoder_embedding;
    private readonly Parameter mask_embedding;
    private readonly Parameter decoder_pos_embed;
    private readonly ModuleList<PreNormTransformerBlock> decoder_blocks;
    private readonly LayerNorm decoder_norm;
    private readonly Linear decoder_head;
    private readonly StMemConfig config;
    private readonly long leads, length, patch, patches;

    /// <summary>Builds ST-MEM for <paramref name="leads"/> × <paramref name="seqLength"/> inputs.</summary>
    /// <exception cref="ArgumentException">The configuration does not fit the input geometry.</exception>
    public StMem(int leads, int seqLength, StMemConfig config) : base("st_mem")
    {
        this.config = config.Validated(leads, seqLength);
        (this.leads, length, patch) = (leads, seqLength, config.PatchSize);
        patches = seqLength / config.PatchSize;
        long d = config.DecoderWidth;
        encoder = new StMemEncoder("encoder", leads, seqLength, config);
        to_decoder_embedding = Linear(config.Width, d);
        mask_embedding = Parameter(zeros(1, 1, d));
        decoder_pos_embed = Parameter(PositionTable(patches, d), requires_grad: false);
        decoder_blocks = new ModuleList<PreNormTransformerBlock>();
        for (int i = 0; i < config.DecoderDepth; i++)
            decoder_blocks.Add(new PreNormTransformerBlock($"{i}", d, 4 * d, config.DecoderHeads, config.HeadDim, qkvBias: true));
        decoder_norm = LayerNorm(d, eps: 1e-6);
        decoder_head = Linear(d, patch);
        RegisterComponents();
        using (no_grad())
        {
            foreach (var module in modules().OfType<Linear>())
            {
                init.xavier_uniform_(module.weight!);
                module.bias?.zero_();
            }
            init.normal_(mask_embedding, std: 0.02);
        }
    }

    /// <summary>Builds ST-MEM for <c>network.num_leads</c> leads of <paramref name="seqLength"/> samples.</summary>
    public static StMem Create(NetworkConfig network, int seqLength, StMemConfig config) => new(network.NumLeads, seqLength, config);

    /// <summary>The one loss term, <c>masked_mse</c>, weighted 1.</summary>
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } =
        new Dictionary<string, double> { ["masked_mse"] = 1.0 };

    /// <inheritdoc/>
    public override long RepresentationDim => config.Width;

    /// <summary>The encoder whose output <see cref="Represent"/> gives.</summary>
    public StMemEncoder Encoder => encoder;

    /// <summary>Patches per lead.</summary>
    public long PatchesPerLead => patches;

    /// <summary>Visible patches per lead during pretraining: ⌊n·(1 − mask_ratio)⌋.</summary>
    public long VisiblePerLead => (long)(patches * (1 - config.MaskRatio));

    /// <summary><c>masked_mse</c>: the mean squared error over the masked patches (see <see cref="MaskedMse"/>).</summary>
    public override LossTerms Losses(EcgBatch batch)
    {
        var ecg = CheckInput(batch.Ecg);
        var (pred, mask) = Reconstruct(ecg);
        return new LossTerms().Add("masked_mse", MaskedMse(pred, StMemEncoder.Patchify(ecg, patch), mask, config.NormTargets));
    }

    /// <summary>
    /// One masked reconstruction. Per lead the patches are ordered by <paramref name="noise"/> <c>(B, leads, n)</c>
    /// (drawn uniformly from the torch default CPU generator when null) and the ⌊n·(1 − mask_ratio)⌋ lowest stay
    /// visible. Returns the predicted patches <c>(B, leads, n, patch)</c> and the mask <c>(B, leads, n)</c>
    /// (1 = masked, 0 = visible).
    /// </summary>
    public (Tensor Prediction, Tensor Mask) Reconstruct(Tensor ecg, Tensor? noise = null)
    {
        CheckInput(ecg);
        long b = ecg.shape[0], w = config.Width, d = config.DecoderWidth, keep = VisiblePerLead;
        if (noise is not null && !noise.shape.SequenceEqual([b, leads, patches]))
            throw new ArgumentException($"st_mem: mask noise must be ({b}, {leads}, {patches}), got ({string.Join(", ", noise.shape)})");
        using var scope = NewDisposeScope();
        // Drawn on the CPU generator whatever the device, so a checkpointed run repeats its masks anywhere.
        noise = noise?.to(ecg.device) ?? rand(b, leads, patches).to(ecg.device);
        var tokens = encoder.Tokens(ecg); // (B, C, n, W)
        var idsShuffle = noise.argsort(2);
        var idsRestore = idsShuffle.argsort(2);
        var visible = tokens.gather(2, idsShuffle[.., .., ..(int)keep].unsqueeze(-1).expand(b, leads, keep, w)); // (B, C, keep, W)
        var mask = ones(b, leads, patches, device: ecg.device);
        mask[.., .., ..(int)keep] = 0;
        mask = mask.gather(2, idsRestore);
        var encoded = encoder.Encode(visible); // (B, C·(keep+2), W), normalised

        var x = to_decoder_embedding.forward(encoded).view(b, leads, keep + 2, d);
        var masked = mask_embedding.unsqueeze(1).expand(b, leads, patches - keep, d);
        var body = cat([x[.., .., 1..(int)(keep + 1)], masked], 2)
            .gather(2, idsRestore.unsqueeze(-1).expand(b, leads, patches, d))
            .add(decoder_pos_embed[.., 1..(int)(patches + 1)].unsqueeze(1), Scalars.One); // (B, C, n, D)
        var left = x[.., .., ..1].add(decoder_pos_embed[.., ..1].unsqueeze(1), Scalars.One);
        var right = x[.., .., ^1..].add(decoder_pos_embed[.., ^1..].unsqueeze(1), Scalars.One);
        // The decoder attends within each lead: leads become batch entries, (B·C, n+2, D).
        var y = cat([left, body, right], 2).view(b * leads, patches + 2, d);
        foreach (var block in decoder_blocks) y = block.forward(y);
        var pred = decoder_head.forward(decoder_norm.forward(y))[.., 1..(int)(patches + 1)].reshape(b, leads, patches, patch);
        return (pred.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>ECG <c>(B, leads, L)</c> → <c>(B, width)</c>, the encoder's representation of the unmasked input.</summary>
    public override Tensor Represent(Tensor ecg) => encoder.forward(CheckInput(ecg));

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
            target = (target - target.mean([-1], keepdim: true)) / target.var(-1, keepdim: true).add(Scalars.Constant(1e-6), Scalars.One).sqrt();
        var perPatch = (prediction - target).pow(Scalars.Constant(2L)).mean([-1]); // (B, C, n); square() is pow(2) with an unowned exponent
        return ((perPatch * mask).sum() / mask.sum()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The release's position table <c>(1, n+2, width)</c>: rows 0 and n+1 (the SEP positions) are zero; row j+1 is
    /// MAE's 1-D sine–cosine embedding of patch j, sin(j·ωᵢ) for i &lt; width/2 and cos(j·ω_{i−width/2}) after,
    /// with ωᵢ = 10000^(−i/(width/2)).
    /// </summary>
    public static Tensor PositionTable(long patches, long width)
    {
        if (width % 2 != 0) throw new ArgumentException($"sine-cosine positions need an even width, got {width}");
        long half = width / 2;
        var table = new float[(patches + 2) * width];
        for (long j = 0; j < patches; j++)
            for (long i = 0; i < half; i++)
            {
                double angle = j * Math.Pow(10000, -(double)i / half);
                table[(j + 1) * width + i] = (float)Math.Sin(angle);
                table[(j + 1) * width + half + i] = (float)Math.Cos(angle);
            }
        return tensor(table, [1, patches + 2, width]).clone();
    }

    private Tensor CheckInput(Tensor ecg)
    {
        if (ecg.dim() != 3 || ecg.shape[1] != leads || ecg.shape[2] != length)
            throw new ArgumentException($"st_mem: built for ECG (B, {leads}, {length}), got ({string.Join(", ", ecg.shape)})");
        return ecg;
    }
}

/// <summary>
/// ST-MEM's ViT encoder (<c>encoder.*</c>): <c>to_patch_embedding</c> LayerNorm(patch) → Linear(patch, width) →
/// LayerNorm(width) applied to every lead's patches, the fixed <c>pos_embedding</c> table, <c>sep_embedding</c>,
/// one <c>lead_embeddings.i</c> per lead, blocks <c>block0</c>… over all leads' tokens together, and <c>norm</c>.
/// </summary>
public sealed class StMemEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential to_patch_embedding;
    private readonly Parameter pos_embedding;
    private readonly Parameter sep_embedding;
    private readonly ParameterList lead_embeddings;
    private readonly List<PreNormTransformerBlock> blocks = [];
    private readonly LayerNorm norm;
    private readonly long leads, patch, patches, width;

    /// <summary>The encoder for <paramref name="leads"/> × <paramref name="seqLength"/> inputs.</summary>
    public StMemEncoder(string name, int leads, int seqLength, StMemConfig config) : base(name)
    {
        config.Validated(leads, seqLength);
        (this.leads, patch, width) = (leads, config.PatchSize, config.Width);
        patches = seqLength / patch;
        to_patch_embedding = Sequential(("1", LayerNorm(patch)), ("2", Linear(patch, width)), ("3", LayerNorm(width)));
        pos_embedding = Parameter(StMem.PositionTable(patches, width), requires_grad: false);
        sep_embedding = Parameter(randn(width).mul_(Scalars.Constant(0.02)));
        lead_embeddings = new ParameterList();
        for (int i = 0; i < leads; i++) lead_embeddings.Add(Parameter(randn(width).mul_(Scalars.Constant(0.02))));
        norm = LayerNorm(width);
        RegisterComponents();
        for (int i = 0; i < config.Depth; i++)
        {
            var block = new PreNormTransformerBlock($"block{i}", width, 4 * width, config.Heads, config.HeadDim, qkvBias: true);
            blocks.Add(block);
            register_module($"block{i}", block);
        }
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

    /// <summary>ECG (B, leads, L) → patch tokens with their positions (B, leads, n, width).</summary>
    public Tensor Tokens(Tensor ecg)
    {
        using var scope = NewDisposeScope();
        var tokens = to_patch_embedding.forward(Patchify(ecg, patch)).add(pos_embedding[.., 1..(int)(patches + 1)].unsqueeze(1), Scalars.One);
        return tokens.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Tokens (B, leads, k, width) of any k patches per lead, positions added → (B, leads·(k+2), width): a SEP token
    /// (position rows 0 and n+1) at each end of every lead, the lead embeddings, the blocks over all leads' tokens
    /// together, and the final norm.
    /// </summary>
    public Tensor Encode(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return norm.forward(Blocks(tokens)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ECG (B, leads, L) → (B, width): all patches visible, the blocks' output tokens averaged over leads and patches
    /// (SEP tokens left out), then the final norm (the release's <c>forward_encoding</c>).
    /// </summary>
    public override Tensor forward(Tensor ecg)
    {
        using var scope = NewDisposeScope();
        long b = ecg.shape[0];
        var encoded = Blocks(Tokens(ecg)).view(b, leads, patches + 2, width)[.., .., 1..(int)(patches + 1)];
        return norm.forward(encoded.mean([1, 2])).MoveToOuterDisposeScope();
    }

    // tokens (B, C, k, W) → (B, C·(k+2), W) after the blocks, before the final norm.
    private Tensor Blocks(Tensor tokens)
    {
        long b = tokens.shape[0], k = tokens.shape[2];
        var sep = sep_embedding.view(1, 1, 1, width);
        var left = sep.add(pos_embedding[.., ..1].unsqueeze(1), Scalars.One).expand(b, leads, 1, width);
        var right = sep.add(pos_embedding[.., ^1..].unsqueeze(1), Scalars.One).expand(b, leads, 1, width);
        var leadTable = stack(lead_embeddings.ToArray()).view(1, leads, 1, width);
        var x = cat([left, tokens, right], 2).add(leadTable, Scalars.One).reshape(b, leads * (k + 2), width);
        foreach (var block in blocks) x = block.forward(x);
        return x;
    }
}
