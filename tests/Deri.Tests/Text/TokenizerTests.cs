using Deri.Text;
using TorchSharp;

namespace Deri.Tests.Text;

public class TokenizerTests
{
    // ids:                 0        1        2        3        4         5        6         7       8      9    10    11     12      13    14     15
    private static readonly string[] Vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "sinus", "rhythm", "normal", "ecg", ".", ",", "left", "##s", "axis", "a", "##b"];

    private static TextTokenizer Make(TempDir dir, int maxLength = 12, bool lowerCase = true)
    {
        WordPieceVocabulary.Write(dir.File("vocab.txt"), Vocab);
        return TextTokenizer.Create(dir.File("vocab.txt"), lowerCase, maxLength);
    }

    [Fact]
    public void KnownTextGivesKnownIds()
    {
        using var dir = new TempDir();
        var tok = Make(dir);
        Assert.Equal((2, 3, 0, 1), (tok.ClsId, tok.SepId, tok.PadId, tok.UnkId));
        Assert.Equal([2, 5, 6, 10, 7, 8, 9, 3], tok.Encode("Sinus rhythm, NORMAL ECG."));
        // WordPiece continuation and [UNK] for a word whose characters are not in the vocabulary.
        Assert.Equal([2, 11, 12, 14, 15, 1, 3], tok.Encode("lefts ab xyz"));
        // Accents are stripped when lower-casing, as uncased BERT does.
        Assert.Equal([2, 5, 3], tok.Encode("Sínus"));
    }

    [Fact]
    public void CasedTokenizerKeepsCase()
    {
        using var dir = new TempDir();
        var tok = Make(dir, lowerCase: false);
        Assert.Equal([2, 1, 6, 3], tok.Encode("Sinus rhythm"));
    }

    [Fact]
    public void BatchIsPaddedAndTruncated()
    {
        using var dir = new TempDir();
        var tok = Make(dir, maxLength: 6);
        using var batch = tok.EncodeBatch(["sinus rhythm", "normal ecg , normal ecg , normal ecg"]);
        Assert.Equal(new long[] { 2, 6 }, batch.InputIds.shape);
        Assert.Equal(torch.ScalarType.Int64, batch.InputIds.dtype);
        Assert.Equal(new long[] { 2, 5, 6, 3, 0, 0, 2, 7, 8, 10, 7, 3 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1 }, batch.AttentionMask.data<long>().ToArray());
        Assert.Equal([4, 6], batch.Lengths);
    }

    [Fact]
    public void VocabularyWithoutSpecialTokensIsRejected()
    {
        using var dir = new TempDir();
        System.IO.File.WriteAllLines(dir.File("vocab.txt"), ["[PAD]", "[UNK]", "hello"]);
        var e = Assert.Throws<InputFormatException>(() => TextTokenizer.Create(dir.File("vocab.txt")));
        Assert.Contains("[CLS]", e.Message);
        Assert.Contains(dir.File("vocab.txt"), e.Message);
    }
}

public class WordPieceVocabularyTests
{
    private static readonly string[] Corpus =
    [
        "Sinus rhythm. Normal ECG.",
        "Sinus rhythm, left axis deviation.",
        "Atrial fibrillation with rapid ventricular response.",
        "Sinus bradycardia. Left axis deviation.",
        "Sinus rhythm. Möglicherweise normal.",
    ];

    [Fact]
    public void BuildIsDeterministicAndOrderIndependent()
    {
        var a = WordPieceVocabulary.Build(Corpus, new VocabularyOptions(MinCount: 2));
        var b = WordPieceVocabulary.Build(Corpus.Reverse(), new VocabularyOptions(MinCount: 2));
        Assert.Equal(a, b);
        Assert.Equal(WordPieceVocabulary.SpecialTokens, a.Take(5));
        // Words seen at least twice, most frequent first ("." 8, sinus 4, rhythm 3), then ties in ordinal order;
        // the characters follow, "," (seen once) among them.
        Assert.Equal([".", "sinus", "rhythm", "axis", "deviation", "left", "normal", ","], a.Skip(5).Take(8));
        Assert.DoesNotContain("atrial", a);
        Assert.Contains("a", a);
        Assert.Contains("##a", a);
        Assert.Contains("o", a);
        Assert.DoesNotContain("ö", a);
        Assert.Equal(a.Count, a.Distinct().Count());
    }

    [Fact]
    public void BuiltVocabularyTokenisesTheCorpusWithoutUnknowns()
    {
        using var dir = new TempDir();
        var tokens = WordPieceVocabulary.Build(Corpus, new VocabularyOptions(MinCount: 2));
        WordPieceVocabulary.Write(dir.File("vocab.txt"), tokens);
        Assert.Equal(tokens, System.IO.File.ReadAllLines(dir.File("vocab.txt")));
        var tok = TextTokenizer.Create(dir.File("vocab.txt"), maxLength: 64);
        foreach (var text in Corpus)
            Assert.DoesNotContain(tok.UnkId, tok.Encode(text));
        int sinus = tokens.ToList().IndexOf("sinus"), rhythm = tokens.ToList().IndexOf("rhythm");
        Assert.Equal([tok.ClsId, sinus, rhythm, tok.SepId], tok.Encode("SINUS rhythm"));
        // A rare word falls back to characters: "atrial" = a ##t ##r ##i ##a ##l.
        var ids = tok.Encode("atrial");
        Assert.Equal(["a", "##t", "##r", "##i", "##a", "##l"], ids[1..^1].Select(i => tokens[i]));
    }

    [Fact]
    public void MaxWordsKeepsTheMostFrequent()
    {
        var tokens = WordPieceVocabulary.Build(Corpus, new VocabularyOptions(MinCount: 1, MaxWords: 2));
        Assert.Equal([".", "sinus"], tokens.Skip(5).Take(2));
        Assert.DoesNotContain("rhythm", tokens);
    }
}
