using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Deri.IO;

namespace Deri.Generation.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE (METHOD §4) read from a Hugging Face tokenizer folder (<c>vocab.json</c>,
/// <c>merges.txt</c>; optional <c>added_tokens.json</c>, <c>tokenizer_config.json</c>), encoded by
/// Microsoft.ML.Tokenizers' byte-level <see cref="BpeTokenizer"/> with GPT-2's pre-tokenisation regex. (Its
/// <c>CodeGenTokenizer.Create</c> is not used: it adds CodeGen's 38 whitespace-run tokens, ids 50257–50294, and splits
/// <c>&lt;|endoftext|&gt;</c> out of the text, so double spaces and such reports would not get GPT-2's ids.)
/// <c>[EOS]</c> is <c>&lt;|endoftext|&gt;</c> (50256 for GPT-2); <c>[BOS]</c> and <c>[PAD]</c> are added after the
/// pretrained vocabulary (50257 and 50258 for GPT-2, as Hugging Face's <c>add_special_tokens</c> does) unless the
/// folder already defines them, so <see cref="VocabSize"/> is 50259 for GPT-2 and the decoder's token table must be
/// resized to it (<see cref="Decoder.Gpt2Model.ResizeTokenEmbeddings"/>).
/// Report text is always encoded as plain text: a report containing the characters <c>&lt;|endoftext|&gt;</c> or
/// <c>[BOS]</c> gets their BPE pieces, never a special id.
/// </summary>
public sealed class Gpt2BpeTokenizer : IReportTokenizer
{
    /// <summary>The end-of-sequence token of GPT-2.</summary>
    public const string EosToken = "<|endoftext|>";

    /// <summary>The begin-of-sequence token that METHOD §4 adds.</summary>
    public const string BosToken = "[BOS]";

    /// <summary>The padding token that METHOD §4 adds.</summary>
    public const string PadToken = "[PAD]";

    private const string VocabFile = "vocab.json";
    private const string MergesFile = "merges.txt";
    private const string AddedTokensFile = "added_tokens.json";
    private const string ConfigFile = "tokenizer_config.json";
    private const string SpecialTokensMapFile = "special_tokens_map.json";

    /// <summary>GPT-2's pre-tokeniser (OpenAI encoder.py): contractions, letter runs, digit runs, other runs, whitespace.</summary>
    private static readonly Regex Gpt2Words = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled);

    private readonly BpeTokenizer bpe;
    private readonly byte[] vocabBytes;
    private readonly byte[] mergesBytes;
    private readonly Dictionary<int, string> idToToken;
    private readonly bool addPrefixSpace;

    private Gpt2BpeTokenizer(BpeTokenizer bpe, byte[] vocabBytes, byte[] mergesBytes, Dictionary<int, string> idToToken,
        int eosId, int bosId, int padId, bool addPrefixSpace)
    {
        this.bpe = bpe;
        this.vocabBytes = vocabBytes;
        this.mergesBytes = mergesBytes;
        this.idToToken = idToToken;
        this.addPrefixSpace = addPrefixSpace;
        EosId = eosId;
        BosId = bosId;
        PadId = padId;
        VocabSize = Math.Max(idToToken.Keys.Max(), Math.Max(bosId, padId)) + 1;
    }

    /// <inheritdoc />
    /// <remarks>One more than the largest id, <c>[BOS]</c> and <c>[PAD]</c> included (50259 for GPT-2).</remarks>
    public int VocabSize { get; }

    /// <inheritdoc />
    public int BosId { get; }

    /// <inheritdoc />
    public int EosId { get; }

    /// <inheritdoc />
    public int PadId { get; }

    /// <summary>
    /// Reads a Hugging Face GPT-2 tokenizer folder. <c>vocab.json</c> (token → id) and <c>merges.txt</c> are required;
    /// <c>added_tokens.json</c> may give the ids of <c>[BOS]</c>/<c>[PAD]</c> (otherwise they take the next free ids,
    /// in that order), and <c>tokenizer_config.json</c> may set <c>add_prefix_space</c> (default false, as GPT-2).
    /// </summary>
    /// <exception cref="InputFileNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InputFileNotFoundException"><c>vocab.json</c> or <c>merges.txt</c> is missing.</exception>
    /// <exception cref="InputFormatException">A file is corrupt (not JSON, a merge line without two parts or with a part not in
    /// the vocabulary, byte tokens or <c>&lt;|endoftext|&gt;</c> missing, clashing ids).</exception>
    public static Gpt2BpeTokenizer FromHuggingFace(string directory)
    {
        if (!Directory.Exists(directory)) throw new InputFileNotFoundException($"GPT-2 tokenizer folder not found: {directory}");
        var vocabPath = Path.Combine(directory, VocabFile);
        var mergesPath = Path.Combine(directory, MergesFile);
        var vocabBytes = ReadRequired(vocabPath);
        var mergesBytes = ReadRequired(mergesPath);
        var vocab = ParseVocab(vocabBytes, vocabPath);
        CheckMerges(mergesBytes, mergesPath, vocab);
        if (!vocab.TryGetValue(EosToken, out var eosId))
            throw new InputFormatException($"{vocabPath}: the end-of-sequence token {EosToken} is missing");

        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        var addedPath = Path.Combine(directory, AddedTokensFile);
        if (File.Exists(addedPath))
            foreach (var (token, id) in ParseTokenIds(File.ReadAllBytes(addedPath), addedPath)) added[token] = id;

        var idToToken = new Dictionary<int, string>();
        foreach (var (token, id) in vocab)
            if (!idToToken.TryAdd(id, token))
                throw new InputFormatException($"{vocabPath}: id {id} is given to both '{idToToken[id]}' and '{token}'");
        int nextId = idToToken.Keys.Max() + 1;
        foreach (var (token, id) in added)
        {
            if (vocab.TryGetValue(token, out var inVocab) && inVocab != id)
                throw new InputFormatException($"{addedPath}: '{token}' has id {id} but {VocabFile} gives it {inVocab}");
            if (idToToken.TryGetValue(id, out var other) && other != token)
                throw new InputFormatException($"{addedPath}: id {id} of '{token}' is already '{other}' in {VocabFile}");
            nextId = Math.Max(nextId, id + 1);
        }
        int Special(string token)
        {
            if (vocab.TryGetValue(token, out var id) || added.TryGetValue(token, out id)) return id;
            return nextId++;
        }
        var bosId = Special(BosToken);
        var padId = Special(PadToken);
        if (bosId == padId || bosId == eosId || padId == eosId)
            throw new InputFormatException($"{directory}: {BosToken} ({bosId}), {PadToken} ({padId}) and {EosToken} ({eosId}) must have different ids");
        idToToken[bosId] = BosToken;
        idToToken[padId] = PadToken;

        var prefixSpace = false;
        var configPath = Path.Combine(directory, ConfigFile);
        if (File.Exists(configPath))
        {
            var config = ParseObject(File.ReadAllBytes(configPath), configPath);
            if (config["add_prefix_space"] is { } node)
            {
                if (node.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                    throw new InputFormatException($"{configPath}: add_prefix_space must be true or false");
                prefixSpace = node.GetValue<bool>();
            }
        }

        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocab)
            {
                Merges = ReadMergeLines(mergesBytes),
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(Gpt2Words, specialTokens: null),
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InputFormatException($"{directory}: {VocabFile}/{MergesFile} could not be read as a byte-level BPE: {e.Message}", e);
        }
        return new Gpt2BpeTokenizer(bpe, vocabBytes, mergesBytes, idToToken, eosId, bosId, padId, prefixSpace);
    }

    /// <inheritdoc />
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return [];
        // No special tokens are registered with the BPE, so "<|endoftext|>" or "[BOS]" in a report is ordinary text.
        // add_prefix_space prepends one space whatever the text starts with, as Hugging Face's GPT2Tokenizer does.
        return bpe.EncodeToIds(addPrefixSpace ? " " + text : text).ToArray();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var kept = new List<int>();
        foreach (var id in ids)
        {
            if (id == BosId || id == EosId || id == PadId) continue;
            if (!idToToken.ContainsKey(id))
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is not in the GPT-2 vocabulary (size {VocabSize})");
            kept.Add(id);
        }
        var text = kept.Count == 0 ? "" : bpe.Decode(kept, considerSpecialTokens: false) ?? "";
        // Undo add_prefix_space's one space, so Decode(Encode(text)) == text.
        return addPrefixSpace && text.StartsWith(' ') ? text[1..] : text;
    }

    /// <summary>The token string of <paramref name="id"/> (byte-to-unicode mapped, as in <c>vocab.json</c>), or null.</summary>
    public string? TokenOf(int id) => idToToken.GetValueOrDefault(id);

    /// <summary>
    /// Writes a Hugging Face folder that <see cref="FromHuggingFace"/> (and Hugging Face's <c>GPT2Tokenizer</c>) reads
    /// back to the same tokenizer: <c>vocab.json</c> and <c>merges.txt</c> byte for byte, <c>added_tokens.json</c> with
    /// <c>[BOS]</c>/<c>[PAD]</c>, <c>special_tokens_map.json</c> and <c>tokenizer_config.json</c>. Each file is written
    /// to a temporary name and renamed.
    /// </summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var added = new JsonObject();
        foreach (var (token, id) in new[] { (BosToken, BosId), (PadToken, PadId) }.OrderBy(x => x.Item2)) added[token] = id;
        var specials = new JsonObject
        {
            ["bos_token"] = BosToken,
            ["eos_token"] = EosToken,
            ["unk_token"] = EosToken,
            ["pad_token"] = PadToken,
        };
        var config = new JsonObject
        {
            ["tokenizer_class"] = "GPT2Tokenizer",
            ["add_prefix_space"] = addPrefixSpace,
            ["bos_token"] = BosToken,
            ["eos_token"] = EosToken,
            ["unk_token"] = EosToken,
            ["pad_token"] = PadToken,
        };
        var indented = new JsonSerializerOptions { WriteIndented = true };
        IO.AtomicFile.WriteAllBytes(Path.Combine(directory, VocabFile), vocabBytes);
        IO.AtomicFile.WriteAllBytes(Path.Combine(directory, MergesFile), mergesBytes);
        IO.AtomicFile.WriteAllBytes(Path.Combine(directory, AddedTokensFile), Encoding.UTF8.GetBytes(added.ToJsonString(indented)));
        IO.AtomicFile.WriteAllBytes(Path.Combine(directory, SpecialTokensMapFile), Encoding.UTF8.GetBytes(specials.ToJsonString(indented)));
        IO.AtomicFile.WriteAllBytes(Path.Combine(directory, ConfigFile), Encoding.UTF8.GetBytes(config.ToJsonString(indented)));
    }

    private static byte[] ReadRequired(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"GPT-2 tokenizer file not found: {path}", path);
        return File.ReadAllBytes(path);
    }

    private static JsonObject ParseObject(byte[] bytes, string path)
    {
        try
        {
            return JsonNode.Parse(bytes) as JsonObject ?? throw new InputFormatException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new InputFormatException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    private static Dictionary<string, int> ParseTokenIds(byte[] bytes, string path)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, node) in ParseObject(bytes, path))
        {
            if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue<int>(out var id) || id < 0)
                throw new InputFormatException($"{path}: the id of '{token}' must be a non-negative integer");
            result[token] = id;
        }
        return result;
    }

    private static Dictionary<string, int> ParseVocab(byte[] bytes, string path)
    {
        var vocab = ParseTokenIds(bytes, path);
        if (vocab.Count == 0) throw new InputFormatException($"{path}: the vocabulary is empty");
        // Byte-level BPE can write any text only if every byte has a token (bytes mapped to printable characters as GPT-2 does).
        foreach (var c in ByteToUnicode())
            if (!vocab.ContainsKey(c.ToString()))
                throw new InputFormatException($"{path}: the byte token '{c}' (U+{(int)c:X4}) is missing; not a byte-level BPE vocabulary");
        return vocab;
    }

    private static List<string> ReadMergeLines(byte[] bytes)
    {
        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        return lines.Select(l => l.TrimEnd('\r')).Where((l, i) => l.Length > 0 && !(i == 0 && l.StartsWith("#version", StringComparison.Ordinal))).ToList();
    }

    private static void CheckMerges(byte[] bytes, string path, Dictionary<string, int> vocab)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InputFormatException($"{path}: not UTF-8 text", e);
        }
        var lines = text.Split('\n');
        var merges = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0 || (i == 0 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new InputFormatException($"{path}: line {i + 1} is not a merge of two tokens separated by one space: '{line}'");
            foreach (var token in new[] { parts[0], parts[1], parts[0] + parts[1] })
                if (!vocab.ContainsKey(token))
                    throw new InputFormatException($"{path}: line {i + 1} uses '{token}', which is not in {VocabFile}");
            merges++;
        }
        if (merges == 0) throw new InputFormatException($"{path}: no merges");
    }

    /// <summary>GPT-2's <c>bytes_to_unicode</c>: the character each of the 256 bytes is written as.</summary>
    private static char[] ByteToUnicode()
    {
        var map = new char[256];
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + n++);
        }
        return map;
    }
}
