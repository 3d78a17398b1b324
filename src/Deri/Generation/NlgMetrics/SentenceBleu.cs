namespace Deri.Generation.NlgMetrics;

/// <summary>
/// Sentence-level BLEU exactly as NLTK 3.8's <c>nltk.translate.bleu_score.sentence_bleu</c> computes it with
/// <c>SmoothingFunction().method1</c> (epsilon 0.1) and one reference: clipped n-gram precisions as integer fractions,
/// brevity penalty against the closest reference length, 0 when no unigram matches, the weighted log-precisions
/// summed exactly (Python's <c>math.fsum</c>) before <c>exp</c>.
/// </summary>
public static class SentenceBleu
{
    /// <summary>
    /// The weights of BLEU-1..4 used by the paper: (1), (.5,.5), (.33,.33,.33), (.25,.25,.25,.25). BLEU-3's weights are
    /// written 0.33 in the authors' release and METHOD.md, not 1/3: they sum to 0.99, and the paper's numbers are computed so.
    /// </summary>
    public static IReadOnlyList<double[]> PaperWeights { get; } =
    [
        [1.0],
        [0.5, 0.5],
        [0.33, 0.33, 0.33],
        [0.25, 0.25, 0.25, 0.25],
    ];

    /// <summary>Splits on runs of whitespace like Python's <c>str.split()</c> (its exact whitespace set).</summary>
    public static string[] WhitespaceTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        int start = -1;
        for (int i = 0; i < text.Length; i++)
        {
            if (IsPythonSpace(text[i]))
            {
                if (start >= 0) { tokens.Add(text[start..i]); start = -1; }
            }
            else if (start < 0) start = i;
        }
        if (start >= 0) tokens.Add(text[start..]);
        return tokens.ToArray();
    }

    /// <summary>True for the code points Python's <c>str.isspace()</c> accepts (all are in the BMP).</summary>
    public static bool IsPythonSpace(char c) => c switch
    {
        >= '\u0009' and <= '\u000d' => true,
        >= '\u001c' and <= '\u0020' => true,
        '\u0085' or '\u00a0' or '\u1680' or '\u2028' or '\u2029' or '\u202f' or '\u205f' or '\u3000' => true,
        >= '\u2000' and <= '\u200a' => true,
        _ => false,
    };

    /// <summary>BLEU of a whitespace-tokenised hypothesis against one whitespace-tokenised reference.</summary>
    public static double Score(string reference, string hypothesis, IReadOnlyList<double> weights) =>
        Score(WhitespaceTokens(reference), WhitespaceTokens(hypothesis), weights);

    /// <summary>
    /// BLEU of <paramref name="hypothesis"/> against one <paramref name="reference"/> with the given n-gram weights
    /// (length N means n-grams of order 1..N are counted).
    /// </summary>
    public static double Score(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException("BLEU needs at least one n-gram weight", nameof(weights));
        int maxN = weights.Count;
        var numerators = new long[maxN];
        var denominators = new long[maxN];
        for (int n = 1; n <= maxN; n++)
            (numerators[n - 1], denominators[n - 1]) = ModifiedPrecision(reference, hypothesis, n);

        int hypLen = hypothesis.Count;
        double bp = BrevityPenalty(reference.Count, hypLen);
        if (numerators[0] == 0) return 0.0;

        // method1: a zero numerator becomes epsilon = 0.1 counts; otherwise the fraction itself (as a float).
        var terms = new double[maxN];
        for (int i = 0; i < maxN; i++)
        {
            double p = numerators[i] == 0 ? (0 + 0.1) / denominators[i] : (double)numerators[i] / denominators[i];
            terms[i] = weights[i] * Math.Log(p);
        }
        return bp * Math.Exp(ExactSum.Fsum(terms));
    }

    /// <summary>NLTK's <c>modified_precision</c> for one reference: clipped matches over hypothesis n-grams (at least 1).</summary>
    public static (long Numerator, long Denominator) ModifiedPrecision(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis, int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "n-gram order must be at least 1");
        var counts = hypothesis.Count >= n ? NGramCounts(hypothesis, n) : new Dictionary<string, int>();
        var refCounts = reference.Count >= n ? NGramCounts(reference, n) : new Dictionary<string, int>();
        long numerator = 0, total = 0;
        foreach (var (gram, count) in counts)
        {
            numerator += Math.Min(count, refCounts.GetValueOrDefault(gram));
            total += count;
        }
        return (numerator, Math.Max(1, total));
    }

    /// <summary>NLTK's <c>brevity_penalty</c>: 1 when the hypothesis is longer, 0 when empty, else exp(1 - r/c).</summary>
    public static double BrevityPenalty(int closestRefLength, int hypLength)
    {
        if (hypLength > closestRefLength) return 1.0;
        if (hypLength == 0) return 0.0;
        return Math.Exp(1 - (double)closestRefLength / hypLength);
    }

    private static Dictionary<string, int> NGramCounts(IReadOnlyList<string> tokens, int n)
    {
        // Tokens never contain whitespace, so a space-joined key identifies the n-gram uniquely.
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            string key = n == 1 ? tokens[i] : string.Join(' ', Enumerable.Range(i, n).Select(k => tokens[k]));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }
}
