using Deri.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Text;

/// <summary>
/// Word + absolute position + token-type embeddings, then LayerNorm and dropout
/// (Hugging Face <c>BertEmbeddings</c>; same parameter names).
/// </summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    /// <summary>Creates the embeddings of <paramref name="config"/>.</summary>
    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Token ids <c>(B, L)</c> and token types <c>(B, L)</c> (int64) → embeddings <c>(B, L, H)</c>.</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        long length = inputIds.shape[1];
        // Absolute positions 0..L-1, shared by every row: (1, L).
        using var stop = length.ToScalar();
        var positions = torch.arange(Scalars.Zero, stop, Scalars.One, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var x = word_embeddings.forward(inputIds).add(position_embeddings.forward(positions), Scalars.One)
            .add(token_type_embeddings.forward(tokenTypeIds), Scalars.One);
        return dropout.forward(LayerNorm.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>Multi-head scaled dot-product self-attention (Hugging Face <c>BertSelfAttention</c>).</summary>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Dropout dropout;
    private readonly int heads;
    private readonly int headDim;

    /// <summary>Creates the attention of <paramref name="config"/>.</summary>
    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        heads = config.NumAttentionHeads;
        headDim = config.HiddenSize / config.NumAttentionHeads;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = nn.Dropout(config.AttentionProbsDropoutProb);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="x"/> <c>(B, L, H)</c> and an additive mask <c>(B, 1, 1, L)</c> (0 for tokens,
    /// the dtype's minimum for padding) → context <c>(B, L, H)</c>.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], l = x.shape[1];
        // (B, L, H) → (B, heads, L, headDim)
        Tensor Split(Tensor t) => t.view(b, l, heads, headDim).transpose(1, 2);
        var q = Split(query.forward(x));
        var k = Split(key.forward(x));
        var v = Split(value.forward(x));
        // Scores (B, heads, L, L); padding keys get the dtype's minimum, i.e. zero weight.
        var scores = torch.matmul(q, k.transpose(-1, -2)).div(Scalars.Constant(Math.Sqrt(headDim))).add(additiveMask, Scalars.One);
        var probs = dropout.forward(torch.nn.functional.softmax(scores, -1));
        var context = torch.matmul(probs, v).transpose(1, 2).contiguous().view(b, l, heads * headDim);
        return context.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Dense projection, dropout, residual and LayerNorm: Hugging Face's <c>BertSelfOutput</c> (input H, after
/// attention) and <c>BertOutput</c> (input intermediate, after the feed-forward) are this same block.
/// </summary>
public sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    /// <summary>Creates the block for inputs of width <paramref name="inputSize"/>.</summary>
    public BertResidualOutput(int inputSize, BertConfig config) : base(nameof(BertResidualOutput))
    {
        dense = nn.Linear(inputSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary><c>(B, L, inputSize)</c> and the block input <c>(B, L, H)</c> → <c>(B, L, H)</c>.</summary>
    public override Tensor forward(Tensor hidden, Tensor input)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(dropout.forward(dense.forward(hidden)).add(input, Scalars.One)).MoveToOuterDisposeScope();
    }
}

/// <summary>Self-attention with its output block (<c>BertAttention</c>: <c>self</c>, <c>output</c>).</summary>
public sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention @self;
    private readonly BertResidualOutput output;

    /// <summary>Creates the block of <paramref name="config"/>.</summary>
    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        @self = new BertSelfAttention(config);
        output = new BertResidualOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    /// <summary><c>(B, L, H)</c> and the additive mask <c>(B, 1, 1, L)</c> → <c>(B, L, H)</c>.</summary>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        return output.forward(@self.forward(x, additiveMask), x).MoveToOuterDisposeScope();
    }
}

/// <summary>Feed-forward expansion with exact (erf) GELU (<c>BertIntermediate</c>).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    /// <summary>Creates the block of <paramref name="config"/>.</summary>
    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary><c>(B, L, H)</c> → <c>(B, L, intermediate)</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return torch.nn.functional.gelu(dense.forward(x)).MoveToOuterDisposeScope();
    }
}

/// <summary>One transformer layer (<c>BertLayer</c>: <c>attention</c>, <c>intermediate</c>, <c>output</c>).</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;

    /// <summary>Creates the layer of <paramref name="config"/>.</summary>
    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertResidualOutput(config.IntermediateSize, config);
        RegisterComponents();
    }

    /// <summary><c>(B, L, H)</c> and the additive mask <c>(B, 1, 1, L)</c> → <c>(B, L, H)</c>.</summary>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var a = attention.forward(x, additiveMask);
        return output.forward(intermediate.forward(a), a).MoveToOuterDisposeScope();
    }
}

/// <summary>The stack of layers (<c>BertEncoder</c>: <c>layer.N</c>).</summary>
public sealed class BertEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    /// <summary>Creates the stack of <paramref name="config"/>.</summary>
    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    /// <summary><c>(B, L, H)</c> and the additive mask <c>(B, 1, 1, L)</c> → <c>(B, L, H)</c>.</summary>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        foreach (var l in layer) x = l.forward(x, additiveMask);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>tanh(dense(first token)) (<c>BertPooler</c>).</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    /// <summary>Creates the pooler of <paramref name="config"/>.</summary>
    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>Hidden states <c>(B, L, H)</c> → pooled <c>(B, H)</c> from the <c>[CLS]</c> position.</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return torch.tanh(dense.forward(hidden[.., 0])).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A BERT encoder whose state dict has exactly the Hugging Face <c>BertModel</c> names
/// (<c>embeddings.*</c>, <c>encoder.layer.N.*</c>, <c>pooler.dense.*</c>), so a
/// <c>model.safetensors</c> of any BERT loads into it with <see cref="Weights.StateDictLoader"/>.
/// Built without a pooler (Hugging Face's <c>add_pooling_layer=False</c>, e.g. snowflake-arctic-embed, whose
/// checkpoint has no <c>pooler.*</c>), <c>pooled</c> is the <c>[CLS]</c> row of <c>hidden</c>.
/// </summary>
public sealed class BertModel : nn.Module<Tensor, Tensor, Tensor, (Tensor Pooled, Tensor Hidden)>
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    /// <summary>
    /// Creates a randomly initialised encoder (BERT's N(0, 0.02) weights, zero biases, unit LayerNorm), with the
    /// <c>pooler.dense</c> layer unless <paramref name="addPoolingLayer"/> is false.
    /// </summary>
    public BertModel(BertConfig config, bool addPoolingLayer = true) : base(nameof(BertModel))
    {
        config.Validate();
        Config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        pooler = addPoolingLayer ? new BertPooler(config) : null;
        RegisterComponents();
        InitialiseWeights();
    }

    /// <summary>The architecture.</summary>
    public BertConfig Config { get; }

    /// <summary>Width of <c>pooled</c> and of every <c>hidden</c> token.</summary>
    public int OutputDim => Config.HiddenSize;

    /// <summary>Whether the model has the <c>pooler.dense</c> layer (otherwise <c>pooled</c> is the <c>[CLS]</c> row).</summary>
    public bool HasPooler => pooler is not null;

    private void InitialiseWeights()
    {
        using var _ = torch.no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) p.fill_(Scalars.Constant(1.0));
            else if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
            else p.normal_(0.0, 0.02);
        }
        // The padding row of the word table starts at zero, as in Hugging Face.
        named_parameters().First(np => np.name == "embeddings.word_embeddings.weight").parameter[Config.PadTokenId].zero_();
    }

    /// <summary>
    /// Encodes a batch. <paramref name="inputIds"/> <c>(B, L)</c> int64, <paramref name="attentionMask"/>
    /// <c>(B, L)</c> (1 = token, 0 = padding), <paramref name="tokenTypeIds"/> <c>(B, L)</c> int64 or an
    /// empty tensor for all zeros. Returns <c>pooled (B, H)</c> and <c>hidden (B, L, H)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree or L exceeds <c>max_position_embeddings</c>.</exception>
    public override (Tensor Pooled, Tensor Hidden) forward(Tensor inputIds, Tensor attentionMask, Tensor tokenTypeIds)
    {
        if (inputIds.ndim != 2) throw new ArgumentException($"input_ids must be (B, L), got [{string.Join(", ", inputIds.shape)}]");
        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"attention_mask [{string.Join(", ", attentionMask.shape)}] must match input_ids [{string.Join(", ", inputIds.shape)}]");
        if (inputIds.shape[1] > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"sequence length {inputIds.shape[1]} exceeds max_position_embeddings {Config.MaxPositionEmbeddings}");
        using var scope = NewDisposeScope();
        var types = tokenTypeIds.numel() == 0 ? torch.zeros_like(inputIds) : tokenTypeIds;
        if (!types.shape.SequenceEqual(inputIds.shape))
            throw new ArgumentException($"token_type_ids [{string.Join(", ", types.shape)}] must match input_ids [{string.Join(", ", inputIds.shape)}]");
        var x = embeddings.forward(inputIds, types);
        // (B, L) → additive (B, 1, 1, L): 0 where attended, the dtype's minimum at padding (as Hugging Face).
        var keep = attentionMask.to(x.dtype).unsqueeze(1).unsqueeze(2);
        double min = torch.finfo(x.dtype).min;
        var additive = keep.neg().add(Scalars.Constant(1.0), Scalars.One).mul(Scalars.Constant(min));
        var hidden = encoder.forward(x, additive);
        var pooled = pooler is null ? hidden[.., 0] : pooler.forward(hidden);
        return (pooled.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope());
    }

    /// <summary>Encodes with all token types zero.</summary>
    public (Tensor Pooled, Tensor Hidden) forward(Tensor inputIds, Tensor attentionMask)
    {
        using var none = torch.empty(0, dtype: ScalarType.Int64);
        return forward(inputIds, attentionMask, none);
    }
}
