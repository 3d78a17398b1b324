using Deri.Generation.NlgMetrics;

namespace Deri.Tests.Generation;

public class NlgMetricsTests
{
    private const double Tol = 1e-12;

    [Fact]
    public void SentenceBleuMatchesNltkOnSpecialCases()
    {
        foreach (var p in NlgFixtures.Special)
            for (int k = 0; k < 4; k++)
                Assert.True(Math.Abs(SentenceBleu.Score(p.Ref, p.Hyp, SentenceBleu.PaperWeights[k]) - p.Bleu[k]) <= Tol,
                    $"BLEU-{k + 1} of '{p.Hyp}' vs '{p.Ref}': {SentenceBleu.Score(p.Ref, p.Hyp, SentenceBleu.PaperWeights[k])} != {p.Bleu[k]}");
    }

    [Fact]
    public void SentenceBleuMatchesNltkOnRealReportPairs()
    {
        var real = NlgFixtures.Real;
        Assert.Equal(200, real.Count);
        Assert.Contains(real, p => p.Bleu[3] > 0.05);
        foreach (var p in real)
            for (int k = 0; k < 4; k++)
                Assert.True(Math.Abs(SentenceBleu.Score(p.Ref, p.Hyp, SentenceBleu.PaperWeights[k]) - p.Bleu[k]) <= Tol,
                    $"BLEU-{k + 1} of '{p.Hyp}' vs '{p.Ref}'");
    }

    [Fact]
    public void Bleu3UsesTheReleaseWeightsAndMatchesNltkExactly()
    {
        // The release and METHOD.md weight BLEU-3 by (.33, .33, .33), which sum to 0.99; 1/3 each would give other numbers.
        Assert.Equal([0.33, 0.33, 0.33], SentenceBleu.PaperWeights[2]);
        Assert.Equal(NlgFixtures.Weights.Length, SentenceBleu.PaperWeights.Count);
        for (int k = 0; k < SentenceBleu.PaperWeights.Count; k++) Assert.Equal(NlgFixtures.Weights[k], SentenceBleu.PaperWeights[k]);
        var real = NlgFixtures.Real;
        Assert.Contains(real, p => p.Bleu[2] > 0.05);
        foreach (var p in NlgFixtures.Special.Concat(real))
            Assert.Equal(p.Bleu[2], SentenceBleu.Score(p.Ref, p.Hyp, SentenceBleu.PaperWeights[2]));
    }

    [Fact]
    public void SentenceBleuSpecialCasesFollowNltk()
    {
        // One matching word: p1 = 1, p2..p4 have no n-grams (0/1) and method1 makes them 0.1.
        Assert.Equal(Math.Exp(0.5 * Math.Log(0.1)), SentenceBleu.Score("sinus", "sinus", SentenceBleu.PaperWeights[1]), 15);
        Assert.Equal(0.0, SentenceBleu.Score("a b", "c d", SentenceBleu.PaperWeights[3]));
        Assert.Equal(0.0, SentenceBleu.Score("a b", "", SentenceBleu.PaperWeights[0]));
        Assert.Equal((2L, 7L), SentenceBleu.ModifiedPrecision("the cat is on the mat".Split(' '), Enumerable.Repeat("the", 7).ToArray(), 1));
        Assert.Equal(["a", "b", "c"], SentenceBleu.WhitespaceTokens("  a\u001cb\u3000c\n"));
    }

    [Fact]
    public void FsumIsCorrectlyRounded()
    {
        Assert.Equal(1e-100, ExactSum.Fsum([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50]));
        Assert.Equal(1.0, ExactSum.Fsum(Enumerable.Repeat(0.1, 10)));
        Assert.Equal(0.0, ExactSum.Fsum([]));
        Assert.Throws<ArgumentException>(() => ExactSum.Fsum([1.0, double.NaN]));
    }

    [Fact]
    public void RougeLMatchesRougeScoreMirror()
    {
        var original = new RougeL(new PorterStemmer(PorterMode.OriginalAlgorithm));
        foreach (var p in NlgFixtures.Special.Concat(NlgFixtures.Real))
        {
            Assert.True(Math.Abs(RougeL.Default.Score(p.Ref, p.Hyp).FMeasure - p.RougeL) <= Tol, $"ROUGE-L of '{p.Hyp}' vs '{p.Ref}'");
            Assert.True(Math.Abs(original.Score(p.Ref, p.Hyp).FMeasure - p.RougeLOriginal) <= Tol, $"ROUGE-L (original stemmer) of '{p.Hyp}' vs '{p.Ref}'");
        }
    }

    [Fact]
    public void RougeTokenizerLowercasesSplitsAndStems()
    {
        Assert.Equal(["st", "senkung", "in", "v5", "v6"], RougeL.Default.Tokenize("ST-Senkung in V5,V6."));
        Assert.Equal(["i", "nfarkt", "kammer"], new RougeL(null).Tokenize("\u0130nfarkt \u212aammer"));
        Assert.Equal(["abnorm", "rhythm"], RougeL.Default.Tokenize("Abnormalities rhythms"));
        Assert.Equal(2, RougeL.LcsLength(["a", "b", "c"], ["b", "x", "c"]));
    }

    [Fact]
    public void CorpusScoresAreMeansOfSentenceScores()
    {
        var s = ReportScorer.ScoreFiles(Path.Combine(NlgFixtures.Dir, "real_refs.txt"), Path.Combine(NlgFixtures.Dir, "real_hyps.txt"));
        Assert.Equal(200, s.Count);
        Assert.Equal(NlgFixtures.RealMean("bleu_1"), s.Bleu1, Tol);
        Assert.Equal(NlgFixtures.RealMean("bleu_2"), s.Bleu2, Tol);
        Assert.Equal(NlgFixtures.RealMean("bleu_3"), s.Bleu3, Tol);
        Assert.Equal(NlgFixtures.RealMean("bleu_4"), s.Bleu4, Tol);
        Assert.Equal(NlgFixtures.RealMean("rouge_l"), s.RougeL, Tol);
    }

    [Fact]
    public void ScoreFilesNamesFileAndLineOnBadInput()
    {
        string dir = Directory.CreateTempSubdirectory("deri-nlg").FullName;
        try
        {
            string refs = Path.Combine(dir, "refs.txt"), hyps = Path.Combine(dir, "hyps.txt"), bad = Path.Combine(dir, "bad.txt");
            File.WriteAllText(refs, "sinus rhythm\nnormal ecg\nleft axis\n");
            File.WriteAllText(hyps, "sinus rhythm\nnormal ecg\n");
            var e = Assert.Throws<InputFormatException>(() => ReportScorer.ScoreFiles(refs, hyps));
            Assert.Contains("line 3 of " + refs, e.Message);
            File.WriteAllBytes(bad, [(byte)'o', (byte)'k', (byte)'\n', 0xC3, 0x28, (byte)'\n']);
            var u = Assert.Throws<InputFormatException>(() => ReportScorer.ScoreFiles(bad, hyps));
            Assert.Contains($"{bad}: line 2", u.Message);
            Assert.Throws<InputFileNotFoundException>(() => ReportScorer.ScoreFiles(Path.Combine(dir, "missing.txt"), hyps));
            File.WriteAllText(hyps, "sinus rhythm\r\n\r\nleft axis");
            var s = ReportScorer.ScoreFiles(refs, hyps);
            Assert.Equal(3, s.Count);
            Assert.Equal(2.0 / 3.0, s.Bleu1, Tol);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
