using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Models.Layers;
using Deri.Runtime;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>
/// TS-TCC (Eldele et al., IJCAI 2021, "Time-Series Representation Learning via Temporal and Contextual Contrasting")
/// on the shared ECG backbone. Per batch: a weak view (per-lead scaling by N(<c>scale_mean</c>, <c>scale_sigma</c>) plus
/// jitter) and a strong view (random segment permutation plus jitter) go through the backbone separately; the feature
/// maps <c>(B, C, T')</c>, L2-normalised over channels as the release does, are the latent sequences.
/// <para>
/// Temporal contrasting (<c>tc</c>): for one random t ∈ [0, T' − K) per batch, an autoregressive transformer (a learned
/// context token prepended to the projected latents z₁…z_t, pre-norm blocks, no positional embedding, as the release)
/// summarises one view into c_t, and K linear heads W_k predict the OTHER view's z_{t+k}; InfoNCE over the batch for each
/// k: −(1/(B·K)) Σ_k Σ_i log softmax_j(z_{t+k,i} · W_k c_{t,j}). The term is the sum of both directions (weak→strong and
/// strong→weak). Contextual contrasting (<c>cc</c>): NT-Xent (cosine, τ = 0.2) between the two views' contexts after a
/// projection head (hidden → C/2 → BN → ReLU → C/4). Default weights tc = 1, cc = 0.7 (the paper's λ₁, λ₂).
/// </para>
/// <para>
/// Differences from the release: the weak view also gets jitter (the paper's "jitter-and-scale"; the release code only
/// scales) and its scaling factor is drawn per record and lead rather than per record and time step; permutation split
/// points avoid empty pieces; attention scales by 1/√(head width) rather than 1/√(width). <see cref="Represent"/> is the
/// time average of the backbone's feature map.
/// </para>
/// </summary>
public sealed class TsTcc : EcgSslMethod
{
    /// <summary>Name of the temporal-contrast term.</summary>
    public const string TcTerm = "tc";
    /// <summary>Name of the contextual-contrast term.</summary>
    public const string CcTerm = "cc";

    private readonly EcgEncoder ecg_encoder;
    private readonly Linear patch_to_embedding;
    private readonly Parameter c_token;
    private readonly ModuleList<TsTccBlock> transformer;
    private readonly ModuleList<Linear> Wk;
    private readonly Sequential projection_head;
    private readonly TsTccConfig config;
    private readonly long latentLength;

    /// <summary>Builds the method around <paramref name="encoder"/> whose feature map has <paramref name="latentLength"/> steps.</summary>
    /// <exception cref="ArgumentException">The latent sequence is too short for K future steps.</exception>
    private TsTcc(EcgEncoder encoder, long latentLength, TsTccConfig config) : base("ts_tcc")
    {
        if (latentLength < config.Timesteps + 1)
            throw new Deri.Config.ConfigException(
                $"ssl.tstcc.timesteps = {config.Timesteps} needs a latent sequence of more than {config.Timesteps} steps; the backbone gives {latentLength}");
        this.config = config;
        this.latentLength = latentLength;
        long c = encoder.OutputChannels, h = config.TcHiddenDim;
        ecg_encoder = encoder;
        patch_to_embedding = Linear(c, h);
        c_token = Parameter(randn(1, 1, h));
        transformer = new ModuleList<TsTccBlock>();
        for (int i = 0; i < config.TcDepth; i++) transformer.Add(new TsTccBlock($"{i}", h, config.TcHeads, config.TcMlpDim, config.TcDropout));
        Wk = new ModuleList<Linear>();
        for (int k = 0; k < config.Timesteps; k++) Wk.Add(Linear(h, c));
        projection_head = Sequential(
            ("0", Linear(h, c / 2)), ("1", new OwnedBatchNorm1d(c / 2)), ("2", ReLU()), ("3", Linear(c / 2, c / 4)));
        RegisterComponents();
    }

    /// <summary>Builds the shared backbone named by <paramref name="network"/> for <paramref name="seqLength"/>-sample inputs and TS-TCC's heads.</summary>
    /// <exception cref="ArgumentException">Invalid config, or the latent sequence is too short for K future steps.</exception>
    public static TsTcc Create(NetworkConfig network, int seqLength, TsTccConfig config)
    {
        config.Validated(network.NumLeads, seqLength);
        var encoder = ModelFactory.CreateEncoder(network, seqLength);
        return new TsTcc(encoder, encoder.OutputLength(seqLength), config);
    }

    /// <summary>The method's settings.</summary>
    public TsTccConfig Config => config;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } =
        new Dictionary<string, double> { [TcTerm] = 1.0, [CcTerm] = 0.7 };

    /// <inheritdoc/>
    public override long RepresentationDim => ecg_encoder.OutputChannels;

    /// <inheritdoc/>
    public override Tensor Represent(Tensor ecg)
    {
        using var scope = NewDisposeScope();
        return ecg_encoder.forward(ecg).mean([2]).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override LossTerms Losses(EcgBatch batch)
    {
        var x = batch.Ecg; // (B, leads, L)
        if (x.shape[0] < 2) throw new ArgumentException($"TS-TCC contrasts records of a batch: needs at least 2, got {x.shape[0]}");
        var weak = WeakAugment(x, config.ScaleMean, config.ScaleSigma, config.WeakJitterSigma);
        var strong = StrongAugment(x, config.MaxSegments, config.StrongJitterSigma);
        var z1 = functional.normalize(ecg_encoder.forward(weak), dim: 1); // (B, C, T')
        var z2 = functional.normalize(ecg_encoder.forward(strong), dim: 1);
        long t = randint(z1.shape[2] - config.Timesteps, [1]).ToInt64();
        var (tc1, c1) = TemporalContrast(z1, z2, t);
        var (tc2, c2) = TemporalContrast(z2, z1, t);
        var cc = NtXent(projection_head.forward(c1), projection_head.forward(c2), config.Temperature);
        return new LossTerms().Add(TcTerm, tc1.add(tc2, Scalars.One)).Add(CcTerm, cc);
    }

    /// <summary>
    /// One direction of the temporal contrast: the context of <paramref name="source"/>'s steps 0…t predicts
    /// <paramref name="target"/>'s steps t+1…t+K. Both <c>(B, C, T')</c>. Returns the InfoNCE loss and the context <c>(B, hidden)</c>.
    /// </summary>
    public (Tensor Loss, Tensor Context) TemporalContrast(Tensor source, Tensor target, long t)
    {
        int k = config.Timesteps;
        var seq = source[.., .., ..(int)(t + 1)].transpose(1, 2); // (B, t+1, C)
        var ct = Context(seq);
        var future = target[.., .., (int)(t + 1)..(int)(t + 1 + k)].permute(2, 0, 1); // (K, B, C)
        var pred = stack(Enumerable.Range(0, k).Select(i => Wk[i].forward(ct)).ToArray()); // (K, B, C)
        return (InfoNce(future, pred), ct);
    }

    // seq: (B, n, C) → c_t (B, hidden), the output at the context token.
    private Tensor Context(Tensor seq)
    {
        var x = patch_to_embedding.forward(seq);
        x = cat([c_token.expand(x.shape[0], 1, x.shape[2]), x], 1);
        foreach (var block in transformer) x = block.forward(x);
        return x[.., 0];
    }

    /// <summary>
    /// TS-TCC's InfoNCE: <paramref name="future"/> and <paramref name="pred"/> are <c>(K, B, C)</c>; for each k the scores
    /// future_k · pred_kᵀ <c>(B, B)</c> are log-softmaxed over predictions and the diagonal kept:
    /// −(1/(B·K)) Σ_k Σ_i log softmax(future_k pred_kᵀ)[i, i].
    /// </summary>
    public static Tensor InfoNce(Tensor future, Tensor pred)
    {
        long k = future.shape[0], b = future.shape[1];
        var scores = future.bmm(pred.transpose(1, 2)); // (K, B, B)
        using var count = (-(double)(b * k)).ToScalar(); // batch size and steps change at run time: owned
        return functional.log_softmax(scores, 2).diagonal(0, 1, 2).sum().div(count);
    }

    /// <summary>
    /// NT-Xent (SimCLR) with cosine similarity between <paramref name="a"/> and <paramref name="b"/> <c>(B, D)</c>: over the
    /// 2B rows, cross-entropy of each row's positive against every other row, averaged.
    /// </summary>
    public static Tensor NtXent(Tensor a, Tensor b, double temperature)
    {
        long n = a.shape[0];
        var z = functional.normalize(cat([a, b], 0), dim: 1); // (2B, D)
        // Owned Scalars: the temperature is the caller's and the batch size changes at run time.
        using var tau = temperature.ToScalar();
        using var batch = n.ToScalar();
        using var twoBatch = (2 * n).ToScalar();
        var sim = z.mm(z.t()).div(tau);
        sim = sim.masked_fill(eye(2 * n, dtype: ScalarType.Bool, device: z.device), Scalars.Constant(double.NegativeInfinity));
        var targets = cat([arange(batch, twoBatch, Scalars.One, device: z.device), arange(Scalars.Zero, batch, Scalars.One, device: z.device)]);
        return functional.cross_entropy(sim, targets);
    }

    /// <summary>Weak view: x·s + ε with s ~ N(<paramref name="scaleMean"/>, <paramref name="scaleSigma"/>) per record and lead, ε ~ N(0, <paramref name="jitter"/>).</summary>
    public static Tensor WeakAugment(Tensor x, double scaleMean, double scaleSigma, double jitter)
    {
        // Owned Scalars: the parameters are the caller's.
        using var sigma = scaleSigma.ToScalar();
        using var mean = scaleMean.ToScalar();
        using var std = jitter.ToScalar();
        var s = randn(x.shape[0], x.shape[1], 1, device: x.device).mul_(sigma).add_(mean, Scalars.One);
        return (x * s).add(randn_like(x).mul_(std), Scalars.One);
    }

    /// <summary>
    /// Strong view: each record is cut at 0 … <paramref name="maxSegments"/> − 2 random points into pieces that are put
    /// back in a random order (the same for every lead), then jittered by N(0, <paramref name="jitter"/>).
    /// </summary>
    public static Tensor StrongAugment(Tensor x, int maxSegments, double jitter)
    {
        long b = x.shape[0], l = x.shape[2];
        var order = new long[b * l];
        for (long i = 0; i < b; i++)
        {
            int pieces = (int)randint(1, maxSegments, [1]).ToInt64();
            pieces = (int)Math.Min(pieces, l);
            // Cut points in 1 … L−1 so that no piece is empty.
            var cuts = pieces > 1 ? randperm(l - 1)[..(pieces - 1)].add(Scalars.One, Scalars.One).data<long>().ToArray() : [];
            Array.Sort(cuts);
            var bounds = new long[pieces + 1];
            bounds[pieces] = l;
            for (int p = 1; p < pieces; p++) bounds[p] = cuts[p - 1];
            var perm = randperm(pieces).data<long>().ToArray();
            long o = i * l;
            foreach (long p in perm)
                for (long s = bounds[p]; s < bounds[p + 1]; s++) order[o++] = s;
        }
        using var index = tensor(order, [b, 1, l]).to(x.device);
        using var std = jitter.ToScalar(); // the caller's value: owned
        return x.gather(2, index.expand(b, x.shape[1], l)).add(randn_like(x).mul_(std), Scalars.One);
    }
}

/// <summary>TS-TCC's pre-norm transformer block: x + attn(LN x); x + FF(LN x) with FF = Linear → ReLU → Dropout → Linear → Dropout.</summary>
public sealed class TsTccBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1, norm2;
    private readonly SelfAttention attn;
    private readonly Dropout attn_drop;
    private readonly Sequential ff;

    /// <summary>Block over <paramref name="width"/>-wide tokens.</summary>
    public TsTccBlock(string name, long width, long heads, long mlp, double dropout) : base(name)
    {
        norm1 = LayerNorm(width);
        attn = new SelfAttention("attn", width, heads, width / heads);
        attn_drop = Dropout(dropout);
        norm2 = LayerNorm(width);
        ff = Sequential(("0", Linear(width, mlp)), ("1", ReLU()), ("2", Dropout(dropout)), ("3", Linear(mlp, width)), ("4", Dropout(dropout)));
        RegisterComponents();
    }

    /// <summary>x: (B, n, width) → (B, n, width).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x.add(attn_drop.forward(attn.forward(norm1.forward(x))), Scalars.One);
        x = x.add(ff.forward(norm2.forward(x)), Scalars.One);
        return x.MoveToOuterDisposeScope();
    }
}
