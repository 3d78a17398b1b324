using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Deri.Data.Store;
using Deri.Evaluation;
using Deri.Generation.Decoder;
using Deri.Generation.NlgMetrics;
using Deri.IO;
using Deri.Pretraining;

namespace Deri.Generation;

/// <summary>CE metrics against one label source.</summary>
/// <param name="Name">The label store's folder name.</param>
/// <param name="Single">Single-label CE.</param>
/// <param name="Multi">Multi-label CE.</param>
/// <param name="MissingPrompts">Label names without a class prompt (left out).</param>
/// <param name="Classes">The classes scored (those with a prompt), in the label store's order.</param>
/// <param name="Scores">Per matched record (in generation order) and class: the generated report's similarity to the class prompt, <c>(Matched, Classes)</c>.</param>
/// <param name="Labels">The label store's 0/1 labels of the same records and classes.</param>
public sealed record CeResult(string Name, SingleLabelCe? Single, MultiLabelCe Multi, IReadOnlyList<string> MissingPrompts,
    IReadOnlyList<string> Classes, double[,] Scores, int[,] Labels)
{
    /// <summary>Generated reports whose id the label store has (the rows of <see cref="Scores"/>).</summary>
    public int Matched => Scores.GetLength(0);
}

/// <summary>
/// The baseline every result is shown beside: the most common report of the model's training split written for every
/// record. Its BLEU/ROUGE-L are what the report prior alone earns; its multi-label AUC is 50 (all scores tie).
/// </summary>
/// <param name="Report">The most common training report (ties: the ordinally first).</param>
/// <param name="Count">How many training reports are exactly it.</param>
/// <param name="TrainReports">Training reports in all.</param>
/// <param name="Nlg">Its BLEU-1..4 and ROUGE-L against the references.</param>
/// <param name="Ce">Its CE per label source.</param>
public sealed record ReportBaseline(string Report, int Count, int TrainReports, ReportScores Nlg, IReadOnlyList<CeResult> Ce);

/// <summary>Everything <c>deri report eval</c> measures.</summary>
/// <param name="Nlg">BLEU-1..4 and ROUGE-L.</param>
/// <param name="Ce">CE per label source.</param>
/// <param name="Reports">The generated reports.</param>
/// <param name="Baseline">The most-common-training-report baseline, scored the same way.</param>
public sealed record ReportEvalResult(ReportScores Nlg, IReadOnlyList<CeResult> Ce, IReadOnlyList<GeneratedReport> Reports, ReportBaseline Baseline)
{
    /// <summary>Distinct generated reports (ordinal).</summary>
    public int DistinctReports => Reports.Select(r => r.Report).Distinct(StringComparer.Ordinal).Count();
}

/// <summary>
/// Generates the reports of a store split and scores them: NLG metrics against the references, and the clinical-efficacy
/// metrics per label store (records matched by id) with the class prompts embedded by the <em>pretrained</em> run's text
/// encoder (a fresh copy, untouched by report training).
/// </summary>
public static class ReportEvaluation
{
    /// <summary>Runs the evaluation and writes <c>generated.jsonl</c>, <c>metrics.json</c>, <c>metrics.md</c> and, per label store, <c>ce_NAME_scores.csv</c> and <c>ce_NAME_labels.csv</c> into <paramref name="outDir"/>.</summary>
    /// <param name="run">The report run.</param>
    /// <param name="store">The store whose split is generated.</param>
    /// <param name="split">train, val or test.</param>
    /// <param name="labelStores">Stores whose labels are the CE ground truth; empty: <paramref name="store"/>'s own labels, if any.</param>
    /// <param name="prompts">Class prompts (e.g. CKEPE).</param>
    /// <param name="options">Decoding settings.</param>
    /// <param name="batchSize">Records per generation batch.</param>
    /// <param name="outDir">Output folder.</param>
    /// <param name="log">Progress messages.</param>
    public static ReportEvalResult Run(ReportRun run, EcgStore store, string split, IReadOnlyList<EcgStore> labelStores, ClassPrompts prompts,
        DecodingOptions options, int batchSize, string outDir, Action<string>? log = null)
    {
        log ??= static _ => { };  // the library writes nothing unless its caller passes a log
        var reports = ReportGeneration.FromStore(run, store, split, options, batchSize,
            (done, total) => log($"generated {done}/{total}"));
        Directory.CreateDirectory(outDir);
        ReportGeneration.Write(Path.Combine(outDir, "generated.jsonl"), reports);
        var references = reports.Select(r => r.Reference!).ToList();
        var nlg = ReportScorer.Score(references, reports.Select(r => r.Report).ToList());
        var (common, count, trainCount) = MostCommonTrainingReport(run.Config.DataPath);
        var baselineReports = reports.Select(r => r with { Report = common }).ToList();
        var baselineNlg = ReportScorer.Score(references, baselineReports.Select(r => r.Report).ToList());

        var sources = labelStores.Count > 0 ? labelStores : store.LabelNames.Count > 0 ? [store] : [];
        var ce = new List<CeResult>();
        var baselineCe = new List<CeResult>();
        if (sources.Count > 0)
        {
            using var textRun = PretrainedRun.Load(run.Config.PretrainedRun, run.Config.Checkpoint, run.Device);
            var genEmb = ClinicalEfficacy.Embed(textRun, reports.Select(r => r.Report).ToList());
            var refEmb = ClinicalEfficacy.Embed(textRun, references);
            var constEmb = ClinicalEfficacy.Embed(textRun, [common])[0];
            var baseEmb = reports.Select(_ => constEmb).ToArray();
            foreach (var source in sources)
            {
                ce.Add(Score(textRun, source, reports, genEmb, refEmb, prompts));
                baselineCe.Add(Score(textRun, source, baselineReports, baseEmb, refEmb, prompts));
            }
        }
        var result = new ReportEvalResult(nlg, ce, reports, new ReportBaseline(common, count, trainCount, baselineNlg, baselineCe));
        // Per-record CE scores in `deri metrics`' format, so that runs on the same records can be bootstrapped together
        // (tools/experiments/aggregate.py) or rescored.
        foreach (var c in ce)
        {
            ScoreTableWriter.WriteScores(Path.Combine(outDir, $"ce_{c.Name}_scores.csv"), c.Classes, c.Scores);
            ScoreTableWriter.WriteLabels(Path.Combine(outDir, $"ce_{c.Name}_labels.csv"), c.Classes, c.Labels);
        }
        AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.json"), ToJson(result, run, split).ToJsonString(new() { WriteIndented = true }) + "\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.md"), ToMarkdown(result, run, split));
        return result;
    }

    /// <summary>
    /// The most common report of the train split of the store at <paramref name="trainingStore"/> (ties: the ordinally
    /// first), how often it occurs and how many training reports there are.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">The store is gone.</exception>
    /// <exception cref="InputFormatException">Its train split has no report.</exception>
    public static (string Report, int Count, int Total) MostCommonTrainingReport(string trainingStore)
    {
        if (!EcgStore.Exists(trainingStore))
            throw new InputFileNotFoundException($"{trainingStore}: the report run's training store (data_path) is missing; the most-common-report baseline needs its train split");
        using var train = EcgStore.Open(trainingStore);
        var texts = train.IndicesOf("train").Select(r => train.Entries[r].Report).Where(t => !string.IsNullOrWhiteSpace(t)).ToList();
        if (texts.Count == 0) throw new InputFormatException($"{trainingStore}: the train split has no report");
        var best = texts.GroupBy(t => t, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
        return (best.Key, best.Count(), texts.Count);
    }

    private static CeResult Score(PretrainedRun textRun, EcgStore labels, IReadOnlyList<GeneratedReport> reports, double[][] genEmb,
        double[][] refEmb, ClassPrompts prompts)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(labels.Directory));
        var classes = labels.LabelNames.Where(prompts.Descriptions.ContainsKey).ToList();
        var missing = labels.LabelNames.Where(l => !prompts.Descriptions.ContainsKey(l)).ToList();
        if (classes.Count == 0)
            throw new InputFormatException($"{labels.Directory}: none of its labels ({string.Join(", ", labels.LabelNames)}) has a prompt in {prompts.Source}");
        var rowOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < labels.Count; r++) rowOf.TryAdd(labels.Entries[r].Id, r);
        var matched = Enumerable.Range(0, reports.Count).Where(i => rowOf.ContainsKey(reports[i].Id)).ToArray();
        if (matched.Length == 0)
            throw new InputFormatException($"{labels.Directory}: none of the {reports.Count} generated records' ids is in this label store");
        var columns = classes.Select(c => labels.LabelNames.ToList().IndexOf(c)).ToArray();
        var promptEmb = ClinicalEfficacy.Embed(textRun, prompts.TextsFor(classes));
        var gen = ClinicalEfficacy.Dot(matched.Select(i => genEmb[i]).ToArray(), promptEmb);
        var refs = ClinicalEfficacy.Dot(matched.Select(i => refEmb[i]).ToArray(), promptEmb);
        var y = new int[matched.Length, classes.Count];
        for (int i = 0; i < matched.Length; i++)
        {
            var entry = labels.Entries[rowOf[reports[matched[i]].Id]];
            for (int k = 0; k < classes.Count; k++) y[i, k] = entry.Labels[columns[k]] > 0.5f ? 1 : 0;
        }
        var single = classes.Count > 1 ? ClinicalEfficacy.SingleLabel(ClinicalEfficacy.Argmax(refs), ClinicalEfficacy.Argmax(gen)) : null;
        var multi = ClinicalEfficacy.MultiLabel(gen, y, classes);
        return new CeResult(name, single, multi, missing, classes, gen, y);
    }

    /// <summary>The metrics as JSON (the content of <c>metrics.json</c>).</summary>
    public static JsonObject ToJson(ReportEvalResult r, ReportRun run, string split)
    {
        var b = r.Baseline;
        var json = new JsonObject
        {
            ["run"] = run.Directory, ["checkpoint"] = run.CheckpointPath, ["split"] = split, ["records"] = r.Reports.Count,
            ["distinct_reports"] = r.DistinctReports,
        };
        AddMetrics(json, r.Nlg, r.Ce);
        var baseline = new JsonObject { ["report"] = b.Report, ["train_count"] = b.Count, ["train_reports"] = b.TrainReports };
        AddMetrics(baseline, b.Nlg, b.Ce);
        json["most_common_report_baseline"] = baseline;
        return json;
    }

    private static void AddMetrics(JsonObject target, ReportScores nlg, IReadOnlyList<CeResult> ces)
    {
        var ce = new JsonObject();
        foreach (var c in ces)
        {
            var o = new JsonObject
            {
                ["matched"] = c.Matched,
                ["multi_label"] = new JsonObject
                {
                    ["auc"] = Num(c.Multi.Auc), ["f1"] = Num(c.Multi.F1), ["accuracy"] = Num(c.Multi.Accuracy),
                    ["threshold"] = Num(c.Multi.Threshold), ["classes"] = new JsonArray(c.Multi.Classes.Select(x => (JsonNode)x).ToArray()),
                    ["excluded"] = new JsonArray(c.Multi.Excluded.Select(x => (JsonNode)x).ToArray()),
                },
                ["missing_prompts"] = new JsonArray(c.MissingPrompts.Select(x => (JsonNode)x).ToArray()),
            };
            if (c.Single is { } s)
                o["single_label"] = new JsonObject { ["precision"] = s.Precision, ["recall"] = s.Recall, ["f1"] = s.F1, ["classes"] = s.Classes };
            ce[c.Name] = o;
        }
        target["bleu_1"] = nlg.Bleu1;
        target["bleu_2"] = nlg.Bleu2;
        target["bleu_3"] = nlg.Bleu3;
        target["bleu_4"] = nlg.Bleu4;
        target["rouge_l"] = nlg.RougeL;
        target["ce"] = ce;
    }

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    /// <summary>
    /// A markdown report of the metrics (×100): NLG and CE tables with a row for the model and one for the
    /// most-common-training-report baseline.
    /// </summary>
    public static string ToMarkdown(ReportEvalResult r, ReportRun run, string split)
    {
        var inv = CultureInfo.InvariantCulture;
        string P(double v) => double.IsFinite(v) ? (100 * v).ToString("F2", inv) : "–";
        var b = r.Baseline;
        var sb = new StringBuilder();
        sb.Append(inv, $"# Report generation: {Path.GetFileName(run.Directory)}, {split} split, {r.Reports.Count} records (×100)\n\n");
        sb.Append(inv, $"Distinct generated reports: {r.DistinctReports}. Baseline: the most common training report, \"{b.Report}\" ");
        sb.Append(inv, $"({b.Count} of {b.TrainReports} training reports), written for every record.\n\n");
        sb.Append("| Reports | BLEU-1 | BLEU-2 | BLEU-3 | BLEU-4 | ROUGE-L |\n|---|---|---|---|---|---|\n");
        foreach (var (name, n) in new[] { ("model", r.Nlg), ("most common report", b.Nlg) })
            sb.Append(inv, $"| {name} | {P(n.Bleu1)} | {P(n.Bleu2)} | {P(n.Bleu3)} | {P(n.Bleu4)} | {P(n.RougeL)} |\n");
        if (r.Ce.Count > 0)
        {
            sb.Append("\n| Reports | Labels | Records | Single P | Single R | Single F1 | Multi AUC | Multi F1 | Multi Acc | Threshold |\n");
            sb.Append("|---|---|---|---|---|---|---|---|---|---|\n");
            foreach (var (name, ces) in new[] { ("model", r.Ce), ("most common report", b.Ce) })
                foreach (var c in ces)
                    sb.Append(inv, $"| {name} | {c.Name} | {c.Matched} | {P(c.Single?.Precision ?? double.NaN)} | {P(c.Single?.Recall ?? double.NaN)} | " +
                                   $"{P(c.Single?.F1 ?? double.NaN)} | {P(c.Multi.Auc)} | {P(c.Multi.F1)} | {P(c.Multi.Accuracy)} | " +
                                   $"{(double.IsFinite(c.Multi.Threshold) ? c.Multi.Threshold.ToString("F4", inv) : "–")} |\n");
        }
        sb.Append(inv, $"\nCheckpoint: {run.CheckpointPath}\n");
        return sb.ToString();
    }
}
