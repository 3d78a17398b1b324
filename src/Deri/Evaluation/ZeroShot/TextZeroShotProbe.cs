using Deri.Data.Datasets;
using Deri.Text;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

// Namespace Deri.Evaluation (not .ZeroShot) like the folder's other files, so that moving zero-shot here changed no caller.
namespace Deri.Evaluation;

/// <summary>One task's result of <see cref="TextZeroShotProbe"/>.</summary>
/// <param name="Task">super, sub, form or rhythm.</param>
/// <param name="Reports">Reports scored (PTB-XL records of the selection folds with a label of the task).</param>
/// <param name="Classes">Classes with a prompt and both positive and negative reports (the macro average's classes).</param>
/// <param name="MacroAuc">Mean ROC AUC over those classes, in percent.</param>
public sealed record TextZeroShotTaskResult(string Task, int Reports, int Classes, double MacroAuc);

/// <summary>
/// A cheap, text-only way to choose a frozen text encoder before any ECG training: each PTB-XL report of the selection
/// folds is scored against each class prompt by the cosine of their pooled embeddings, and the ROC AUC of those scores
/// against the record's labels is averaged over classes (macro), per task. An encoder that places a report near the
/// prompts of its own diagnoses gives DERI's text side more to align with. Fold 9 (test) and 10 are never read.
/// </summary>
public static class TextZeroShotProbe
{
    /// <summary>The PTB-XL tasks, in the paper's order.</summary>
    public static readonly IReadOnlyList<PtbXlTask> Tasks = [PtbXlTask.Super, PtbXlTask.Sub, PtbXlTask.Form, PtbXlTask.Rhythm];

    /// <summary>
    /// Runs the probe on the PTB-XL folder <paramref name="ptbxlRoot"/> (<c>ptbxl_database.csv</c>, <c>scp_statements.csv</c>)
    /// over <paramref name="folds"/> (default 1–8) with <paramref name="prompts"/>.
    /// </summary>
    public static IReadOnlyList<TextZeroShotTaskResult> Run(TextEncoder encoder, string ptbxlRoot, ClassPrompts prompts,
        Device device, IReadOnlyList<int>? folds = null, int batchSize = 64)
    {
        folds ??= [1, 2, 3, 4, 5, 6, 7, 8];
        if (folds.Any(f => f is 9 or 10)) throw new InputValueException($"--folds {string.Join(",", folds)}: 9 and 10 are the test folds and may not select a text encoder");
        var results = new List<TextZeroShotTaskResult>();
        var cache = new TextFeatureCache(encoder, new TextFeatureCacheOptions(FullHidden: false, BatchSize: batchSize));
        foreach (var task in Tasks)
        {
            var data = PtbXlDataset.Load(ptbxlRoot, new PtbXlOptions { Rate = 100, Task = task, TrainFolds = folds, ValFolds = [], TestFolds = [] });
            var entries = data.Entries.Where(e => e.Report.Trim().Length > 0).ToList();
            var classes = Enumerable.Range(0, data.LabelNames.Count)
                .Where(c => prompts.Descriptions.ContainsKey(data.LabelNames[c])).ToList();
            var reports = Embed(cache, entries.Select(e => e.Report.ToLowerInvariant()).ToList(), device, batchSize);  // (N, H), unit rows
            var classTexts = prompts.TextsFor(classes.Select(c => data.LabelNames[c]).ToList());
            var classEmb = Embed(cache, classTexts, device, batchSize);                                                  // (C, H), unit rows
            int used = 0;
            double sum = 0;
            for (int k = 0; k < classes.Count; k++)
            {
                var labels = entries.Select(e => e.Labels[classes[k]] > 0.5f ? 1 : 0).ToArray();
                if (labels.All(y => y == 1) || labels.All(y => y == 0)) continue;
                var scores = reports.Select(r => Dot(r, classEmb[k])).ToArray();
                sum += 100 * BinaryMetrics.RocAuc(scores, labels);
                used++;
            }
            results.Add(new TextZeroShotTaskResult(task.ToString().ToLowerInvariant(), entries.Count, used, used == 0 ? double.NaN : sum / used));
        }
        return results;
    }

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    // Pooled embeddings (B, H), L2-normalised, as float rows.
    private static List<float[]> Embed(TextFeatureCache cache, IReadOnlyList<string> texts, Device device, int batchSize)
    {
        var rows = new List<float[]>(texts.Count);
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            var chunk = texts.Skip(start).Take(batchSize).ToList();
            using var scope = torch.NewDisposeScope();
            using var features = cache.Encode(chunk, device);
            var unit = nn.functional.normalize(features.Pooled, dim: -1).cpu().contiguous();
            int h = (int)unit.shape[1];
            var data = unit.data<float>().ToArray();
            for (int r = 0; r < chunk.Count; r++) rows.Add(data.AsSpan(r * h, h).ToArray());
        }
        return rows;
    }
}
