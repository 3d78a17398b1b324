using System.Globalization;
using System.Text;
using Deri.Data.Store;
using Deri.Evaluation;
using Deri.IO;
using Deri.Pretraining;

namespace Deri.Downstream;

/// <summary>One embedded record.</summary>
/// <param name="Id">Record identifier.</param>
/// <param name="Split">Its split in the store.</param>
/// <param name="Labels">Its positive classes, in the store's label order.</param>
/// <param name="Vector">The embedding.</param>
public sealed record EmbeddingRow(string Id, string Split, IReadOnlyList<string> Labels, double[] Vector);

/// <summary>
/// Embeddings as CSV: a header <c>id,split,labels,e0,…,e{D-1}</c>, then one line per record; <c>labels</c> holds the
/// record's positive classes joined by <c>;</c> in the store's label order (empty for none).
/// </summary>
public static class EmbeddingFile
{
    /// <summary>Columns before the embedding values.</summary>
    public static readonly IReadOnlyList<string> MetaColumns = ["id", "split", "labels"];

    /// <summary>
    /// Embeds the <paramref name="split"/> records (<c>all</c> for every record) of a store with a run and writes them
    /// to <paramref name="path"/> atomically. A store without labels gives empty <c>labels</c> cells.
    /// </summary>
    /// <returns>The number of records written, the embedding width and the ids of records skipped for a non-finite feature.</returns>
    public static (int Records, int Dim, IReadOnlyList<string> Skipped) Export(PretrainedRun run, string storeDirectory, string split, DownstreamFeature feature,
        string path, int batchSize = 64)
    {
        using var store = FeatureExtractor.OpenStore(storeDirectory);
        int[] rows = FeatureExtractor.Rows(store, split);
        using var set = FeatureExtractor.Compute(run, store, rows, feature, batchSize);   // (N, D)
        int d = (int)set.Features.shape[1];
        var flat = set.Features.data<float>().ToArray();
        var list = new List<EmbeddingRow>(set.Rows.Length);
        for (int i = 0; i < set.Rows.Length; i++)
        {
            var e = store.Entries[set.Rows[i]];
            var v = new double[d];
            for (int j = 0; j < d; j++) v[j] = flat[(long)i * d + j];
            list.Add(new EmbeddingRow(e.Id, e.Split, PositiveLabels(store, e), v));
        }
        Write(path, list);
        return (list.Count, d, set.Skipped);
    }

    /// <summary>The positive classes of an entry, in the store's label order.</summary>
    public static IReadOnlyList<string> PositiveLabels(EcgStore store, StoreEntry entry) =>
        store.LabelNames.Where((_, j) => entry.Labels[j] >= 0.5f).ToList();

    /// <summary>Writes rows (all of the same width) atomically.</summary>
    /// <exception cref="ArgumentException">No rows, or rows of different widths.</exception>
    public static void Write(string path, IReadOnlyList<EmbeddingRow> rows)
    {
        if (rows.Count == 0) throw new ArgumentException("no embeddings to write");
        int d = rows[0].Vector.Length;
        var sb = new StringBuilder();
        sb.AppendJoin(',', MetaColumns.Concat(Enumerable.Range(0, d).Select(j => "e" + j.ToString(CultureInfo.InvariantCulture)))).Append('\n');
        foreach (var r in rows)
        {
            if (r.Vector.Length != d) throw new ArgumentException($"record {r.Id} has {r.Vector.Length} values, the first has {d}");
            sb.Append(Quote(r.Id)).Append(',').Append(Quote(r.Split)).Append(',').Append(Quote(string.Join(';', r.Labels)));
            foreach (double x in r.Vector) sb.Append(',').Append(x.ToString("R", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads an embeddings file.</summary>
    /// <exception cref="InputFileNotFoundException">The file is missing.</exception>
    /// <exception cref="InputFormatException">A wrong header, a line of the wrong width, a value that is not a finite number, or no rows; the line is named.</exception>
    public static List<EmbeddingRow> Read(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: embeddings file not found", path);
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        if (header is null) throw new InputFormatException($"{path}: empty file");
        var columns = SplitLine(header, path, 1);
        if (columns.Count < 4 || !columns.Take(3).SequenceEqual(MetaColumns))
            throw new InputFormatException($"{path}: expected a header 'id,split,labels,e0,...' (from `deri embed`), found '{Shorten(header)}'");
        int d = columns.Count - 3;
        var rows = new List<EmbeddingRow>();
        int lineNo = 1;
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var f = SplitLine(line, path, lineNo);
            if (f.Count != columns.Count)
                throw new InputFormatException($"{path}:{lineNo}: {f.Count} fields, the header has {columns.Count}");
            var v = new double[d];
            for (int j = 0; j < d; j++)
                if (!double.TryParse(f[3 + j], NumberStyles.Float, CultureInfo.InvariantCulture, out v[j]) || !double.IsFinite(v[j]))
                    throw new InputFormatException($"{path}:{lineNo}: column {columns[3 + j]} is '{f[3 + j]}', not a finite number");
            var labels = f[2].Length == 0 ? [] : f[2].Split(';');
            rows.Add(new EmbeddingRow(f[0], f[1], labels, v));
        }
        if (rows.Count == 0) throw new InputFormatException($"{path}: no embeddings");
        return rows;
    }

    private static string Quote(string s)
    {
        s = s.Replace('\r', ' ').Replace('\n', ' ');
        return s.IndexOfAny([',', '"']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }

    // RFC 4180 fields of one line (quoted fields may hold commas and doubled quotes, not line breaks).
    private static List<string> SplitLine(string line, string path, int lineNo)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            sb.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) throw new InputFormatException($"{path}:{lineNo}: unterminated quoted field");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(line[i++]);
                }
                if (i < line.Length && line[i] != ',') throw new InputFormatException($"{path}:{lineNo}: text after a closing quote");
            }
            else
            {
                int end = line.IndexOf(',', i);
                if (end < 0) end = line.Length;
                sb.Append(line, i, end - i);
                i = end;
            }
            fields.Add(sb.ToString());
            if (i >= line.Length) return fields;
            i++;   // the comma
        }
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
