using Deri.Generation.NlgMetrics;

namespace Deri.Tests.Generation;

public class PorterStemmerTests
{
    [Fact]
    public void NltkExtensionsModeMatchesNltkOnWordList()
    {
        var stemmer = new PorterStemmer(PorterMode.NltkExtensions);
        var words = NlgFixtures.Words();
        Assert.True(words.Count >= 400);
        var wrong = words.Where(w => stemmer.Stem(w.Text) != w.Nltk).Select(w => $"{w.Text}: {stemmer.Stem(w.Text)} != {w.Nltk}").ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void OriginalAlgorithmModeMatchesNltkOnWordList()
    {
        var stemmer = new PorterStemmer(PorterMode.OriginalAlgorithm);
        var wrong = NlgFixtures.Words().Where(w => stemmer.Stem(w.Text) != w.Original)
            .Select(w => $"{w.Text}: {stemmer.Stem(w.Text)} != {w.Original}").ToList();
        Assert.Empty(wrong);
    }

    [Fact]
    public void ModesDifferWhereNltkChangedTheRules()
    {
        // NLTK keeps 'enjoy' (y after a vowel stays) and maps 'dying' through its irregular pool; the 1980 rules do not.
        Assert.Equal("enjoy", new PorterStemmer(PorterMode.NltkExtensions).Stem("enjoy"));
        Assert.Equal("enjoi", new PorterStemmer(PorterMode.OriginalAlgorithm).Stem("enjoy"));
        Assert.Equal("die", new PorterStemmer().Stem("dying"));
        Assert.Equal("dy", new PorterStemmer(PorterMode.OriginalAlgorithm).Stem("dying"));
    }
}
