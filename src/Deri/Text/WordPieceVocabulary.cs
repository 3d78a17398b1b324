using System.Globalization;
using System.Text;

namespace Deri.Text;

/// <summary>Settings of <see cref="WordPieceVocabulary.Build"/>.</summary>
/// <param name="MinCount">A whole word enters the vocabulary when seen at least this many times.</param>
/// <param name="MaxWords">At most this many whole words (the most frequent); 0 = no limit.</param>
/// <param name="LowerCase">Lower-case and strip accents first, as the tokenizer that will read the vocabulary does.</param>
public sealed record VocabularyOptions(int MinCount = 3, int MaxWords = 0, bool LowerCase = true);

/// <summary>
/// Builds a small WordPiece vocabulary from a corpus of reports, for training a text encoder from
/// scratch when no pretrained BERT is available: the special tokens, then every whole word seen at
/// least <see cref="VocabularyOptions.MinCount"/> times (most frequent first, ties in ordinal
/// order), then every character seen, alone and as a <c>##</c> continuation, in ordinal order. Every
/// word therefore tokenises without <c>[UNK]</c> (rare words fall back to characters), and the same
/// corpus always gives the same file.
/// </summary>
public static class WordPieceVocabulary
{
    /// <summary><c>[PAD] [UNK] [CLS] [SEP] [MASK]</c>, at ids 0–4.</summary>
    public static readonly IReadOnlyList<string> SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>Builds the token list (line i of <c>vocab.txt</c> = id i).</summary>
    public static IReadOnlyList<string> Build(IEnumerable<string> texts, VocabularyOptions? options = null)
    {
        options ??= new VocabularyOptions();
        if (options.MinCount < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MinCount, "MinCount must be at least 1");
        if (options.MaxWords < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxWords, "MaxWords must be 0 or positive");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var chars = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            if (text is null) continue;
            foreach (var word in PreTokenize(text, options.LowerCase))
            {
                counts[word] = counts.GetValueOrDefault(word) + 1;
                foreach (var rune in word.EnumerateRunes()) chars.Add(rune.ToString());
            }
        }
        var tokens = new List<string>(SpecialTokens);
        var seen = new HashSet<string>(SpecialTokens, StringComparer.Ordinal);
        var words = counts.Where(kv => kv.Value >= options.MinCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key);
        if (options.MaxWords > 0) words = words.Take(options.MaxWords);
        foreach (var w in words) if (seen.Add(w)) tokens.Add(w);
        foreach (var c in chars) if (seen.Add(c)) tokens.Add(c);
        foreach (var c in chars) if (seen.Add("##" + c)) tokens.Add("##" + c);
        return tokens;
    }

    /// <summary>Writes <paramref name="tokens"/> as <c>vocab.txt</c> (one per line, atomically).</summary>
    /// <exception cref="ArgumentException">A token is empty, holds a line break, or repeats.</exception>
    public static void Write(string path, IReadOnlyList<string> tokens)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tokens)
        {
            if (string.IsNullOrEmpty(t) || t.Contains('\n') || t.Contains('\r'))
                throw new ArgumentException($"invalid vocabulary token '{t}'", nameof(tokens));
            if (!seen.Add(t)) throw new ArgumentException($"vocabulary token '{t}' repeats", nameof(tokens));
        }
        IO.AtomicFile.WriteAllLines(path, tokens);
    }

    /// <summary>
    /// BERT's basic tokenisation: drop control characters, optionally lower-case and strip accents
    /// (NFD, remove non-spacing marks), split on whitespace, and split every punctuation character
    /// off as its own word.
    /// </summary>
    public static IEnumerable<string> PreTokenize(string text, bool lowerCase)
    {
        if (lowerCase) text = StripAccents(text.ToLowerInvariant());
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsWhiteSpace(rune))
            {
                if (word.Length > 0) { yield return word.ToString(); word.Clear(); }
                continue;
            }
            if (rune.Value == 0 || rune.Value == 0xFFFD || Rune.IsControl(rune)) continue;
            if (IsPunctuation(rune))
            {
                if (word.Length > 0) { yield return word.ToString(); word.Clear(); }
                yield return rune.ToString();
                continue;
            }
            word.Append(rune.ToString());
        }
        if (word.Length > 0) yield return word.ToString();
    }

    private static string StripAccents(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.Normalize(NormalizationForm.FormD))
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) sb.Append(c);
        return sb.ToString();
    }

    // BERT counts all non-alphanumeric ASCII as punctuation, plus Unicode P* categories.
    private static bool IsPunctuation(Rune rune)
    {
        int cp = rune.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }
}
