using Deri.Generation.Tokenization;

namespace Deri.Tests.Generation;

public sealed class WordLevelTokenizerTests
{
    private static readonly string[] Reports =
    [
        "Sinus rhythm. Normal ECG",
        "Sinus  bradycardia.\tBorderline ECG",
        "Atrial fibrillation with rapid ventricular response. Abnormal ECG",
        "Sinus rhythm. Left axis deviation. Abnormal ECG",
    ];

    [Fact]
    public void SpecialsComeFirstAndWordsByFrequency()
    {
        var t = WordLevelTokenizer.Build(Reports);
        Assert.Equal((0, 1, 2, 3), (t.PadId, t.BosId, t.EosId, t.UnkId));
        Assert.Equal(["[PAD]", "[BOS]", "[EOS]", "[UNK]"], t.Tokens.Take(4));
        // "ECG" occurs 4 times, "Sinus" 3, "Abnormal" and "rhythm." twice (ties in ordinal order).
        Assert.Equal("ECG", t.Tokens[4]);
        Assert.Equal(["Sinus", "Abnormal", "rhythm."], t.Tokens.Skip(5).Take(3));
        Assert.Equal(4 + Reports.SelectMany(WordLevelTokenizer.Words).Distinct().Count(), t.VocabSize);
    }

    [Fact]
    public void DecodeOfEncodeIsTheWhitespaceNormalisedText()
    {
        var t = WordLevelTokenizer.Build(Reports);
        foreach (string r in Reports)
            Assert.Equal(string.Join(' ', r.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), t.Decode(t.Encode(r)));
        Assert.Equal("Sinus bradycardia. Borderline ECG", t.Decode(t.Encode(Reports[1])));
    }

    [Fact]
    public void UnknownWordsBecomeUnkAndSpecialsAreDroppedOnDecode()
    {
        var t = WordLevelTokenizer.Build(Reports);
        var ids = t.Encode("Sinus tachycardia [BOS] ECG");
        Assert.Equal([t.Tokens.ToList().IndexOf("Sinus"), t.UnkId, t.UnkId, t.Tokens.ToList().IndexOf("ECG")], ids);
        Assert.Equal("Sinus [UNK] [UNK] ECG", t.Decode(ids));
        Assert.Equal("Sinus ECG", t.Decode([t.BosId, ids[0], t.PadId, ids[3], t.EosId]));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([t.VocabSize]));
    }

    [Fact]
    public void MinCountAndMaxSizeLimitTheVocabulary()
    {
        var t = WordLevelTokenizer.Build(Reports, minCount: 2);
        Assert.Equal(["ECG", "Sinus", "Abnormal", "rhythm."], t.Tokens.Skip(4));
        Assert.Equal(5, WordLevelTokenizer.Build(Reports, maxSize: 1).VocabSize);
        Assert.Throws<Deri.Config.ConfigException>(() => WordLevelTokenizer.Build(Reports, minCount: 0));
    }

    [Fact]
    public void SaveAndLoadRoundTripAndBadFilesAreNamed()
    {
        string dir = Directory.CreateTempSubdirectory("deri-words").FullName;
        try
        {
            var t = WordLevelTokenizer.Build(Reports);
            t.Save(dir);
            var back = Assert.IsType<WordLevelTokenizer>(ReportTokenizers.Load(dir));
            Assert.Equal(t.Tokens, back.Tokens);
            Assert.Equal(t.Encode(Reports[2]), back.Encode(Reports[2]));

            File.WriteAllText(Path.Combine(dir, WordLevelTokenizer.FileName), "[PAD]\n[BOS]\nfoo\n");
            var e = Assert.Throws<InputFormatException>(() => ReportTokenizers.Load(dir));
            Assert.Contains(WordLevelTokenizer.FileName, e.Message);
            File.Delete(Path.Combine(dir, WordLevelTokenizer.FileName));
            Assert.Contains("no report tokenizer", Assert.Throws<InputFormatException>(() => ReportTokenizers.Load(dir)).Message);
            Assert.Throws<InputFileNotFoundException>(() => ReportTokenizers.Load(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
