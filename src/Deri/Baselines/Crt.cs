using Deri.Config;
using Deri.Runtime;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>The targets and predictions of one CRT cross reconstruction, each <c>(B, patches, leads·patch)</c>.</summary>
/// <param name="Time">Predicted time patches (B, L/p, C·p).</param>
/// <param name="Magnitude">Predicted magnitude patches (B, L/2p, C·p).</param>
/// <param name="Phase">Predicted phase patches (B, L/2p, C·p).</param>
/// <param name="TimeTarget">The input's time patches.</param>
/// <param name="MagnitudeTarget">The input's magnitude patches.</param>
/// <param name="PhaseTarget">The input's phase patches.</param>
/// <param name="KeptTime">Indices of the time patches the encoder saw, ascending.</param>
/// <param name="KeptSpectrum">Indices of the magnitude and phase patches the encoder saw, ascending.</param>
/// <param name="Idc">The instance discrimination constraint of the step (a scalar).</param>
public sealed record CrtReconstruction(
    Tensor Time, Tensor Magnitude, Tensor Phase, Tensor TimeTarget, Tensor MagnitudeTarget, Tensor PhaseTarget,
    Tensor KeptTime, Tensor KeptSpectrum, Tensor Idc);

/// <summary>
/// CRT, the cross reconstruction transformer (Zhang et al., "Self-supervised time series representation learning via
/// cross reconstruction transformer", IEEE TNNLS 2023). The ECG is represented in three domains: time patches and,
/// from the first L/2 bins of its Fourier transform, magnitude and phase patches; a patch spans all leads
/// (C·p values). Patches are randomly dropped — left out of the encoder's input, not replaced by a mask token —
/// from every domain (magnitude and phase at the same bins). A transformer encodes the kept tokens of all domains
/// together with a CLS token per domain, position and domain-type embeddings; a decoder, given a per-domain mask
/// token at every dropped position, reconstructs all patches of all three domains (cross-domain reconstruction).
/// Loss terms: <c>time</c>, <c>magnitude</c>, <c>phase</c> (MSE over all patches of the domain) and <c>idc</c>, the
/// release's instance discrimination constraint. The representation is the mean of the three CLS outputs.
/// </summary>
/// <remarks>
/// Token layout, S = n + 2m + 3 with n = L/p time and m = L/(2p) spectral patches:
/// [CLS_t, t₁…t_n, CLS_m, m₁…m_m, CLS_φ, φ₁…φ_m]. Field names echo the release's (<c>to_patch</c>, <c>cls_token</c>,
/// <c>modal_embedding</c>, <c>pos_embedding</c>, <c>transformer</c>, <c>projs</c>, <c>mask_token</c>, <c>decoder_pos_emb</c>,
/// <c>decoder</c>, <c>to_pixels</c>); the module tree is flatter, so its checkpoints do not load by name.
/// </remarks>
public sealed class Crt : EcgSslMethod
{
    private readonly ModuleList<Linear> to_patch;
    private readonly Parameter cls_token;
    private readonly Parameter modal_embedding;
    private readonly Parameter pos_embedding;
    private readonly ModuleList<PreNormTransformerBlock> transformer;
    private readonly ModuleList<Linear> projs;
    private readonly Linear enc_to_dec;
    private readonly Parameter mask_token;
    private readonly Parameter decoder_pos_emb;
    private readonly ModuleList<PreNormTransformerBlock> decoder;
    private readonly ModuleList<Linear> to_pixels;
    private readonly CrtConfig config;
    private readonly long leads, length, patch, timePatches, spectralPatches, sequence;
    private readonly long[] domainOfPosition; // (S): 0 time, 1 magnitude, 2 phase, per token position

    /// <summary>Builds CRT for <paramref name="leads"/> × <paramref name="seqLength"/> inputs.</summary>
    /// <exception cref="ArgumentException">The configuration does not fit the input geometry.</exception>
    public Crt(int leads, int seqLength, CrtConfig config) : base("crt")
    {
        this.config = config.Validated(leads, seqLength);
        (this.leads, length, patch) = (leads, seqLength, config.PatchSize);
        timePatches = seqLength / patch;
        spectralPatches = seqLength / 2 / patch;
        sequence = timePatches + 2 * spectralPatches + 3;
        long w = config.Width, d = config.DecoderWidth, values = leads * patch;
        // The release embeds each patch with a per-domain 1-D ResNet-18; here one linear map per domain.
        to_patch = new ModuleList<Linear>();
        for (int i = 0; i < 3; i++) to_patch.Add(Linear(values, w));
        cls_token = Parameter(randn(1, 3, w).mul_(Scalars.Constant(0.02)));
        modal_embedding = Parameter(randn(3, w).mul_(Scalars.Constant(0.02)));
        pos_embedding = Parameter(randn(1, sequence, w).mul_(Scalars.Constant(0.02)));
        transformer = new ModuleList<PreNormTransformerBlock>();
        // The release's blocks: no q/k/v bias, an MLP as wide as the tokens.
        for (int i = 0; i < config.Depth; i++)
            transformer.Add(new PreNormTransformerBlock($"{i}", w, w, config.Heads, config.HeadDim, qkvBias: false));
        projs = new ModuleList<Linear>(Linear(w, w), Linear(w, w));
        enc_to_dec = Linear(w, d);
        mask_token = Parameter(randn(3, d).mul_(Scalars.Constant(0.02)));
        decoder_pos_emb = Parameter(randn(1, sequence, d).mul_(Scalars.Constant(0.02)));
        decoder = new ModuleList<PreNormTransformerBlock>();
        for (int i = 0; i < config.DecoderDepth; i++)
            decoder.Add(new PreNormTransformerBlock($"{i}", d, d, config.DecoderHeads, config.HeadDim, qkvBias: false));
        to_pixels = new ModuleList<Linear>();
        for (int i = 0; i < 3; i++) to_pixels.Add(Linear(d, values));
        var domains = new long[sequence];
        for (long s = timePatches + 1; s < sequence; s++) domains[s] = s < timePatches + spectralPatches + 2 ? 1 : 2;
        domainOfPosition = domains;
        RegisterComponents();
    }

    /// <summary>Builds CRT for <c>network.num_leads</c> leads of <paramref name="seqLength"/> samples.</summary>
    public static Crt Create(NetworkConfig network, int seqLength, CrtConfig config) => new(network.NumLeads, seqLength, config);

    /// <summary>
    /// <c>time</c> 0.5, <c>magnitude</c> 0.25, <c>phase</c> 0.25 — with n = 2m time patches this is the release's
    /// single MSE over all reconstructed patches — and <c>idc</c> 1e-4 (the release's β).
    /// </summary>
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } =
        new Dictionary<string, double> { ["time"] = 0.5, ["magnitude"] = 0.25, ["phase"] = 0.25, ["idc"] = 1e-4 };

    /// <inheritdoc/>
    public override long RepresentationDim => config.Width;

    /// <summary>Time patches n = L/p.</summary>
    public long TimePatches => timePatches;

    /// <summary>Magnitude (and phase) patches m = L/(2p).</summary>
    public long SpectralPatches => spectralPatches;

    /// <summary>Time patches the encoder sees in pretraining: n − ⌊drop_ratio·n⌋.</summary>
    public long KeptTimePatches => timePatches - (long)(config.DropRatio * timePatches);

    /// <summary>Magnitude (and phase) patches the encoder sees in pretraining: m − ⌊drop_ratio·m⌋.</summary>
    public long KeptSpectralPatches => spectralPatches - (long)(config.DropRatio * spectralPatches);

    /// <summary>The loss terms <c>time</c>, <c>magnitude</c>, <c>phase</c> (MSE over every patch) and <c>idc</c>.</summary>
    public override LossTerms Losses(EcgBatch batch)
    {
        var r = Reconstruct(batch.Ecg);
        return new LossTerms()
            .Add("time", functional.mse_loss(r.Time, r.TimeTarget))
            .Add("magnitude", functional.mse_loss(r.Magnitude, r.MagnitudeTarget))
            .Add("phase", functional.mse_loss(r.Phase, r.PhaseTarget))
            .Add("idc", r.Idc);
    }

    /// <summary>
    /// One cross reconstruction: encodes the kept tokens and decodes every patch of every domain. The kept time
    /// patches <paramref name="keptTime"/> and spectral patches <paramref name="keptSpectrum"/> (magnitude and phase
    /// alike) are drawn when null, by one random permutation each from the torch default CPU generator, shared by
    /// the batch as in the release.
    /// </summary>
    /// <exception cref="ArgumentException">The ECG's shape differs from the model's, or a given index set has the
    /// wrong size, repeats an index or leaves the range.</exception>
    public CrtReconstruction Reconstruct(Tensor ecg, IReadOnlyList<long>? keptTime = null, IReadOnlyList<long>? keptSpectrum = null)
    {
        CheckInput(ecg);
        long[] keptT = keptTime is null ? KeptIndices(timePatches, KeptTimePatches) : CheckKept(keptTime, timePatches, KeptTimePatches, "time");
        long[] keptF = keptSpectrum is null ? KeptIndices(spectralPatches, KeptSpectralPatches)
            : CheckKept(keptSpectrum, spectralPatches, KeptSpectralPatches, "spectral");
        using var scope = NewDisposeScope();
        long b = ecg.shape[0];
        var (magnitude, phase) = Spectrum(ecg, NormType(config.FftNorm));
        var targets = new[] { Patchify(ecg, patch), Patchify(magnitude, patch), Patchify(phase, patch) };
        var embedded = Enumerable.Range(0, 3).Select(i => to_patch[i].forward(targets[i])).ToArray(); // 3 × (B, n_i, W)

        long[] keptPositions = [0, .. keptT.Select(i => i + 1), timePatches + 1, .. keptF.Select(i => i + timePatches + 2),
            timePatches + spectralPatches + 2, .. keptF.Select(i => i + timePatches + spectralPatches + 3)];
        long[] droppedPositions = Enumerable.Range(0, (int)sequence).Select(i => (long)i).Except(keptPositions).ToArray();
        var device = ecg.device;
        var tokens = Layout(embedded, b).add(Embeddings(), Scalars.One).index_select(1, tensor(keptPositions, device: device)); // (B, K, W)

        var encoded = tokens;
        foreach (var block in transformer) encoded = block.forward(encoded);

        // IDC on the kept patch tokens (CLS tokens left out): patch embeddings before the encoder vs. its outputs.
        var keptTimeIndex = tensor(keptT, device: device);
        var keptSpectralIndex = tensor(keptF, device: device);
        var keptPatchEmbeddings = cat([embedded[0].index_select(1, keptTimeIndex), embedded[1].index_select(1, keptSpectralIndex),
            embedded[2].index_select(1, keptSpectralIndex)], 1); // (B, K−3, W)
        long kt = keptT.Length, kf = keptF.Length;
        long[] patchSlots = Enumerable.Range(0, keptPositions.Length).Select(i => (long)i)
            .Where(i => i != 0 && i != kt + 1 && i != kt + kf + 2).ToArray();
        var idc = InstanceDiscrimination(projs[0].forward(keptPatchEmbeddings),
            projs[1].forward(encoded.index_select(1, tensor(patchSlots, device: device))));

        // Decoder input in the full layout: encoded tokens at kept positions, the domain's mask token elsewhere.
        var masks = mask_token.index_select(0, tensor(droppedPositions.Select(s => domainOfPosition[s]).ToArray(), device: device))
            .unsqueeze(0).expand(b, -1, -1); // (B, S−K, D)
        long[] order = [.. keptPositions, .. droppedPositions];
        var restore = tensor(order, device: device).argsort(); // full-layout position s ← row restore[s] of [kept…, dropped…]
        var y = cat([enc_to_dec.forward(encoded), masks], 1).index_select(1, restore).add(decoder_pos_emb, Scalars.One); // (B, S, D)
        foreach (var block in decoder) y = block.forward(y);

        long mStart = timePatches + 2, pStart = timePatches + spectralPatches + 3;
        var predT = to_pixels[0].forward(y[.., 1..(int)(timePatches + 1)]);
        var predM = to_pixels[1].forward(y[.., (int)mStart..(int)(mStart + spectralPatches)]);
        var predP = to_pixels[2].forward(y[.., (int)pStart..]);
        return new CrtReconstruction(
            predT.MoveToOuterDisposeScope(), predM.MoveToOuterDisposeScope(), predP.MoveToOuterDisposeScope(),
            targets[0].MoveToOuterDisposeScope(), targets[1].MoveToOuterDisposeScope(), targets[2].MoveToOuterDisposeScope(),
            keptTimeIndex.MoveToOuterDisposeScope(), keptSpectralIndex.MoveToOuterDisposeScope(), idc.MoveToOuterDisposeScope());
    }

    /// <summary>ECG <c>(B, leads, L)</c> → <c>(B, width)</c>: every patch kept, the mean of the three CLS outputs.</summary>
    public override Tensor Represent(Tensor ecg)
    {
        CheckInput(ecg);
        using var scope = NewDisposeScope();
        long b = ecg.shape[0];
        var (magnitude, phase) = Spectrum(ecg, NormType(config.FftNorm));
        var embedded = new[] { Patchify(ecg, patch), Patchify(magnitude, patch), Patchify(phase, patch) }
            .Select((x, i) => to_patch[i].forward(x)).ToArray();
        var x = Layout(embedded, b).add(Embeddings(), Scalars.One);
        foreach (var block in transformer) x = block.forward(x);
        var cls = x.index_select(1, tensor(new[] { 0L, timePatches + 1, timePatches + spectralPatches + 2 }, device: ecg.device));
        return cls.mean([1]).MoveToOuterDisposeScope();
    }

    /// <summary>The FFT scaling <c>ssl.crt.fft_norm</c> names (validated by <see cref="CrtConfig"/>).</summary>
    private static FFTNormType NormType(string fftNorm) => fftNorm switch
    {
        "backward" => FFTNormType.Backward,
        "forward" => FFTNormType.Forward,
        _ => FFTNormType.Ortho,
    };

    /// <summary>
    /// Magnitude and phase <c>(B, C, L/2)</c> of bins 0…L/2−1 of the discrete Fourier transform along the last axis,
    /// X_k = s·Σₜ x_t·e^(−2πikt/L) with s = 1/√L (ortho), 1 (backward) or 1/L (forward); phase = atan2(Im, Re).
    /// </summary>
    public static (Tensor Magnitude, Tensor Phase) Spectrum(Tensor ecg, FFTNormType norm)
    {
        using var scope = NewDisposeScope();
        long half = ecg.shape[^1] / 2;
        var spectrum = fft.rfft(ecg, norm: norm)[TensorIndex.Ellipsis, ..(int)half];
        var re = spectrum.real;
        var im = spectrum.imag;
        var two = Scalars.Constant(2L); // square() is pow(2) with an unowned exponent
        return (re.pow(two).add(im.pow(two), Scalars.One).sqrt().MoveToOuterDisposeScope(), atan2(im, re).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// (B, C, L) → (B, L/p, C·p): patch j holds samples jp…jp+p−1 of every lead, lead-major (the release's
    /// <c>b c (n p) → b n (c p)</c>).
    /// </summary>
    public static Tensor Patchify(Tensor x, long patch)
    {
        if (x.dim() != 3 || x.shape[2] % patch != 0)
            throw new ArgumentException($"patchify: expected (B, C, L) with L divisible by {patch}, got ({string.Join(", ", x.shape)})");
        long b = x.shape[0], c = x.shape[1], n = x.shape[2] / patch;
        return x.reshape(b, c, n, patch).permute(0, 2, 1, 3).reshape(b, n, c * patch);
    }

    /// <summary>(B, n, C·p) → (B, C, n·p), the inverse of <see cref="Patchify"/> for <paramref name="leads"/> leads.</summary>
    public static Tensor Unpatchify(Tensor patches, long leads)
    {
        if (patches.dim() != 3 || patches.shape[2] % leads != 0)
            throw new ArgumentException($"unpatchify: expected (B, n, {leads}·p), got ({string.Join(", ", patches.shape)})");
        long b = patches.shape[0], n = patches.shape[1], p = patches.shape[2] / leads;
        return patches.reshape(b, n, leads, p).permute(0, 2, 1, 3).reshape(b, leads, n * p);
    }

    /// <summary>
    /// The release's instance discrimination constraint: with â, ê the L2-normalised rows of
    /// <paramref name="tokens"/> and <paramref name="encoded"/> (B, T, D), the batch mean of
    /// log Σ_{i≠j} exp(âᵢ·êⱼ) — it pushes every encoded token away from the other tokens' embeddings.
    /// </summary>
    public static Tensor InstanceDiscrimination(Tensor tokens, Tensor encoded)
    {
        using var scope = NewDisposeScope();
        long t = tokens.shape[1];
        var a = functional.normalize(tokens, p: 2, dim: -1);
        var e = functional.normalize(encoded, p: 2, dim: -1);
        var sim = a.matmul(e.transpose(1, 2)); // (B, T, T)
        var diagonal = eye(t, dtype: ScalarType.Bool, device: sim.device);
        return sim.masked_fill(diagonal, Scalars.Constant(double.NegativeInfinity)).flatten(1).logsumexp(1).mean()
            .MoveToOuterDisposeScope();
    }

    // (S, W) position + domain embeddings of the full layout, as (1, S, W).
    private Tensor Embeddings() =>
        pos_embedding.add(modal_embedding.index_select(0, tensor(domainOfPosition, device: modal_embedding.device)).unsqueeze(0), Scalars.One);

    // The full token layout (B, S, W) from the three domains' patch embeddings.
    private Tensor Layout(Tensor[] embedded, long b)
    {
        var cls = cls_token.expand(b, 3, config.Width);
        return cat([cls[.., ..1], embedded[0], cls[.., 1..2], embedded[1], cls[.., 2..3], embedded[2]], 1);
    }

    private static long[] CheckKept(IReadOnlyList<long> kept, long n, long expected, string what)
    {
        var sorted = kept.Order().ToArray();
        if (sorted.Length != expected || sorted.Distinct().Count() != sorted.Length || sorted[0] < 0 || sorted[^1] >= n)
            throw new ArgumentException($"crt: expected {expected} distinct kept {what} patches in 0..{n - 1}, got [{string.Join(", ", kept)}]");
        return sorted;
    }

    // `kept` of n indices, drawn by a random permutation from the default CPU generator (whatever the model's
    // device, so a checkpointed run repeats its draws anywhere), ascending.
    private static long[] KeptIndices(long n, long kept)
    {
        using var perm = randperm(n);
        var first = perm.data<long>().Take((int)kept).ToArray();
        Array.Sort(first);
        return first;
    }

    private Tensor CheckInput(Tensor ecg)
    {
        if (ecg.dim() != 3 || ecg.shape[1] != leads || ecg.shape[2] != length)
            throw new ArgumentException($"crt: built for ECG (B, {leads}, {length}), got ({string.Join(", ", ecg.shape)})");
        return ecg;
    }
}
