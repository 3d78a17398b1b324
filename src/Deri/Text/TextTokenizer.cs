using Microsoft.ML.Tokenizers;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Text;

/// <summary>
/// A tokenised batch: <c>input_ids (B, L)</c> and <c>attention_mask (B, L)</c> (int64, 1 = token,
/// 0 = padding), and each row's real token count including <c>[CLS]</c> and <c>[SEP]</c>.
/// </summary>
public sealed class TokenizedBatch : IDisposable
{
    /// <summary>Creates the batch; it takes ownership of both tensors.</summary>
    public TokenizedBatch(Tensor inputIds, Tensor attentionMask, int[] lengths)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        Lengths = lengths;
    }

    /// <summary>Token ids <c>(B, L)</c>, int64.</summary>
    public Tensor InputIds { get; }

    /// <summary>Attention mask <c>(B, L)</c>, int64.</summary>
    public Tensor AttentionMask { get; }

    /// <summary>Real tokens per row (the rest is padding).</summary>
    public int[] Lengths { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
    }
}

/// <summary>
/// WordPiece tokenisation of reports and prompts with a BERT <c>vocab.txt</c>
/// (Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>: basic tokenisation, optional lower-casing and
/// accent stripping, greedy longest-match WordPiece), producing <c>[CLS] … [SEP]</c> sequences
/// truncated and padded to a fixed length as METHOD §2 item 5 requires.
/// </summary>
public sealed class TextTokenizer
{
    /// <summary>Default sequence length (METHOD §2 item 5).</summary>
    public const int DefaultMaxLength = 256;

    private readonly BertTokenizer tokenizer;

    private TextTokenizer(BertTokenizer tokenizer, string vocabPath, bool lowerCase, int maxLength, int vocabSize)
    {
        this.tokenizer = tokenizer;
        VocabPath = vocabPath;
        LowerCase = lowerCase;
        MaxLength = maxLength;
        VocabSize = vocabSize;
    }

    /// <summary>The vocabulary file.</summary>
    public string VocabPath { get; }

    /// <summary>Whether text is lower-cased (and accents stripped) before WordPiece, as an uncased BERT expects.</summary>
    public bool LowerCase { get; }

    /// <summary>Length of every tokenised row, <c>[CLS]</c> and <c>[SEP]</c> included.</summary>
    public int MaxLength { get; }

    /// <summary>Lines in <c>vocab.txt</c>.</summary>
    public int VocabSize { get; }

    /// <summary>Id of <c>[CLS]</c>.</summary>
    public int ClsId => tokenizer.ClassificationTokenId;

    /// <summary>Id of <c>[SEP]</c>.</summary>
    public int SepId => tokenizer.SeparatorTokenId;

    /// <summary>Id of <c>[PAD]</c>.</summary>
    public int PadId => tokenizer.PaddingTokenId;

    /// <summary>Id of <c>[UNK]</c>.</summary>
    public int UnkId => tokenizer.UnknownTokenId;

    /// <summary>
    /// Reads <paramref name="vocabPath"/> (one token per line; the line number is the id). It must hold
    /// <c>[PAD]</c>, <c>[UNK]</c>, <c>[CLS]</c>, <c>[SEP]</c> and <c>[MASK]</c>.
    /// </summary>
    /// <exception cref="InputFormatException">The file is empty or lacks a special token.</exception>
    public static TextTokenizer Create(string vocabPath, bool lowerCase = true, int maxLength = DefaultMaxLength)
    {
        if (!File.Exists(vocabPath)) throw new InputFileNotFoundException($"{vocabPath}: vocabulary not found", vocabPath);
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max length must leave room for [CLS] and [SEP]");
        var lines = File.ReadAllLines(vocabPath);
        if (lines.Length == 0) throw new InputFormatException($"{vocabPath}: vocabulary is empty");
        var set = new HashSet<string>(lines, StringComparer.Ordinal);
        foreach (var special in WordPieceVocabulary.SpecialTokens)
            if (!set.Contains(special)) throw new InputFormatException($"{vocabPath}: vocabulary lacks the special token {special}");
        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            // Hugging Face strips accents exactly when it lower-cases (strip_accents=None).
            RemoveNonSpacingMarks = lowerCase,
            ApplyBasicTokenization = true,
        };
        BertTokenizer tokenizer;
        using (var stream = File.OpenRead(vocabPath))
            tokenizer = BertTokenizer.Create(stream, options);
        return new TextTokenizer(tokenizer, vocabPath, lowerCase, maxLength, lines.Length);
    }

    /// <summary>WordPiece ids of <paramref name="text"/> without special tokens, untruncated.</summary>
    public IReadOnlyList<int> EncodeWords(string text) =>
        tokenizer.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);

    /// <summary>The token strings of <paramref name="ids"/> (for inspection and tests).</summary>
    public string? Decode(IEnumerable<int> ids) => tokenizer.Decode(ids, skipSpecialTokens: false);

    /// <summary>
    /// <c>[CLS] wordpieces [SEP]</c> for <paramref name="text"/>, the word pieces cut to
    /// <see cref="MaxLength"/> − 2 (unpadded).
    /// </summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pieces = EncodeWords(text);
        int keep = Math.Min(pieces.Count, MaxLength - 2);
        var ids = new int[keep + 2];
        ids[0] = ClsId;
        for (int i = 0; i < keep; i++) ids[i + 1] = pieces[i];
        ids[keep + 1] = SepId;
        return ids;
    }

    /// <summary>
    /// Tokenises a batch to <c>input_ids</c> and <c>attention_mask</c> of shape
    /// <c>(B, MaxLength)</c> on <paramref name="device"/>.
    /// </summary>
    public TokenizedBatch EncodeBatch(IReadOnlyList<string> texts, Device? device = null)
    {
        int b = texts.Count, l = MaxLength;
        var ids = new long[b * l];
        var mask = new long[b * l];
        var lengths = new int[b];
        if (PadId != 0) Array.Fill(ids, PadId);
        for (int r = 0; r < b; r++)
        {
            var row = Encode(texts[r]);
            lengths[r] = row.Length;
            for (int i = 0; i < row.Length; i++)
            {
                ids[r * l + i] = row[i];
                mask[r * l + i] = 1;
            }
        }
        var idTensor = torch.tensor(ids, new long[] { b, l }, ScalarType.Int64, device);
        var maskTensor = torch.tensor(mask, new long[] { b, l }, ScalarType.Int64, device);
        return new TokenizedBatch(idTensor, maskTensor, lengths);
    }
}
