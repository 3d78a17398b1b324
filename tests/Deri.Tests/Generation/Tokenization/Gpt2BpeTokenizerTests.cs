using System.Text.Json;
using Deri.Generation.Tokenization;

namespace Deri.Tests.Generation.Tokenization;

/// <summary>
/// <see cref="Gpt2BpeTokenizer"/> against OpenAI's GPT-2 encoder: <c>Fixtures/gpt2/bpe</c> holds a pruned copy of the
/// real GPT-2 vocabulary and merges (original ids and merge order) and the ids OpenAI's encoder gives for 40 texts
/// (made by <c>tools/gpt2/make_bpe_fixture.js</c>).
/// </summary>
public class Gpt2BpeTokenizerTests
{
    private static string Dir => TestFixtures.Dir(Path.Combine("gpt2", "bpe"));

    private static readonly Lazy<Gpt2BpeTokenizer> Shared = new(() => Gpt2BpeTokenizer.FromHuggingFace(Dir));

    public static IEnumerable<object[]> References()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "reference.json")));
        var i = 0;
        foreach (var e in doc.RootElement.EnumerateArray())
            yield return [i++, e.GetProperty("text").GetString()!, e.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray()];
    }

    [Theory]
    [MemberData(nameof(References))]
    public void EncodeMatchesOpenAiEncoder(int index, string text, int[] expected)
    {
        var ids = Shared.Value.Encode(text);
        Assert.True(expected.SequenceEqual(ids), $"text {index} {JsonSerializer.Serialize(text)}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", ids)}]");
    }

    [Theory]
    [MemberData(nameof(References))]
    public void DecodeInvertsEncode(int index, string text, int[] expected)
    {
        Assert.Equal(text, Shared.Value.Decode(expected));
        Assert.True(index >= 0);
    }

    [Fact]
    public void SpecialTokensFollowThePretrainedVocabulary()
    {
        var tok = Shared.Value;
        Assert.Equal(50256, tok.EosId);
        Assert.Equal(50257, tok.BosId);
        Assert.Equal(50258, tok.PadId);
        Assert.Equal(50259, tok.VocabSize);
        Assert.Equal("[BOS]", tok.TokenOf(tok.BosId));
        Assert.Equal("<|endoftext|>", tok.TokenOf(tok.EosId));
        // Special ids are dropped when decoding.
        var ids = tok.Encode("sinus rhythm");
        Assert.Equal("sinus rhythm", tok.Decode([tok.BosId, .. ids, tok.EosId, tok.PadId, tok.PadId]));
        // Report text never produces a special id, even when it spells one.
        var spelled = tok.Encode("[BOS] <|endoftext|> [PAD]");
        Assert.DoesNotContain(tok.EosId, spelled);
        Assert.DoesNotContain(tok.BosId, spelled);
        Assert.DoesNotContain(tok.PadId, spelled);
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([tok.VocabSize]));
    }

    [Fact]
    public void SaveThenLoadGivesTheSameTokenizer()
    {
        var dir = TempDir();
        try
        {
            var tok = Shared.Value;
            tok.Save(dir);
            foreach (var f in new[] { "vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json", "tokenizer_config.json" })
                Assert.True(File.Exists(Path.Combine(dir, f)), f);
            Assert.Equal(File.ReadAllBytes(Path.Combine(Dir, "merges.txt")), File.ReadAllBytes(Path.Combine(dir, "merges.txt")));
            using (var added = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "added_tokens.json"))))
            {
                Assert.Equal(50257, added.RootElement.GetProperty("[BOS]").GetInt32());
                Assert.Equal(50258, added.RootElement.GetProperty("[PAD]").GetInt32());
            }
            var again = Gpt2BpeTokenizer.FromHuggingFace(dir);
            Assert.Equal((tok.VocabSize, tok.BosId, tok.EosId, tok.PadId), (again.VocabSize, again.BosId, again.EosId, again.PadId));
            foreach (var row in References())
                Assert.Equal((int[])row[2], again.Encode((string)row[1]));
            Assert.DoesNotContain(Directory.GetFiles(dir), Deri.IO.AtomicFile.IsTemporary);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AFailedSaveNamesTheFileAndLeavesNoTemporaryFile()
    {
        var dir = TempDir();
        try
        {
            // merges.txt cannot be replaced (a folder of that name): the error names it and vocab.json's write left nothing behind.
            Directory.CreateDirectory(Path.Combine(dir, "merges.txt"));
            var e = Assert.ThrowsAny<OutputPathException>(() => Shared.Value.Save(dir));
            Assert.StartsWith(Path.Combine(dir, "merges.txt"), e.Message);
            Assert.Equal([Path.Combine(dir, "vocab.json")], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AddedTokensFileFixesTheSpecialIds()
    {
        var dir = CopyFixture();
        try
        {
            File.WriteAllText(Path.Combine(dir, "added_tokens.json"), """{"[PAD]": 50257, "[BOS]": 50300}""");
            var tok = Gpt2BpeTokenizer.FromHuggingFace(dir);
            Assert.Equal((50300, 50257, 50301), (tok.BosId, tok.PadId, tok.VocabSize));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AddPrefixSpaceFromTheConfigEncodesTheFirstWordAsMidSentence()
    {
        var dir = CopyFixture();
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"add_prefix_space": true}""");
            var tok = Gpt2BpeTokenizer.FromHuggingFace(dir);
            Assert.Equal(Shared.Value.Encode(" sinus rhythm"), tok.Encode("sinus rhythm"));
            Assert.NotEqual(Shared.Value.Encode("sinus rhythm"), tok.Encode("sinus rhythm"));
            Assert.Equal("sinus rhythm", tok.Decode(tok.Encode("sinus rhythm")));
            Assert.Equal(Shared.Value.Encode("  leading"), tok.Encode(" leading"));
            Assert.Equal(" leading", tok.Decode(tok.Encode(" leading")));
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"add_prefix_space": "yes"}""");
            var e = Assert.Throws<InputFormatException>(() => Gpt2BpeTokenizer.FromHuggingFace(dir));
            Assert.Contains("tokenizer_config.json", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MissingFilesNameTheFile()
    {
        foreach (var file in new[] { "vocab.json", "merges.txt" })
        {
            var dir = CopyFixture();
            try
            {
                File.Delete(Path.Combine(dir, file));
                var e = Assert.Throws<InputFileNotFoundException>(() => Gpt2BpeTokenizer.FromHuggingFace(dir));
                Assert.Contains(file, e.Message);
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        Assert.Throws<InputFileNotFoundException>(() => Gpt2BpeTokenizer.FromHuggingFace(Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid().ToString("N"))));
    }

    [Theory]
    [InlineData("vocab.json", "{\"a\": 1,", "not valid JSON")]
    [InlineData("vocab.json", "[1, 2]", "JSON object")]
    [InlineData("vocab.json", "{\"a\": \"one\"}", "non-negative integer")]
    [InlineData("vocab.json", "{\"a\": 0}", "byte token")]
    [InlineData("merges.txt", "#version: 0.2\nĠ t\nĠt\n", "line 3")]
    [InlineData("merges.txt", "#version: 0.2\nĠ zzzz\n", "not in vocab.json")]
    [InlineData("merges.txt", "#version: 0.2\n", "no merges")]
    [InlineData("added_tokens.json", "{\"[BOS]\": 13}", "already")]
    public void CorruptFilesNameTheFileAndTheProblem(string file, string content, string problem)
    {
        var dir = CopyFixture();
        try
        {
            File.WriteAllText(Path.Combine(dir, file), content);
            var e = Assert.Throws<InputFormatException>(() => Gpt2BpeTokenizer.FromHuggingFace(dir));
            Assert.Contains(file, e.Message);
            Assert.Contains(problem, e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void VocabularyWithoutEndOfTextIsRejected()
    {
        var dir = CopyFixture();
        try
        {
            var path = Path.Combine(dir, "vocab.json");
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path))!;
            vocab.Remove("<|endoftext|>");
            File.WriteAllText(path, JsonSerializer.Serialize(vocab));
            var e = Assert.Throws<InputFormatException>(() => Gpt2BpeTokenizer.FromHuggingFace(dir));
            Assert.Contains("vocab.json", e.Message);
            Assert.Contains("<|endoftext|>", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "deri-bpe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string CopyFixture()
    {
        var dir = TempDir();
        foreach (var f in new[] { "vocab.json", "merges.txt" }) File.Copy(Path.Combine(Dir, f), Path.Combine(dir, f));
        return dir;
    }
}
