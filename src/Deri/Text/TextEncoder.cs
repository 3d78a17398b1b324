using Deri.Runtime;
using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Text;

/// <summary>Settings of a <see cref="TextEncoder"/>.</summary>
/// <param name="MaxLength">Tokens per text, <c>[CLS]</c> and <c>[SEP]</c> included (METHOD §2 item 5: 256).</param>
/// <param name="LowerCaseText">Lower-case every text before tokenising (METHOD §1 lower-cases reports, §4 prompts).</param>
/// <param name="Frozen">Null: frozen for pretrained weights, trainable for a from-scratch encoder; or force either.</param>
/// <param name="ComputeOnLongest">
/// Run the BERT only over the batch's longest real sequence and pad <c>hidden</c> with zeros to
/// <paramref name="MaxLength"/>. Real tokens and <c>pooled</c> are unchanged (padding is masked out
/// of attention); only the padding positions of <c>hidden</c> become zeros instead of the BERT's
/// outputs there. Reports are far shorter than 256 tokens, so this saves most of the encoder's cost.
/// Off by default (the release runs all 256 positions).
/// </param>
public sealed record TextEncoderOptions(int MaxLength = TextTokenizer.DefaultMaxLength, bool LowerCaseText = true, bool? Frozen = null,
    bool ComputeOnLongest = false);

/// <summary>
/// The text side of DERI: tokenizer + BERT. Built from a Hugging Face folder (pretrained, frozen by
/// default, as the release freezes MedCPT) or from a vocabulary and a config (random init, trained
/// jointly with the model). <see cref="Encode"/> gives <c>pooled (B, H)</c>, <c>hidden (B, L, H)</c>
/// and the mask, with H = <see cref="OutputDim"/> (768 for BERT-base; the DERI model's text width
/// must equal it).
/// </summary>
public sealed class TextEncoder : ITextFeatureSource, IDisposable
{
    private Device? device;

    private TextEncoder(BertModel model, TextTokenizer tokenizer, bool frozen, bool lowerCaseText, bool computeOnLongest,
        TextPooling pooling, string identity)
    {
        if (model.Config.MaxPositionEmbeddings < tokenizer.MaxLength)
            throw new InputFormatException($"max length {tokenizer.MaxLength} exceeds the model's max_position_embeddings {model.Config.MaxPositionEmbeddings}");
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new InputFormatException($"{tokenizer.VocabPath}: {tokenizer.VocabSize} tokens but the model's vocab_size is {model.Config.VocabSize}");
        Model = model;
        Tokenizer = tokenizer;
        Frozen = frozen;
        LowerCaseText = lowerCaseText;
        ComputeOnLongest = computeOnLongest;
        Pooling = pooling;
        Identity = $"{identity}; pooling {pooling.ToString().ToLowerInvariant()}; max length {tokenizer.MaxLength}; " +
                   $"{(lowerCaseText ? "lower-cased" : "as written")}{(computeOnLongest ? "; padding rows zero" : "")}";
        if (frozen)
        {
            foreach (var p in model.parameters()) p.requires_grad = false;
            model.eval();
        }
    }

    /// <summary>The BERT (its parameters are part of the DERI model when not frozen).</summary>
    public BertModel Model { get; }

    /// <summary>The tokenizer.</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>True when the BERT is not trained: <see cref="Encode"/> runs without gradients in eval mode.</summary>
    public bool Frozen { get; }

    /// <summary>Whether texts are lower-cased before tokenising.</summary>
    public bool LowerCaseText { get; }

    /// <summary>Whether the BERT runs only over the batch's longest real sequence (see <see cref="TextEncoderOptions.ComputeOnLongest"/>).</summary>
    public bool ComputeOnLongest { get; }

    /// <summary>How <c>pooled</c> is made from the BERT's outputs.</summary>
    public TextPooling Pooling { get; }

    /// <summary>
    /// What the features depend on: the weights (a built-in model's name and package version, or the SHA-256 of a
    /// folder's <c>model.safetensors</c> and <c>vocab.txt</c>), the pooling, the length and the lower-casing. A trainable
    /// encoder's features change as it trains: its identity says so and is never cached.
    /// </summary>
    public string Identity { get; }

    /// <inheritdoc/>
    public int OutputDim => Model.OutputDim;

    /// <inheritdoc/>
    public int MaxLength => Tokenizer.MaxLength;

    /// <summary>
    /// Loads a pretrained BERT folder (see <see cref="HuggingFaceBert"/>); frozen unless <see cref="TextEncoderOptions.Frozen"/>
    /// says otherwise. <c>pooled</c> follows the folder's <see cref="HuggingFaceBert.PoolingFile"/> (BERT's pooler without one).
    /// </summary>
    public static TextEncoder FromHuggingFace(string folder, TextEncoderOptions? options = null) =>
        LoadFolder(folder, options, identity: null);

    private static TextEncoder LoadFolder(string folder, TextEncoderOptions? options, string? identity)
    {
        options ??= new TextEncoderOptions();
        var tokenizer = HuggingFaceBert.LoadTokenizer(folder, options.MaxLength);
        var pooling = HuggingFaceBert.ReadPooling(folder);
        bool frozen = options.Frozen ?? true;
        var (model, _) = HuggingFaceBert.LoadModel(folder);
        try
        {
            identity ??= frozen ? $"folder {Path.GetFullPath(folder)} (weights {Sha256(Path.Combine(folder, "model.safetensors"))}, vocabulary {Sha256(tokenizer.VocabPath)})"
                : $"trainable from {Path.GetFullPath(folder)}";
            return new TextEncoder(model, tokenizer, frozen, options.LowerCaseText, options.ComputeOnLongest, pooling, identity);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A randomly initialised BERT over <paramref name="vocabPath"/> (e.g. from
    /// <see cref="WordPieceVocabulary"/>), trainable unless <see cref="TextEncoderOptions.Frozen"/>
    /// says otherwise. <paramref name="config"/> defaults to <see cref="BertConfig.Small"/> sized to the vocabulary.
    /// </summary>
    public static TextEncoder FromVocabulary(string vocabPath, BertConfig? config = null, TextEncoderOptions? options = null)
    {
        options ??= new TextEncoderOptions();
        var tokenizer = TextTokenizer.Create(vocabPath, lowerCase: true, options.MaxLength);
        config ??= BertConfig.Small(tokenizer.VocabSize) with { MaxPositionEmbeddings = Math.Max(256, options.MaxLength) };
        var model = new BertModel(config);
        try
        {
            bool frozen = options.Frozen ?? false;
            // Random weights: two encoders built this way differ, so a frozen one is identified by the object itself.
            string identity = $"randomly initialised over {Path.GetFullPath(vocabPath)} (instance {Guid.NewGuid():N})";
            return new TextEncoder(model, tokenizer, frozen, options.LowerCaseText, options.ComputeOnLongest, TextPooling.Pooler, identity);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The built-in model <paramref name="builtIn"/> (frozen unless <see cref="TextEncoderOptions.Frozen"/> says otherwise),
    /// materialised once as a Hugging Face folder under <paramref name="cacheRoot"/> (see <see cref="BuiltInTextModel.Materialise"/>).
    /// </summary>
    public static TextEncoder FromBuiltIn(BuiltInTextModel builtIn, TextEncoderOptions? options = null, string? cacheRoot = null)
    {
        ArgumentNullException.ThrowIfNull(builtIn);
        string folder = builtIn.Materialise(cacheRoot);
        return LoadFolder(folder, options, identity: $"built-in {builtIn.Identity}");
    }

    /// <summary>
    /// The pretrained encoder a resolved <c>network.text_model</c> names (<see cref="TextModelSetting.Resolve"/>): a built-in
    /// model's name or a Hugging Face folder. <c>scratch</c> is not pretrained and is refused here.
    /// </summary>
    /// <exception cref="ArgumentException">The setting is <c>scratch</c>.</exception>
    public static TextEncoder FromSetting(string resolved, TextEncoderOptions? options = null)
    {
        if (TextModelSetting.IsScratch(resolved))
            throw new InputValueException($"network.text_model '{resolved}' is trained from scratch, not loaded: build it with FromVocabulary");
        return BuiltInTextModel.Find(resolved) is { } builtIn ? FromBuiltIn(builtIn, options) : FromHuggingFace(resolved, options);
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Moves the BERT to <paramref name="target"/> (once; later calls with the same device do nothing).</summary>
    public void MoveTo(Device target)
    {
        if (device is not null && device.type == target.type && device.index == target.index) return;
        Model.to(target);
        device = target;
    }

    /// <summary>Tokenises <paramref name="texts"/> (lower-cased when <see cref="LowerCaseText"/>) onto <paramref name="target"/>.</summary>
    public TokenizedBatch Tokenize(IReadOnlyList<string> texts, Device target) =>
        Tokenizer.EncodeBatch(LowerCaseText ? texts.Select(t => t.ToLowerInvariant()).ToArray() : texts, target);

    /// <summary>
    /// Encodes a batch: <c>pooled (B, H)</c>, <c>hidden (B, MaxLength, H)</c>, <c>mask (B, MaxLength)</c>
    /// on <paramref name="target"/>. Frozen: no gradients, eval mode. Trainable: gradients flow into
    /// <see cref="Model"/>, whose train/eval mode the caller sets.
    /// </summary>
    public TextFeatures Encode(IReadOnlyList<string> texts, Device target)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("no texts to encode", nameof(texts));
        MoveTo(target);
        // A parent module's train() reaches this BERT too; a frozen encoder never runs dropout.
        if (Frozen && Model.training) Model.eval();
        using var scope = torch.NewDisposeScope();
        using var batch = Tokenize(texts, target);
        using var grad = Frozen ? torch.no_grad() : null;
        var mask = batch.AttentionMask.clone();
        if (!ComputeOnLongest)
        {
            var (pooled, hidden) = Model.forward(batch.InputIds, batch.AttentionMask);
            pooled = Pool(pooled, hidden, batch.AttentionMask);
            return new TextFeatures(pooled.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
        }
        // (B, L') with L' the longest real row; hidden (B, L', H) is zero-padded back to (B, MaxLength, H).
        int longest = batch.Lengths.Max();
        var (pooledShort, hiddenShort) = Model.forward(batch.InputIds[.., ..longest], batch.AttentionMask[.., ..longest]);
        pooledShort = Pool(pooledShort, hiddenShort, batch.AttentionMask[.., ..longest]);
        // Padding inside the first L' positions is zeroed too, so every padding row is zero whatever the batch.
        var hiddenFull = torch.nn.functional.pad(hiddenShort, [0, 0, 0, MaxLength - longest]) * mask.unsqueeze(-1).to(hiddenShort.dtype);
        return new TextFeatures(pooledShort.MoveToOuterDisposeScope(), hiddenFull.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    // BERT's pooled (B, H), hidden (B, L, H), mask (B, L) → pooled (B, H) as Pooling says. The mean is the
    // sentence-transformers one: sum over real tokens / max(count, 1e-9).
    private Tensor Pool(Tensor pooled, Tensor hidden, Tensor mask) => Pooling switch
    {
        TextPooling.Pooler => pooled,
        TextPooling.Cls => hidden[.., 0],
        TextPooling.Mean => (hidden * mask.unsqueeze(-1).to(hidden.dtype)).sum(1) / mask.sum(1, keepdim: true).to(hidden.dtype).clamp_min(Scalars.Constant(1e-9)),
        _ => throw new InvalidOperationException($"unknown pooling {Pooling}"),
    };

    /// <summary>Writes the encoder as a Hugging Face style folder that <see cref="FromHuggingFace"/> reads back (pooling included).</summary>
    public void Save(string folder) => HuggingFaceBert.Save(folder, Model, Tokenizer, Pooling);

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
