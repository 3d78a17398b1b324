using System.Text;
using Deri.IO;

namespace Deri.Generation.NlgMetrics;

/// <summary>Corpus NLG scores of generated reports: each metric is the mean of its sentence-level scores.</summary>
/// <param name="Bleu1">Mean sentence BLEU-1.</param>
/// <param name="Bleu2">Mean sentence BLEU-2.</param>
/// <param name="Bleu3">Mean sentence BLEU-3.</param>
/// <param name="Bleu4">Mean sentence BLEU-4.</param>
/// <param name="RougeL">Mean ROUGE-L F-measure.</param>
/// <param name="Count">Number of report pairs.</param>
public sealed record ReportScores(double Bleu1, double Bleu2, double Bleu3, double Bleu4, double RougeL, int Count);

/// <summary>Scores generated reports against references with the paper's metrics (supplementary Table 3).</summary>
public static class ReportScorer
{
    /// <summary>
    /// BLEU-1..4 (NLTK sentence_bleu, method1) and ROUGE-L F of one pair; <paramref name="rouge"/> defaults to
    /// <see cref="NlgMetrics.RougeL.Default"/> (rouge-score with its stemmer).
    /// </summary>
    public static (double[] Bleu, double RougeL) ScorePair(string reference, string hypothesis, RougeL? rouge = null)
    {
        var r = SentenceBleu.WhitespaceTokens(reference);
        var h = SentenceBleu.WhitespaceTokens(hypothesis);
        var bleu = SentenceBleu.PaperWeights.Select(w => SentenceBleu.Score(r, h, w)).ToArray();
        return (bleu, (rouge ?? NlgMetrics.RougeL.Default).Score(reference, hypothesis).FMeasure);
    }

    /// <summary>Mean scores over paired references and hypotheses (same count; empty input is an error).</summary>
    public static ReportScores Score(IReadOnlyList<string> references, IReadOnlyList<string> hypotheses, RougeL? rouge = null)
    {
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(hypotheses);
        if (references.Count != hypotheses.Count)
            throw new InputValueException($"{references.Count} references but {hypotheses.Count} hypotheses");
        if (references.Count == 0) throw new InputValueException("no report pairs to score");
        var sums = new double[5];
        for (int i = 0; i < references.Count; i++)
        {
            var (bleu, rougeL) = ScorePair(references[i], hypotheses[i], rouge);
            for (int k = 0; k < 4; k++) sums[k] += bleu[k];
            sums[4] += rougeL;
        }
        int n = references.Count;
        return new ReportScores(sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, sums[4] / n, n);
    }

    /// <summary>
    /// Reads two one-report-per-line UTF-8 files and scores them. Errors name the file and line: invalid UTF-8,
    /// differing line counts (naming the first unpaired line), or empty files.
    /// </summary>
    public static ReportScores ScoreFiles(string referencesPath, string hypothesesPath, RougeL? rouge = null)
    {
        var refs = ReadLines(referencesPath);
        var hyps = ReadLines(hypothesesPath);
        if (refs.Count != hyps.Count)
        {
            var (longer, shorter) = refs.Count > hyps.Count ? (referencesPath, hypothesesPath) : (hypothesesPath, referencesPath);
            int first = Math.Min(refs.Count, hyps.Count) + 1;
            throw new InputFormatException(
                $"{referencesPath} has {refs.Count} reports but {hypothesesPath} has {hyps.Count}: line {first} of {longer} has no partner in {shorter}");
        }
        if (refs.Count == 0) throw new InputFormatException($"{referencesPath} and {hypothesesPath} hold no reports");
        return Score(refs, hyps, rouge);
    }

    /// <summary>Lines of a UTF-8 text file (a final newline does not add an empty report); bad UTF-8 names the line.</summary>
    public static List<string> ReadLines(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"report file not found: {path}", path);
        byte[] bytes = File.ReadAllBytes(path);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        var lines = new List<string>();
        int lineNo = 1;
        while (start < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            int stop = end < 0 ? bytes.Length : end;
            int len = stop - start;
            if (len > 0 && bytes[start + len - 1] == (byte)'\r') len--;
            try
            {
                lines.Add(strict.GetString(bytes, start, len));
            }
            catch (DecoderFallbackException)
            {
                throw new InputFormatException($"{path}: line {lineNo} is not valid UTF-8");
            }
            if (end < 0) break;
            start = end + 1;
            lineNo++;
        }
        return lines;
    }
}
