using Deri.Runtime;
using Deri.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Generation.Decoder;

/// <summary>
/// Hugging Face's <c>Conv1D</c>: a linear layer whose weight is stored transposed, shape
/// <c>(in, out)</c>, so <c>y = x · W + b</c>. Kept in this layout so GPT-2 checkpoints load as is.
/// </summary>
public sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;

    /// <summary>Creates the layer with N(0, 0.02) weights and zero bias, as GPT-2 initialises it.</summary>
    public Conv1D(int inFeatures, int outFeatures) : base(nameof(Conv1D))
    {
        weight = new Parameter(torch.randn(inFeatures, outFeatures).mul(Scalars.Constant(0.02)));
        bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
    }

    /// <summary><paramref name="x"/> <c>(…, in)</c> → <c>(…, out)</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return torch.matmul(x, weight).add(bias, Scalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>GPT-2's self-attention (<c>attn</c>) or cross-attention (<c>crossattention</c>), Hugging Face names.</summary>
public sealed class Gpt2Attention : nn.Module<Tensor, Tensor?, Tensor, Tensor>
{
    private readonly Conv1D c_attn;
    private readonly Conv1D? q_attn;
    private readonly Conv1D c_proj;
    private readonly Dropout attn_dropout;
    private readonly Dropout resid_dropout;
    private readonly int heads;
    private readonly int headDim;
    private readonly bool isCross;

    /// <summary>
    /// Self-attention: <c>c_attn</c> gives q, k, v (E → 3E). Cross-attention: <c>q_attn</c> gives q
    /// (E → E) and <c>c_attn</c> gives k, v from the memory (E → 2E).
    /// </summary>
    public Gpt2Attention(Gpt2Config config, bool isCrossAttention) : base(nameof(Gpt2Attention))
    {
        var e = config.NEmbd;
        heads = config.NHead;
        headDim = e / heads;
        isCross = isCrossAttention;
        if (isCross)
        {
            q_attn = new Conv1D(e, e);
            c_attn = new Conv1D(e, 2 * e);
        }
        else
        {
            c_attn = new Conv1D(e, 3 * e);
        }
        c_proj = new Conv1D(e, e);
        attn_dropout = nn.Dropout(config.AttnPdrop);
        resid_dropout = nn.Dropout(config.ResidPdrop);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="x"/> <c>(B, T, E)</c> → <c>(B, T, E)</c>. Self-attention: <paramref name="memory"/>
    /// is null and <paramref name="allowed"/> <c>(B, 1, T, T)</c> says which keys each query may see (causal
    /// and not padding). Cross-attention: <paramref name="memory"/> <c>(B, M, E)</c> and
    /// <paramref name="allowed"/> <c>(B, 1, 1, M)</c>.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor? memory, Tensor allowed) => Attend(x, memory, allowed, null, 0);

    /// <summary>
    /// <see cref="forward"/> with a key/value cache: self-attention appends the keys and values of
    /// <paramref name="x"/> <c>(B, T, E)</c> to those cached for <paramref name="layer"/> and attends over all of them
    /// (<paramref name="allowed"/> <c>(B, 1, T, past + T)</c>); cross-attention projects <paramref name="memory"/> once and
    /// reuses the cached keys and values afterwards (<paramref name="memory"/> may then be null).
    /// </summary>
    internal Tensor Attend(Tensor x, Tensor? memory, Tensor allowed, Gpt2KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        Tensor Split(Tensor y) => y.view(b, y.shape[1], heads, headDim).transpose(1, 2);
        Tensor q, k, v;
        if (isCross)
        {
            q = q_attn!.forward(x);
            var (cachedKey, cachedValue) = cache?.Cross(layer) ?? (null, null);
            if (cachedKey is not null && cachedValue is not null)
            {
                (k, v) = (cachedKey, cachedValue);
            }
            else
            {
                if (memory is null) throw new ArgumentException("cross-attention needs a memory (B, M, E)");
                var kv = c_attn.forward(memory).chunk(2, -1);
                (k, v) = (Split(kv[0]), Split(kv[1]));
                cache?.SetCross(layer, k, v);
            }
        }
        else
        {
            var qkv = c_attn.forward(x).chunk(3, -1);
            (q, k, v) = (qkv[0], Split(qkv[1]), Split(qkv[2]));
            if (cache is not null)
            {
                var (pastKey, pastValue) = cache.Self(layer);
                if (pastKey is not null && pastValue is not null)
                {
                    k = torch.cat([pastKey, k], 2);
                    v = torch.cat([pastValue, v], 2);
                }
                cache.SetSelf(layer, k, v);
            }
        }
        q = Split(q);
        // Scores (B, heads, T, keys); hidden keys get the dtype's minimum (not −∞, so a fully hidden row stays finite).
        var scores = torch.matmul(q, k.transpose(-1, -2)).div(Scalars.Constant(Math.Sqrt(headDim)));
        var min = scores.dtype == ScalarType.Float64 ? double.MinValue : float.MinValue;
        scores = scores.masked_fill(allowed.logical_not(), Scalars.Constant(min));
        var probs = attn_dropout.forward(nn.functional.softmax(scores, -1));
        var context = torch.matmul(probs, v).transpose(1, 2).contiguous().view(b, t, heads * headDim);
        return resid_dropout.forward(c_proj.forward(context)).MoveToOuterDisposeScope();
    }
}

/// <summary>GPT-2's feed-forward (<c>mlp</c>): <c>c_fc</c>, gelu_new, <c>c_proj</c>, dropout.</summary>
public sealed class Gpt2Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Conv1D c_fc;
    private readonly Conv1D c_proj;
    private readonly Dropout dropout;

    /// <summary>Creates the E → inner → E feed-forward.</summary>
    public Gpt2Mlp(Gpt2Config config) : base(nameof(Gpt2Mlp))
    {
        c_fc = new Conv1D(config.NEmbd, config.InnerDim);
        c_proj = new Conv1D(config.InnerDim, config.NEmbd);
        dropout = nn.Dropout(config.ResidPdrop);
        RegisterComponents();
    }

    /// <summary>GELU, tanh approximation (Hugging Face <c>gelu_new</c>).</summary>
    public static Tensor GeluNew(Tensor x) =>
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the same operations in the same order as the operator form.
        x.mul(Scalars.Constant(0.5)).mul(torch.tanh(
                x.add(torch.pow(x, Scalars.Constant(3.0)).mul(Scalars.Constant(0.044715)), Scalars.One)
                    .mul(Scalars.Constant(Math.Sqrt(2.0 / Math.PI))))
            .add(Scalars.Constant(1.0), Scalars.One));

    /// <summary><c>(B, T, E)</c> → <c>(B, T, E)</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return dropout.forward(c_proj.forward(GeluNew(c_fc.forward(x)))).MoveToOuterDisposeScope();
    }
}

/// <summary>One pre-LayerNorm GPT-2 block: self-attention, optional cross-attention, feed-forward.</summary>
public sealed class Gpt2Block : nn.Module<Tensor, Tensor, Tensor?, Tensor?, Tensor>
{
    private readonly LayerNorm ln_1;
    private readonly Gpt2Attention attn;
    private readonly LayerNorm? ln_cross_attn;
    private readonly Gpt2Attention? crossattention;
    private readonly LayerNorm ln_2;
    private readonly Gpt2Mlp mlp;

    /// <summary>Creates the block; cross-attention only when <see cref="Gpt2Config.AddCrossAttention"/>.</summary>
    public Gpt2Block(Gpt2Config config) : base(nameof(Gpt2Block))
    {
        ln_1 = nn.LayerNorm(config.NEmbd, eps: config.LayerNormEpsilon);
        attn = new Gpt2Attention(config, isCrossAttention: false);
        if (config.AddCrossAttention)
        {
            ln_cross_attn = nn.LayerNorm(config.NEmbd, eps: config.LayerNormEpsilon);
            crossattention = new Gpt2Attention(config, isCrossAttention: true);
        }
        ln_2 = nn.LayerNorm(config.NEmbd, eps: config.LayerNormEpsilon);
        mlp = new Gpt2Mlp(config);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="x"/> <c>(B, T, E)</c>, <paramref name="selfAllowed"/> <c>(B, 1, T, T)</c>,
    /// <paramref name="memory"/> <c>(B, M, E)</c> and <paramref name="memoryAllowed"/> <c>(B, 1, 1, M)</c>
    /// (both null without cross-attention) → <c>(B, T, E)</c>.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor selfAllowed, Tensor? memory, Tensor? memoryAllowed) =>
        Step(x, selfAllowed, memory, memoryAllowed, null, 0);

    /// <summary>
    /// <see cref="forward"/> with the key/value cache of block <paramref name="layer"/>: <paramref name="selfAllowed"/> is
    /// <c>(B, 1, T, past + T)</c>, and <paramref name="memory"/> may be null once the cache holds the cross-attention keys.
    /// </summary>
    internal Tensor Step(Tensor x, Tensor selfAllowed, Tensor? memory, Tensor? memoryAllowed, Gpt2KvCache? cache, int layer)
    {
        using var scope = NewDisposeScope();
        var h = x.add(attn.Attend(ln_1.forward(x), null, selfAllowed, cache, layer), Scalars.One);
        if (crossattention is not null)
        {
            if (memoryAllowed is null || (memory is null && cache?.Cross(layer).Key is null))
                throw new ArgumentException("this decoder has cross-attention: a memory (B, M, E) is required");
            h = h.add(crossattention.Attend(ln_cross_attn!.forward(h), memory, memoryAllowed, cache, layer), Scalars.One);
        }
        h = h.add(mlp.forward(ln_2.forward(h)), Scalars.One);
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>The GPT-2 body (<c>transformer.*</c>): token and position tables, blocks, final LayerNorm.</summary>
public sealed class Gpt2Transformer : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly Embedding wte;
    private readonly Embedding wpe;
    private readonly Dropout drop;
    private readonly ModuleList<Gpt2Block> h;
    private readonly LayerNorm ln_f;
    private readonly Gpt2Config config;

    /// <summary>Creates the body with N(0, 0.02) embeddings, as GPT-2 initialises them.</summary>
    public Gpt2Transformer(Gpt2Config config) : base(nameof(Gpt2Transformer))
    {
        this.config = config;
        wte = nn.Embedding(config.VocabSize, config.NEmbd);
        wpe = nn.Embedding(config.NPositions, config.NEmbd);
        using (torch.no_grad())
        {
            wte.weight!.normal_(0, 0.02);
            wpe.weight!.normal_(0, 0.02);
        }
        drop = nn.Dropout(config.EmbdPdrop);
        h = nn.ModuleList(Enumerable.Range(0, config.NLayer).Select(_ => new Gpt2Block(config)).ToArray());
        ln_f = nn.LayerNorm(config.NEmbd, eps: config.LayerNormEpsilon);
        RegisterComponents();
    }

    /// <summary>The token table <c>(V, E)</c>, shared with the language-model head.</summary>
    public Parameter TokenEmbedding => wte.weight!;

    /// <summary>
    /// <paramref name="inputIds"/> <c>(B, T)</c>, <paramref name="attentionMask"/> <c>(B, T)</c> (1 token, 0 padding),
    /// <paramref name="memory"/> <c>(B, M, E)</c> or null → hidden states <c>(B, T, E)</c>.
    /// Positions are 0…T−1 whatever the padding, as Hugging Face does without explicit position ids.
    /// </summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor? memory) => Forward(inputIds, attentionMask, memory, null);

    /// <summary>
    /// <see cref="forward"/>, optionally continuing from a key/value <paramref name="cache"/> that holds P earlier tokens:
    /// <paramref name="inputIds"/> <c>(B, T)</c> are the new tokens at positions P…P+T−1, <paramref name="attentionMask"/>
    /// <c>(B, P + T)</c> covers the cached and the new tokens, <paramref name="memory"/> <c>(B, M, E)</c> is needed only
    /// while the cache holds no cross-attention keys → hidden states of the new tokens <c>(B, T, E)</c>; the cache then
    /// holds P + T tokens.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor attentionMask, Tensor? memory, Gpt2KvCache? cache)
    {
        using var scope = NewDisposeScope();
        if (inputIds.dim() != 2) throw new ArgumentException($"input_ids must be (B, T), got [{string.Join(", ", inputIds.shape)}]");
        long b = inputIds.shape[0], t = inputIds.shape[1];
        long past = cache?.Length ?? 0, total = past + t;
        if (total > config.NPositions) throw new ArgumentException($"sequence length {total} exceeds n_positions {config.NPositions}");
        if (cache is not null && cache.BatchSize >= 0 && cache.BatchSize != b)
            throw new ArgumentException($"the key/value cache holds {cache.BatchSize} rows but input_ids has {b}");
        if (attentionMask.dim() != 2 || attentionMask.shape[0] != b || attentionMask.shape[1] != total)
            throw new ArgumentException($"attention_mask [{string.Join(", ", attentionMask.shape)}] must be ({b}, {total}) (cached + new tokens; input_ids [{string.Join(", ", inputIds.shape)}])");
        using var start = past.ToScalar();
        using var stop = total.ToScalar();
        var positions = torch.arange(start, stop, Scalars.One, dtype: ScalarType.Int64, device: inputIds.device);
        var x = drop.forward(wte.forward(inputIds).add(wpe.forward(positions), Scalars.One));
        // (B, 1, T, P + T): new token i (position P + i) sees key j ≤ P + i that is not padding.
        var causal = torch.ones(t, total, dtype: ScalarType.Bool, device: inputIds.device).tril(past);
        var keys = attentionMask.to(ScalarType.Bool).view(b, 1, 1, total);
        var selfAllowed = causal.view(1, 1, t, total).logical_and(keys);
        Tensor? memoryAllowed = null;
        if (memory is not null)
        {
            if (memory.dim() != 3 || memory.shape[0] != b || memory.shape[2] != config.NEmbd)
                throw new ArgumentException($"memory must be ({b}, M, {config.NEmbd}), got [{string.Join(", ", memory.shape)}]");
            memoryAllowed = torch.ones(b, 1, 1, memory.shape[1], dtype: ScalarType.Bool, device: inputIds.device);
        }
        else if (cache is not null && cache.MemoryLength >= 0)
        {
            memoryAllowed = torch.ones(b, 1, 1, cache.MemoryLength, dtype: ScalarType.Bool, device: inputIds.device);
        }
        for (var l = 0; l < h.Count; l++) x = h[l].Step(x, selfAllowed, memory, memoryAllowed, cache, l);
        cache?.Advance((int)t);
        return ln_f.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Replaces the token table by one of <paramref name="vocabSize"/> rows: the first min(V, V') rows are kept and new rows
    /// are the mean of the old rows, which is what Hugging Face's <c>resize_token_embeddings</c> does by default since
    /// transformers 4.46 (<c>mean_resizing=True</c>; it adds noise of covariance 1e-9 × the rows' covariance, omitted here).
    /// New tokens then start with the average logit instead of a random one, so they do not disturb the pretrained
    /// distribution.
    /// </summary>
    internal void ResizeTokenEmbeddings(int vocabSize)
    {
        var old = wte.weight!;
        long keep = Math.Min(old.shape[0], vocabSize);
        using var scope = NewDisposeScope();
        Tensor table;
        using (torch.no_grad())
        {
            table = torch.empty(vocabSize, old.shape[1], dtype: old.dtype, device: old.device);
            table.narrow(0, 0, keep).copy_(old.narrow(0, 0, keep));
            if (vocabSize > keep) table.narrow(0, keep, vocabSize - keep).copy_(old.mean([0], keepdim: true).expand(vocabSize - keep, old.shape[1]));
        }
        var parameter = new Parameter(table, requires_grad: old.requires_grad);
        parameter.DetachFromDisposeScope();
        wte.weight = parameter;
    }
}

/// <summary>
/// GPT-2 with a language-model head (Hugging Face <c>GPT2LMHeadModel</c> names, <c>transformer.*</c>),
/// optionally with cross-attention to an encoder memory. The head <c>lm_head.weight</c> is tied to
/// <c>transformer.wte.weight</c>, so it is not a separate parameter; checkpoints that list it load anyway.
/// </summary>
public sealed class Gpt2Model : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly Gpt2Transformer transformer;

    /// <summary>Creates a randomly initialised model.</summary>
    public Gpt2Model(Gpt2Config config) : base(nameof(Gpt2Model))
    {
        config.Validate();
        Config = config;
        transformer = new Gpt2Transformer(config);
        RegisterComponents();
    }

    /// <summary>The architecture (its <see cref="Gpt2Config.VocabSize"/> follows <see cref="ResizeTokenEmbeddings"/>).</summary>
    public Gpt2Config Config { get; private set; }

    /// <summary>An empty key/value cache for <see cref="Forward(Tensor, Tensor, Tensor?, Gpt2KvCache?)"/>.</summary>
    public Gpt2KvCache NewCache() => new(Config.NLayer);

    /// <summary>
    /// <see cref="forward"/> continuing from a key/value <paramref name="cache"/> (null: no cache, as <see cref="forward"/>):
    /// <paramref name="inputIds"/> <c>(B, T)</c> new tokens, <paramref name="attentionMask"/> <c>(B, P + T)</c> over the P
    /// cached and the T new tokens, <paramref name="memory"/> <c>(B, M, E)</c> (needed until the cache holds the
    /// cross-attention keys) → logits of the new tokens <c>(B, T, V)</c>.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor attentionMask, Tensor? memory, Gpt2KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var hidden = transformer.Forward(inputIds, attentionMask, memory, cache);
        return torch.matmul(hidden, transformer.TokenEmbedding.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The logits of the next token only, <c>(B, V)</c>: <see cref="Forward(Tensor, Tensor, Tensor?, Gpt2KvCache?)"/>
    /// with the head applied to the last position (decoding needs no others; the head is the largest matmul).
    /// </summary>
    public Tensor NextTokenLogits(Tensor inputIds, Tensor attentionMask, Tensor? memory, Gpt2KvCache? cache)
    {
        using var scope = NewDisposeScope();
        var hidden = transformer.Forward(inputIds, attentionMask, memory, cache)[.., -1, ..];
        return torch.matmul(hidden, transformer.TokenEmbedding.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Resizes the token table (and the tied head) to <paramref name="vocabSize"/> rows, e.g. to 50259 after
    /// <c>[BOS]</c> and <c>[PAD]</c> are added to GPT-2's 50257 tokens: pretrained rows are kept, new rows are initialised
    /// to the mean of the pretrained rows (Hugging Face's default <c>mean_resizing</c>; see
    /// <see cref="Gpt2Transformer.ResizeTokenEmbeddings"/>). Call it after loading pretrained weights.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="vocabSize"/> is not positive.</exception>
    public void ResizeTokenEmbeddings(int vocabSize)
    {
        if (vocabSize <= 0) throw new ArgumentException($"vocabulary size must be positive, got {vocabSize}");
        if (vocabSize == Config.VocabSize) return;
        transformer.ResizeTokenEmbeddings(vocabSize);
        Config = Config with { VocabSize = vocabSize };
    }

    /// <summary>
    /// <paramref name="inputIds"/> <c>(B, T)</c> int64, <paramref name="attentionMask"/> <c>(B, T)</c>
    /// (1 token, 0 padding), <paramref name="memory"/> <c>(B, M, E)</c> (required with cross-attention)
    /// → logits <c>(B, T, V)</c>.
    /// </summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask, Tensor? memory)
    {
        using var scope = NewDisposeScope();
        var hidden = transformer.forward(inputIds, attentionMask, memory);
        return torch.matmul(hidden, transformer.TokenEmbedding.t()).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Teacher-forced cross-entropy: logits at position t predict token t+1; target positions whose
    /// <paramref name="attentionMask"/> is 0 (padding) are ignored. <paramref name="logits"/> <c>(B, T, V)</c>,
    /// <paramref name="inputIds"/> and <paramref name="attentionMask"/> <c>(B, T)</c> → scalar mean over real targets.
    /// <paramref name="labelSmoothing"/> ε (as PyTorch's <c>label_smoothing</c>) mixes ε/V of every token into each target.
    /// </summary>
    public static Tensor LanguageModelLoss(Tensor logits, Tensor inputIds, Tensor attentionMask, double labelSmoothing = 0.0)
    {
        if (labelSmoothing is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");
        using var scope = NewDisposeScope();
        long v = logits.shape[2];
        var shifted = logits[.., ..^1, ..].reshape(-1, v);
        var targets = inputIds[.., 1..].masked_fill(attentionMask[.., 1..].eq(Scalars.Zero), Scalars.Constant(-100L)).reshape(-1);
        return nn.functional.cross_entropy(shifted, targets, ignore_index: -100, label_smoothing: labelSmoothing).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Copies Hugging Face GPT-2 weights (names <c>transformer.*</c>, or without that prefix as in a bare
    /// <c>GPT2Model</c> checkpoint) into this model. <c>lm_head.weight</c> (tied) and the legacy
    /// <c>attn.bias</c>/<c>attn.masked_bias</c> (and cross-attention) mask buffers are ignored.
    /// A checkpoint of a plain language model (e.g. DistilGPT2's <c>model.safetensors</c>) has no cross-attention
    /// weights: when this model has cross-attention and the checkpoint none at all, the cross-attention parameters
    /// (<c>ln_cross_attn</c>, <c>crossattention.*</c>) keep their fresh initialisation and are listed in the report's
    /// <see cref="StateDictReport.Missing"/> even in strict mode, which then only checks the other keys. That is the only
    /// exception: in strict mode (the default) any other missing, unexpected or mis-shaped key throws with the list of keys,
    /// so a checkpoint whose names match nothing can never leave a randomly initialised decoder behind.
    /// </summary>
    /// <exception cref="StateDictMismatchException">Strict mode and the keys do not match.</exception>
    public StateDictReport LoadHuggingFace(IReadOnlyDictionary<string, Tensor> tensors, bool strict = true, string source = "GPT-2 checkpoint")
    {
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, value) in tensors)
            renamed[name.StartsWith("transformer.", StringComparison.Ordinal) || name.StartsWith("lm_head.", StringComparison.Ordinal) ? name : "transformer." + name] = value;
        var fresh = new List<string>();
        var clones = new List<Tensor>();
        if (Config.AddCrossAttention && !renamed.Keys.Any(IsCrossAttentionKey))
        {
            // The strict check must still cover every other key, so the cross-attention parameters stand in for themselves.
            foreach (var (name, p) in named_parameters())
                if (IsCrossAttentionKey(name))
                {
                    var copy = p.detach().clone();
                    clones.Add(copy);
                    renamed[name] = copy;
                    fresh.Add(name);
                }
        }
        try
        {
            var report = StateDictLoader.Load(this, renamed, strict, source, prefixes: [],
                ignore: ["lm_head.weight", "attn.bias", "attn.masked_bias", "crossattention.bias", "crossattention.masked_bias"]);
            if (fresh.Count == 0) return report;
            var kept = fresh.ToHashSet(StringComparer.Ordinal);
            return report with
            {
                Loaded = report.Loaded.Where(k => !kept.Contains(k)).ToList(),
                Missing = report.Missing.Concat(fresh).ToList(),
            };
        }
        finally
        {
            foreach (var c in clones) c.Dispose();
        }
    }

    /// <summary>Whether <paramref name="key"/> names a cross-attention parameter (<c>ln_cross_attn</c> or <c>crossattention</c>).</summary>
    public static bool IsCrossAttentionKey(string key) =>
        key.Contains(".crossattention.", StringComparison.Ordinal) || key.Contains(".ln_cross_attn.", StringComparison.Ordinal);
}
