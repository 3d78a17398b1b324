using System.Text.Json.Serialization;
using Deri.Data.Preprocessing;
using Deri.IO;

namespace Deri.Retrieval;

/// <summary>One retrieved pair.</summary>
/// <param name="Rank">1 for the most similar.</param>
/// <param name="Id">Record id.</param>
/// <param name="Score">Cosine similarity to the query.</param>
/// <param name="Report">The pair's report.</param>
/// <param name="Labels">The pair's positive classes.</param>
public sealed record RetrievedPair(
    [property: JsonPropertyName("rank")] int Rank,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("score")] double Score,
    [property: JsonPropertyName("report")] string Report,
    [property: JsonPropertyName("labels")] IReadOnlyList<string> Labels);

/// <summary>Search results of one query; a list is null when it does not apply to the query's kind.</summary>
/// <param name="Query">The record path or the query text.</param>
/// <param name="Reports">ECG → reports: the reports most similar to the query ECG.</param>
/// <param name="Ecgs">ECG → ECGs or text → ECGs: the ECGs most similar to the query.</param>
public sealed record SearchResult(
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("reports"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<RetrievedPair>? Reports,
    [property: JsonPropertyName("ecgs")] IReadOnlyList<RetrievedPair> Ecgs);

/// <summary>Queries against a <see cref="RetrievalIndex"/>: an ECG record (ECG → reports, ECG → ECGs) or a text (text → ECGs).</summary>
public static class RetrievalSearch
{
    /// <summary>Checks that the run embeds into the index's space: same width, and records of the length the index's preprocessing gives.</summary>
    /// <exception cref="InputFormatException">Width or record length differ.</exception>
    public static void CheckCompatible(RetrievalIndex index, PairEncoder encoder, int dim)
    {
        if (dim != index.Dim)
            throw new InputFormatException($"{index.Directory}: vectors are {index.Dim}-d but the run {encoder.Run.Directory} embeds into {dim}-d (build the index with this run)");
        if (index.Manifest.Preprocess.TargetLength != encoder.Length)
            throw new InputFormatException($"{index.Directory}: the index's preprocessing gives {index.Manifest.Preprocess.TargetLength} samples, the run {encoder.Run.Directory} takes {encoder.Length}");
    }

    /// <summary>The pairs of <paramref name="hits"/> as results.</summary>
    public static IReadOnlyList<RetrievedPair> Describe(RetrievalIndex index, IReadOnlyList<SearchHit> hits) =>
        hits.Select((h, i) =>
        {
            var e = index.Manifest.Entries[h.Row];
            return new RetrievedPair(i + 1, e.Id, Math.Round(h.Score, 6), e.Report, e.Labels);
        }).ToList();

    /// <summary>Preprocesses the record at <paramref name="path"/> as the index's store was, embeds it and searches both sides.</summary>
    /// <exception cref="Signals.EcgFormatException">The record is unreadable.</exception>
    public static SearchResult ByRecord(RetrievalIndex index, PairEncoder encoder, string path, int k)
    {
        var pre = new EcgPreprocessor(index.Manifest.Preprocess);
        var signal = new float[pre.OutputSize];
        pre.ProcessFile(path, signal);
        var q = encoder.EncodeEcgs([signal])[0];
        CheckCompatible(index, encoder, q.Length);
        return new SearchResult(path, Describe(index, index.Search(q, IndexSide.Report, k)), Describe(index, index.Search(q, IndexSide.Ecg, k)));
    }

    /// <summary>Embeds <paramref name="text"/> and returns the most similar ECGs.</summary>
    /// <exception cref="ArgumentException">An empty text.</exception>
    public static SearchResult ByText(RetrievalIndex index, PairEncoder encoder, string text, int k)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new InputValueException("the query text is empty");
        var q = encoder.EncodeTexts([text])[0];
        CheckCompatible(index, encoder, q.Length);
        return new SearchResult(text, null, Describe(index, index.Search(q, IndexSide.Ecg, k)));
    }
}
