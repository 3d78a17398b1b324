using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.IO;

namespace Deri.Evaluation;

/// <summary>What produced a result table: written into every format so a number can be traced to its run.</summary>
/// <param name="CommandLine">The command line that made the table.</param>
/// <param name="Checkpoint">The checkpoint evaluated (null when none, e.g. metrics of a score file).</param>
public sealed record RunProvenance(string CommandLine, string? Checkpoint)
{
    /// <summary>When the table was made (UTC).</summary>
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>One row of a <see cref="ResultTable"/>; a null value is a metric that does not exist for the row.</summary>
/// <param name="Label">Task or condition, e.g. "ptbxl_super / paper".</param>
/// <param name="Values">One value per column.</param>
public sealed record ResultRow(string Label, IReadOnlyList<double?> Values);

/// <summary>
/// A table of results (rows = tasks or conditions, columns = metrics) written as Markdown, CSV and JSON,
/// each with the command line and checkpoint that made it, each written atomically.
/// Markdown rounds to <see cref="Decimals"/> places; CSV and JSON keep full double precision.
/// </summary>
public sealed class ResultTable
{
    private readonly List<ResultRow> _rows = [];

    /// <summary>Creates an empty table.</summary>
    /// <param name="title">Title (Markdown heading, JSON "title").</param>
    /// <param name="rowHeader">Name of the label column, e.g. "task".</param>
    /// <param name="columns">Metric column names.</param>
    public ResultTable(string title, string rowHeader, IEnumerable<string> columns)
    {
        Title = title;
        RowHeader = rowHeader;
        Columns = columns.ToList();
        if (Columns.Count == 0) throw new ArgumentException("a result table needs at least one column");
    }

    /// <summary>Title.</summary>
    public string Title { get; }
    /// <summary>Name of the label column.</summary>
    public string RowHeader { get; }
    /// <summary>Metric columns.</summary>
    public IReadOnlyList<string> Columns { get; }
    /// <summary>Rows in insertion order.</summary>
    public IReadOnlyList<ResultRow> Rows => _rows;
    /// <summary>Decimal places in Markdown (2, as the paper's tables).</summary>
    public int Decimals { get; init; } = 2;
    /// <summary>Markdown decimal places of particular columns, overriding <see cref="Decimals"/> (e.g. 4 for thresholds).</summary>
    public Dictionary<string, int> ColumnDecimals { get; } = [];
    /// <summary>Free-text notes written under the table (e.g. which classes were excluded).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Adds a row; it must have one value per column (null for a missing metric).</summary>
    public ResultTable AddRow(string label, params double?[] values)
    {
        if (values.Length != Columns.Count) throw new ArgumentException($"row '{label}' has {values.Length} values for {Columns.Count} columns");
        _rows.Add(new ResultRow(label, values.Select(v => v is { } x && double.IsFinite(x) ? v : null).ToList()));
        return this;
    }

    /// <summary>Markdown: heading, provenance, table, notes.</summary>
    public string ToMarkdown(RunProvenance p)
    {
        var sb = new StringBuilder();
        sb.Append("## ").AppendLine(Title).AppendLine();
        sb.Append("Command: `").Append(p.CommandLine.Replace("`", "'")).AppendLine("`  ");
        sb.Append("Checkpoint: ").AppendLine(p.Checkpoint is null ? "none" : $"`{p.Checkpoint}`  ");
        sb.Append("Created: ").AppendLine(p.CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).AppendLine();
        sb.Append("| ").Append(Md(RowHeader)).Append(" | ").Append(string.Join(" | ", Columns.Select(Md))).AppendLine(" |");
        sb.Append("|---|").Append(string.Concat(Columns.Select(_ => "---:|"))).AppendLine();
        var fmt = Columns.Select(c => "F" + (ColumnDecimals.TryGetValue(c, out int k) ? k : Decimals).ToString(CultureInfo.InvariantCulture)).ToArray();
        foreach (var r in _rows)
            sb.Append("| ").Append(Md(r.Label)).Append(" | ")
              .Append(string.Join(" | ", r.Values.Select((v, j) => v is { } x ? x.ToString(fmt[j], CultureInfo.InvariantCulture) : "–")))
              .AppendLine(" |");
        if (Notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var n in Notes) sb.Append("- ").AppendLine(n);
        }
        return sb.ToString();
    }

    /// <summary>CSV: <c>#</c>-prefixed provenance and note lines, a header, then one line per row (empty cell = missing).</summary>
    public string ToCsv(RunProvenance p)
    {
        var sb = new StringBuilder();
        sb.Append("# title: ").AppendLine(OneLine(Title));
        sb.Append("# command: ").AppendLine(OneLine(p.CommandLine));
        sb.Append("# checkpoint: ").AppendLine(p.Checkpoint is null ? "none" : OneLine(p.Checkpoint));
        sb.Append("# created: ").AppendLine(p.CreatedUtc.ToString("O", CultureInfo.InvariantCulture));
        foreach (var n in Notes) sb.Append("# note: ").AppendLine(OneLine(n));
        sb.AppendLine(string.Join(",", new[] { RowHeader }.Concat(Columns).Select(Csv)));
        foreach (var r in _rows)
            sb.AppendLine(string.Join(",", new[] { Csv(r.Label) }.Concat(r.Values.Select(v => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : ""))));
        return sb.ToString();
    }

    /// <summary>JSON: title, command, checkpoint, created, columns, rows (label + column → value or null), notes.</summary>
    public string ToJson(RunProvenance p)
    {
        var rows = new JsonArray();
        foreach (var r in _rows)
        {
            var o = new JsonObject { [RowHeader] = r.Label };
            for (int j = 0; j < Columns.Count; j++) o[Columns[j]] = r.Values[j] is { } x ? JsonValue.Create(x) : null;
            rows.Add(o);
        }
        var root = new JsonObject
        {
            ["title"] = Title,
            ["command"] = p.CommandLine,
            ["checkpoint"] = p.Checkpoint,
            ["created"] = p.CreatedUtc.ToString("O", CultureInfo.InvariantCulture),
            ["row_header"] = RowHeader,
            ["columns"] = new JsonArray(Columns.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["rows"] = rows,
            ["notes"] = new JsonArray(Notes.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Writes <c>BASE.md</c>, <c>BASE.csv</c> and <c>BASE.json</c> into <paramref name="directory"/>, each atomically.</summary>
    /// <returns>The three paths.</returns>
    public IReadOnlyList<string> WriteAll(string directory, string baseName, RunProvenance p)
    {
        var paths = new[] { ".md", ".csv", ".json" }.Select(e => Path.Combine(directory, baseName + e)).ToArray();
        AtomicFile.WriteAllText(paths[0], ToMarkdown(p));
        AtomicFile.WriteAllText(paths[1], ToCsv(p));
        AtomicFile.WriteAllText(paths[2], ToJson(p) + "\n");
        return paths;
    }

    /// <summary>
    /// A zero-shot table: one row per (task, protocol) with macro AUC, F1 and accuracy ×100; excluded classes
    /// are listed in the notes.
    /// </summary>
    public static ResultTable ForZeroShot(IEnumerable<(string Task, ZeroShotResult Result)> results, string title = "Zero-shot classification (macro, x100)")
    {
        var t = new ResultTable(title, "task", ["AUC", "F1", "ACC"]);
        foreach (var (task, r) in results)
            foreach (var rep in new[] { r.Paper, r.HeldOut })
            {
                if (rep is null) continue;
                string proto = rep.Protocol == ThresholdProtocol.SameSplitMaxF1 ? "paper (threshold on the evaluated split)" : "held-out (threshold on validation)";
                t.AddRow($"{task} / {proto}", rep.MacroAuc, rep.MacroF1, rep.MacroAccuracy);
                if (rep.Excluded.Count > 0 && rep == r.Paper)
                    t.Notes.Add($"{task}: excluded {string.Join("; ", rep.Excluded.Select(e => $"{e.Name} ({e.Reason})"))}");
            }
        return t;
    }

    /// <summary>A linear-probing table: one row per task, one test macro AUC column per training ratio.</summary>
    public static ResultTable ForLinearProbe(IEnumerable<(string Task, IReadOnlyList<LinearProbeResult> Results)> results, string title = "Linear probing (test macro AUC, x100)")
    {
        var list = results.ToList();
        var ratios = list.SelectMany(x => x.Results.Select(r => r.RatioPercent)).Distinct().Order().ToList();
        var t = new ResultTable(title, "task", ratios.Select(r => r.ToString(CultureInfo.InvariantCulture) + "%"));
        foreach (var (task, rs) in list)
        {
            t.AddRow(task, ratios.Select(r => rs.FirstOrDefault(x => x.RatioPercent == r)?.TestMacroAuc).ToArray());
            foreach (var r in rs)
                if (r.Test.Excluded.Count > 0)
                    t.Notes.Add($"{task} {r.RatioPercent}%: excluded {string.Join("; ", r.Test.Excluded.Select(e => $"{e.Name} ({e.Reason})"))}");
        }
        return t;
    }

    /// <summary>
    /// A per-class table of one or more reports of the same classes (e.g. both threshold protocols): one row per
    /// class and a final "macro" row; columns AUC, F1, ACC and threshold per report, prefixed by the protocol
    /// when there are several. Excluded classes are named in the notes.
    /// </summary>
    public static ResultTable ForClasses(string title, params MetricsReport[] reports)
    {
        if (reports.Length == 0) throw new ArgumentException("no reports");
        string Prefix(MetricsReport r) => reports.Length == 1 ? "" : (r.Protocol == ThresholdProtocol.SameSplitMaxF1 ? "paper " : "held-out ");
        var t = new ResultTable(title, "class", reports.SelectMany(r => new[] { "AUC", "F1", "ACC", "threshold" }.Select(c => Prefix(r) + c)));
        foreach (var c in t.Columns.Where(c => c.EndsWith("threshold", StringComparison.Ordinal))) t.ColumnDecimals[c] = 4;
        var names = reports.SelectMany(r => r.Classes.Select(c => c.Name)).Distinct().ToList();
        foreach (var name in names)
            t.AddRow(name, reports.SelectMany(r => r.Classes.FirstOrDefault(c => c.Name == name) is { } m
                ? new double?[] { m.Auc, m.F1, m.Accuracy, m.Threshold }
                : new double?[] { null, null, null, null }).ToArray());
        t.AddRow("macro", reports.SelectMany(r => new double?[] { r.MacroAuc, r.MacroF1, r.MacroAccuracy, null }).ToArray());
        foreach (var r in reports)
            foreach (var e in r.Excluded)
                t.Notes.Add($"{Prefix(r)}excluded {e.Name}: {e.Reason}".TrimStart());
        foreach (var r in reports) t.Notes.Add(MetricsJson.Describe(r.Protocol));
        return t;
    }

    private static string Md(string s) => s.Replace("|", "\\|").Replace("\n", " ");
    private static string OneLine(string s) => s.Replace("\r", " ").Replace("\n", " ");
    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
