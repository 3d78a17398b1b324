using System.Text;
using Deri.IO;

namespace Deri.Generation.Tokenization;

/// <summary>
/// The report tokenizer used when no pretrained decoder folder is configured: one token per
/// whitespace-separated word exactly as written (case and punctuation kept), so
/// <c>Decode(Encode(x))</c> is <c>x</c> with its whitespace collapsed to single spaces, and BLEU's
/// whitespace tokens of a generated report compare fairly with the reference's. The vocabulary is
/// built from the training reports: words seen at least <c>minCount</c> times, the most frequent
/// first (ties in ordinal order), at most <c>maxSize</c> words; other words become <c>[UNK]</c>.
/// Ids 0–3 are <c>[PAD]</c>, <c>[BOS]</c>, <c>[EOS]</c>, <c>[UNK]</c>.
/// </summary>
public sealed class WordLevelTokenizer : IReportTokenizer
{
    /// <summary>File of a saved vocabulary: one token per line, the line number (from 0) is its id.</summary>
    public const string FileName = "words.txt";

    /// <summary>Padding token.</summary>
    public const string Pad = "[PAD]";

    /// <summary>Start-of-report token.</summary>
    public const string Bos = "[BOS]";

    /// <summary>End-of-report token.</summary>
    public const string Eos = "[EOS]";

    /// <summary>Unknown-word token.</summary>
    public const string Unk = "[UNK]";

    private static readonly string[] Specials = [Pad, Bos, Eos, Unk];

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    /// <summary>Creates a tokenizer over <paramref name="tokens"/>, whose first four are the specials in the order above.</summary>
    /// <exception cref="ArgumentException">The specials are missing or out of order, a token is empty or contains whitespace, or a token repeats.</exception>
    public WordLevelTokenizer(IReadOnlyList<string> tokens)
    {
        if (tokens.Count < Specials.Length || !Specials.Select((s, i) => tokens[i] == s).All(x => x))
            throw new ArgumentException($"a word-level vocabulary must start with {string.Join(", ", Specials)}");
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            if (t.Length == 0 || t.Any(char.IsWhiteSpace)) throw new ArgumentException($"token {i} ('{t}') is empty or contains whitespace");
            if (!_ids.TryAdd(t, i)) throw new ArgumentException($"token '{t}' appears twice (ids {_ids[t]} and {i})");
        }
        _tokens = tokens.ToArray();
    }

    /// <inheritdoc />
    public int VocabSize => _tokens.Length;

    /// <inheritdoc />
    public int PadId => 0;

    /// <inheritdoc />
    public int BosId => 1;

    /// <inheritdoc />
    public int EosId => 2;

    /// <summary>Id of <c>[UNK]</c>, which stands for every word outside the vocabulary.</summary>
    public int UnkId => 3;

    /// <summary>The tokens in id order (specials first).</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>
    /// Builds the vocabulary of <paramref name="reports"/>: words with at least <paramref name="minCount"/>
    /// occurrences, most frequent first (ties: ordinal order), at most <paramref name="maxSize"/> words besides the specials.
    /// A word spelled like a special token is left out (it would be ambiguous).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="minCount"/> or <paramref name="maxSize"/> is not positive.</exception>
    public static WordLevelTokenizer Build(IEnumerable<string> reports, int minCount = 1, int maxSize = 30000)
    {
        if (minCount < 1) throw new Deri.Config.ConfigException($"min_count must be at least 1, got {minCount}");
        if (maxSize < 1) throw new Deri.Config.ConfigException($"max_size must be at least 1, got {maxSize}");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string report in reports)
            foreach (string w in Words(report))
                counts[w] = counts.GetValueOrDefault(w) + 1;
        var words = counts.Where(kv => kv.Value >= minCount && !Specials.Contains(kv.Key))
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(maxSize).Select(kv => kv.Key);
        return new WordLevelTokenizer([.. Specials, .. words]);
    }

    /// <summary>Reads <c>words.txt</c> from <paramref name="directory"/>.</summary>
    /// <exception cref="InputFileNotFoundException">The file is missing.</exception>
    /// <exception cref="InputFormatException">The file is not a valid vocabulary (its line is named).</exception>
    public static WordLevelTokenizer Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: word-level vocabulary not found", path);
        var lines = File.ReadAllLines(path, Encoding.UTF8).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        try
        {
            return new WordLevelTokenizer(lines);
        }
        catch (ArgumentException e)
        {
            throw new InputFormatException($"{path}: not a word-level vocabulary: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), string.Join('\n', _tokens) + "\n");
    }

    /// <inheritdoc />
    public int[] Encode(string text) => Words(text).Select(w => _ids.TryGetValue(w, out int id) && id > UnkId ? id : UnkId).ToArray();

    /// <summary>The whitespace-separated words of <paramref name="text"/>.</summary>
    public static string[] Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <inheritdoc />
    /// <remarks><c>[UNK]</c> is written as <c>[UNK]</c>; <c>[PAD]</c>, <c>[BOS]</c> and <c>[EOS]</c> are dropped.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids)
    {
        var words = new List<string>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= _tokens.Length) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary (size {_tokens.Length})");
            if (id is 0 or 1 or 2) continue;
            words.Add(_tokens[id]);
        }
        return string.Join(' ', words);
    }
}
