using TorchSharp;
using static TorchSharp.torch;

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

    private TextEncoder(BertModel model, TextTokenizer tokenizer, bool frozen, bool lowerCaseText, bool computeOnLongest)
    {
        if (model.Config.MaxPositionEmbeddings < tokenizer.MaxLength)
            throw new ArgumentException($"max length {tokenizer.MaxLength} exceeds the model's max_position_embeddings {model.Config.MaxPositionEmbeddings}");
        if (tokenizer.VocabSize > model.Config.VocabSize)
            throw new ArgumentException($"{tokenizer.VocabPath}: {tokenizer.VocabSize} tokens but the model's vocab_size is {model.Config.VocabSize}");
        Model = model;
        Tokenizer = tokenizer;
        Frozen = frozen;
        LowerCaseText = lowerCaseText;
        ComputeOnLongest = computeOnLongest;
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

    /// <inheritdoc/>
    public int OutputDim => Model.OutputDim;

    /// <inheritdoc/>
    public int MaxLength => Tokenizer.MaxLength;

    /// <summary>Loads a pretrained BERT folder (see <see cref="HuggingFaceBert"/>); frozen unless <see cref="TextEncoderOptions.Frozen"/> says otherwise.</summary>
    public static TextEncoder FromHuggingFace(string folder, TextEncoderOptions? options = null)
    {
        options ??= new TextEncoderOptions();
        var tokenizer = HuggingFaceBert.LoadTokenizer(folder, options.MaxLength);
        var (model, _) = HuggingFaceBert.LoadModel(folder);
        try
        {
            return new TextEncoder(model, tokenizer, options.Frozen ?? true, options.LowerCaseText, options.ComputeOnLongest);
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
            return new TextEncoder(model, tokenizer, options.Frozen ?? false, options.LowerCaseText, options.ComputeOnLongest);
        }
        catch
        {
            model.Dispose();
            throw;
        }
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
            return new TextFeatures(pooled.MoveToOuterDisposeScope(), hidden.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
        }
        // (B, L') with L' the longest real row; hidden (B, L', H) is zero-padded back to (B, MaxLength, H).
        int longest = batch.Lengths.Max();
        var (pooledShort, hiddenShort) = Model.forward(batch.InputIds[.., ..longest], batch.AttentionMask[.., ..longest]);
        // Padding inside the first L' positions is zeroed too, so every padding row is zero whatever the batch.
        var hiddenFull = torch.nn.functional.pad(hiddenShort, [0, 0, 0, MaxLength - longest]) * mask.unsqueeze(-1).to(hiddenShort.dtype);
        return new TextFeatures(pooledShort.MoveToOuterDisposeScope(), hiddenFull.MoveToOuterDisposeScope(), mask.MoveToOuterDisposeScope());
    }

    /// <summary>Writes the encoder as a Hugging Face style folder that <see cref="FromHuggingFace"/> reads back.</summary>
    public void Save(string folder) => HuggingFaceBert.Save(folder, Model, Tokenizer);

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
