using System.Text;

namespace Deri.Generation.NlgMetrics;

/// <summary>Precision, recall and F-measure of one ROUGE comparison.</summary>
/// <param name="Precision">LCS length over prediction length.</param>
/// <param name="Recall">LCS length over target length.</param>
/// <param name="FMeasure">2PR/(P+R), 0 when both are 0.</param>
public readonly record struct RougeScore(double Precision, double Recall, double FMeasure);

/// <summary>
/// Sentence-level ROUGE-L as Google's <c>rouge-score</c> package computes it (<c>RougeScorer(['rougeL'], use_stemmer=True)</c>):
/// its tokenizer (lower-case, non-[a-z0-9] to spaces, split, Porter-stem tokens longer than 3 characters with NLTK's
/// stemmer) and the longest common subsequence of the token lists.
/// </summary>
public sealed class RougeL
{
    private readonly PorterStemmer? _stemmer;

    /// <summary>
    /// Creates a scorer. rouge-score constructs <c>nltk.stem.porter.PorterStemmer()</c>, i.e. NLTK's default
    /// <see cref="PorterMode.NltkExtensions"/>; <paramref name="stemmer"/> null turns stemming off (<c>use_stemmer=False</c>).
    /// </summary>
    public RougeL(PorterStemmer? stemmer) => _stemmer = stemmer;

    /// <summary>The scorer of the paper's metric: rouge-score with <c>use_stemmer=True</c>.</summary>
    public static RougeL Default { get; } = new(new PorterStemmer(PorterMode.NltkExtensions));

    /// <summary>rouge-score's <c>tokenize.tokenize(text, stemmer)</c>.</summary>
    public string[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Python's str.lower() then [^a-z0-9]+ -> " ": only A-Z, U+0130 (-> "i" + combining dot) and U+212A KELVIN SIGN
        // (-> "k") lower-case to ASCII letters or digits; every other character ends up a separator.
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') sb.Append(c);
            else if (c is >= 'A' and <= 'Z') sb.Append((char)(c + ('a' - 'A')));
            else if (c == '\u0130') sb.Append("i ");
            else if (c == '\u212a') sb.Append('k');
            else sb.Append(' ');
        }
        var tokens = sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (_stemmer is not null)
            for (int i = 0; i < tokens.Length; i++)
                if (tokens[i].Length > 3) tokens[i] = _stemmer.Stem(tokens[i]);
        return tokens.Where(t => t.Length > 0).ToArray();
    }

    /// <summary>ROUGE-L of <paramref name="prediction"/> against <paramref name="target"/> (the reference), as <c>scorer.score(target, prediction)</c>.</summary>
    public RougeScore Score(string target, string prediction) => ScoreTokens(Tokenize(target), Tokenize(prediction));

    /// <summary>rouge-score's <c>_score_lcs</c> on already tokenised text.</summary>
    public static RougeScore ScoreTokens(IReadOnlyList<string> target, IReadOnlyList<string> prediction)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(prediction);
        if (target.Count == 0 || prediction.Count == 0) return new RougeScore(0, 0, 0);
        int lcs = LcsLength(target, prediction);
        double precision = (double)lcs / prediction.Count;
        double recall = (double)lcs / target.Count;
        double f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
        return new RougeScore(precision, recall, f);
    }

    /// <summary>Length of the longest common subsequence of two token lists (one DP row, O(|a||b|) time).</summary>
    public static int LcsLength(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var prev = new int[b.Count + 1];
        var cur = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
                cur[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? prev[j - 1] + 1 : Math.Max(prev[j], cur[j - 1]);
            (prev, cur) = (cur, prev);
        }
        return prev[b.Count];
    }
}
