using System.Text.Json;

namespace Deri.Tests.Generation;

/// <summary>Reads the NLTK-made fixtures of <c>Fixtures/nlg</c> (made by <c>tools/nlg/make_nlg_fixtures.py</c>).</summary>
internal static class NlgFixtures
{
    public sealed record Pair(string Ref, string Hyp, double[] Bleu, double RougeL, double RougeLOriginal);

    public sealed record Word(string Text, string Nltk, string Original);

    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "nlg");

    private static readonly Lazy<JsonDocument> PairsDoc = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "report_pairs.json"))));

    public static IReadOnlyList<Pair> Special => ReadPairs("special");

    public static IReadOnlyList<Pair> Real => ReadPairs("real");

    /// <summary>The BLEU-1..4 weights the fixture was made with.</summary>
    public static double[][] Weights => PairsDoc.Value.RootElement.GetProperty("weights").EnumerateArray()
        .Select(w => w.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray();

    public static double RealMean(string key) => PairsDoc.Value.RootElement.GetProperty("real_mean").GetProperty(key).GetDouble();

    public static IReadOnlyList<Word> Words()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "porter_words.json")));
        return doc.RootElement.EnumerateArray()
            .Select(e => new Word(e.GetProperty("word").GetString()!, e.GetProperty("nltk").GetString()!, e.GetProperty("original").GetString()!))
            .ToList();
    }

    private static List<Pair> ReadPairs(string key) =>
        PairsDoc.Value.RootElement.GetProperty(key).EnumerateArray()
            .Select(e => new Pair(e.GetProperty("ref").GetString()!, e.GetProperty("hyp").GetString()!,
                e.GetProperty("bleu").EnumerateArray().Select(x => x.GetDouble()).ToArray(),
                e.GetProperty("rouge_l").GetDouble(), e.GetProperty("rouge_l_original").GetDouble()))
            .ToList();
}
