using System.Globalization;
using System.Text;
using Deri.Evaluation;
using Deri.IO;
using ScottPlot;

namespace Deri.Downstream;

/// <summary>Settings of <see cref="TsneMap.Run"/>.</summary>
/// <param name="Classes">How many of the most frequent classes to colour.</param>
/// <param name="MaxPoints">Records kept at most (a seeded random sample beyond that), since the exact gradient costs N² per iteration.</param>
/// <param name="Tsne">t-SNE settings (perplexity, seed, …).</param>
public sealed record TsneMapOptions(int Classes = 5, int MaxPoints = 3000, TsneOptions? Tsne = null);

/// <summary>What <see cref="TsneMap.Run"/> drew.</summary>
/// <param name="Points">Records drawn.</param>
/// <param name="Classes">The colour classes, most frequent first, with their point counts.</param>
/// <param name="Png">The image.</param>
/// <param name="Csv">The coordinates.</param>
public sealed record TsneMapResult(int Points, IReadOnlyList<(string Class, int Count)> Classes, string Png, string Csv);

/// <summary>
/// A t-SNE map of an embeddings file (<see cref="EmbeddingFile"/>): records of the most frequent classes, each
/// coloured by the first of its listed labels that is one of those classes, as a PNG scatter plot and a CSV of coordinates.
/// </summary>
public static class TsneMap
{
    /// <summary>The colouring rule, as written at the top of the legend, for <paramref name="classes"/> colour classes.</summary>
    public static string Rule(int classes) => $"colour: first listed label among the {classes} largest classes";

    /// <summary>
    /// Picks the <see cref="TsneMapOptions.Classes"/> classes carried by the most records (ties by name), keeps records
    /// with at least one of them and colours each by the first of its labels (in the file's order) among them.
    /// </summary>
    /// <exception cref="InputFormatException">No record has a label.</exception>
    public static (List<EmbeddingRow> Rows, List<string> Colour, List<(string Class, int Count)> Classes) Select(IReadOnlyList<EmbeddingRow> rows, int classes, string source)
    {
        if (classes <= 0) throw new ArgumentException($"the number of classes must be positive, got {classes}");
        var top = rows.SelectMany(r => r.Labels.Distinct()).GroupBy(l => l)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(classes).Select(g => g.Key).ToList();
        if (top.Count == 0) throw new InputFormatException($"{source}: no record has a label, so there is nothing to colour (embed a labelled store)");
        var set = top.ToHashSet();
        var kept = new List<EmbeddingRow>();
        var colour = new List<string>();
        foreach (var r in rows)
        {
            var first = r.Labels.FirstOrDefault(set.Contains);
            if (first is null) continue;
            kept.Add(r);
            colour.Add(first);
        }
        var counts = top.Select(c => (c, colour.Count(x => x == c))).ToList();
        return (kept, colour, counts);
    }

    /// <summary>Reads the embeddings, runs t-SNE on the selected records and writes <paramref name="pngPath"/> and the CSV beside it (same name, <c>.csv</c>).</summary>
    public static TsneMapResult Run(string embeddingsPath, string pngPath, TsneMapOptions options, Action<string>? log = null)
    {
        log ??= _ => { };
        var tsneOptions = options.Tsne ?? new TsneOptions();
        if (options.MaxPoints < 4) throw new InputValueException($"max points must be at least 4, got {options.MaxPoints}");
        string csvPath = Path.ChangeExtension(pngPath, ".csv");
        if (Path.GetFullPath(csvPath) == Path.GetFullPath(embeddingsPath))
            throw new InputException($"{embeddingsPath}: the coordinates would overwrite the embeddings (they go to the PNG's name with .csv); choose another PNG name");
        var all = EmbeddingFile.Read(embeddingsPath);
        var (rows, colour, _) = Select(all, options.Classes, embeddingsPath);
        if (rows.Count > options.MaxPoints)
        {
            // A seeded sample keeps the map reproducible; order is restored so the CSV follows the input.
            var keep = Enumerable.Range(0, rows.Count).ToArray();
            new Random(tsneOptions.Seed).Shuffle(keep);
            var chosen = keep.Take(options.MaxPoints).Order().ToArray();
            log($"{rows.Count} records of the selected classes; a random sample of {options.MaxPoints} is drawn");
            rows = chosen.Select(i => rows[i]).ToList();
            colour = chosen.Select(i => colour[i]).ToList();
        }
        var classes = colour.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count())).ToList();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var xy = Tsne.Embed(rows.Select(r => r.Vector).ToList(), tsneOptions);
        log(string.Create(CultureInfo.InvariantCulture, $"t-SNE of {rows.Count} points ({rows[0].Vector.Length}-d) in {sw.Elapsed.TotalSeconds:F1} s"));

        var sb = new StringBuilder("id,split,labels,class,x,y\n");
        for (int i = 0; i < rows.Count; i++)
            sb.Append(Csv(rows[i].Id)).Append(',').Append(Csv(rows[i].Split)).Append(',').Append(Csv(string.Join(';', rows[i].Labels)))
              .Append(',').Append(Csv(colour[i])).Append(',')
              .Append(xy[i, 0].ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(xy[i, 1].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllText(csvPath, sb.ToString());
        Draw(xy, colour, classes, pngPath, $"t-SNE of {Path.GetFileName(embeddingsPath)} ({rows.Count} records, perplexity {tsneOptions.Perplexity.ToString(CultureInfo.InvariantCulture)})");
        return new TsneMapResult(rows.Count, classes, Path.GetFullPath(pngPath), Path.GetFullPath(csvPath));
    }

    /// <summary>Draws the scatter plot, one colour per class, with the colouring rule at the top of the legend.</summary>
    public static void Draw(double[,] xy, IReadOnlyList<string> colour, IReadOnlyList<(string Class, int Count)> classes, string pngPath,
        string title, int width = 1300, int height = 800)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = Rule(classes.Count), LabelBold = true, MarkerShape = MarkerShape.None, LineWidth = 0 });
        for (int c = 0; c < classes.Count; c++)
        {
            var idx = Enumerable.Range(0, colour.Count).Where(i => colour[i] == classes[c].Class).ToArray();
            var color = palette.GetColor(c);
            var scatter = plot.Add.ScatterPoints(idx.Select(i => xy[i, 0]).ToArray(), idx.Select(i => xy[i, 1]).ToArray(), color);
            scatter.MarkerSize = 5;
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = $"{classes[c].Class} ({classes[c].Count})",
                MarkerShape = MarkerShape.FilledCircle, MarkerFillColor = color, MarkerSize = 8, LineWidth = 0,
            });
        }
        plot.Title(title);
        plot.XLabel("t-SNE 1");
        plot.YLabel("t-SNE 2");
        plot.ShowLegend(Edge.Right);
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(pngPath, s => s.Write(png));
    }

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
