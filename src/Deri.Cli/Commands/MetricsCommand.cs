using System.CommandLine;
using System.Text.Json.Nodes;
using Deri.Evaluation;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary><c>deri metrics</c>: ROC-AUC, max-F1 and accuracy per class and macro from score and label CSV files.</summary>
internal static class MetricsCommand
{
    public static Command Create()
    {
        var scores = new Option<string>("--scores") { Description = "CSV of scores: header row of class names, one row per sample", Required = true };
        var labels = new Option<string>("--labels") { Description = "CSV of 0/1 labels with the same header and rows as --scores", Required = true };
        var names = OptionRules.StringList("--names", "Evaluate only these classes (header names), in this order (default: every column)");
        var valScores = new Option<string?>("--val-scores") { Description = "Validation-split scores: adds the held-out protocol (thresholds chosen on validation)" };
        var valLabels = new Option<string?>("--val-labels") { Description = "Validation-split labels, required with --val-scores" };
        var output = new Option<string?>("--output") { Description = "Also write the JSON to this file (atomically)" };
        var table = new Option<string?>("--table") { Description = "Also write a per-class table as PREFIX.md, PREFIX.csv and PREFIX.json" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint that produced the scores, recorded in the table" };
        var cmd = new Command("metrics", "Per-class and macro ROC-AUC, max-F1 and accuracy (x100) of scores against 0/1 labels, as the DERI release computes them")
        {
            scores, labels, names, valScores, valLabels, output, table, checkpoint,
        };
        OptionRules.Together(cmd, valScores, valLabels);
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var (json, reports) = Run(result.GetValue(scores)!, result.GetValue(labels)!, result.GetValue(names),
                result.GetValue(valScores), result.GetValue(valLabels));
            string text = MetricsJson.Format(json);
            if (result.GetValue(output) is { } path) Deri.IO.AtomicFile.WriteAllText(path, text + "\n");
            if (result.GetValue(table) is { } prefix)
            {
                var provenance = new RunProvenance("deri " + string.Join(" ", Environment.GetCommandLineArgs().Skip(1).Select(Quote)), result.GetValue(checkpoint));
                string full = Path.GetFullPath(prefix);
                ResultTable.ForClasses($"Metrics of {Path.GetFileName(result.GetValue(scores))} (x100)", reports)
                    .WriteAll(Path.GetDirectoryName(full)!, Path.GetFileName(full), provenance);
            }
            stdout.WriteLine(text);
            return 0;
        });
        return cmd;
    }

    private static string Quote(string a) => a.Length > 0 && a.All(ch => char.IsLetterOrDigit(ch) || "-_./=:,+%".Contains(ch)) ? a : "'" + a.Replace("'", "'\\''") + "'";

    private static (JsonObject, MetricsReport[]) Run(string scoresPath, string labelsPath, string[]? names, string? valScoresPath, string? valLabelsPath)
    {
        var s = ScoreTableReader.ReadScores(scoresPath);
        var y = ScoreTableReader.ReadLabels(labelsPath);
        ScoreTableReader.CheckPaired(s, y);
        var classes = names is { Length: > 0 } ? names : s.Columns.ToArray();
        var (sm, ym) = Select(s, y, classes);
        var paper = MultiLabelMetrics.Evaluate(sm, ym, classes, "evaluated");
        var reports = new List<MetricsReport> { paper };
        var o = new JsonObject
        {
            ["scores"] = Path.GetFullPath(scoresPath),
            ["labels"] = Path.GetFullPath(labelsPath),
            ["samples"] = s.Rows,
            ["paper"] = MetricsJson.ToJson(paper),
        };
        if (valScoresPath is not null)
        {
            var vs = ScoreTableReader.ReadScores(valScoresPath);
            var vy = ScoreTableReader.ReadLabels(valLabelsPath!);
            ScoreTableReader.CheckPaired(vs, vy);
            var (vsm, vym) = Select(vs, vy, classes);
            o["validation_scores"] = Path.GetFullPath(valScoresPath);
            o["validation_labels"] = Path.GetFullPath(valLabelsPath!);
            var held = MultiLabelMetrics.EvaluateWithValidationThresholds(sm, ym, vsm, vym, classes, "evaluated");
            reports.Add(held);
            o["held_out"] = MetricsJson.ToJson(held);
        }
        return (o, reports.ToArray());
    }

    private static (double[,], int[,]) Select(NumericTable scores, NumericTable labels, string[] classes)
    {
        var idx = classes.Select(c =>
        {
            int j = scores.Columns.ToList().IndexOf(c);
            return j >= 0 ? j : throw new InputException($"--names: class '{c}' is not a column of {scores.Path} (columns: {string.Join(",", scores.Columns)})");
        }).ToArray();
        var y = ScoreTableReader.AsLabels(labels);
        var sm = new double[scores.Rows, idx.Length];
        var ym = new int[scores.Rows, idx.Length];
        for (int i = 0; i < scores.Rows; i++)
            for (int k = 0; k < idx.Length; k++)
            {
                sm[i, k] = scores.Values[i, idx[k]];
                ym[i, k] = y[i, idx[k]];
            }
        return (sm, ym);
    }
}
