using Deri.Evaluation;
using Deri.IO;
using Deri.Pretraining;

namespace Deri.Downstream;

/// <summary>What <see cref="ZeroShotEvaluation.Run"/> evaluates.</summary>
/// <param name="Store">Prepared, labelled store.</param>
/// <param name="Split">Evaluated split (default <c>test</c>).</param>
/// <param name="ValidationSplit">Split whose thresholds the held-out protocol applies; null or empty skips that protocol.</param>
/// <param name="Prompts">CKEPE-format prompt file; null uses the run's <c>zeroshot.prompt_dict</c> when that file exists.</param>
/// <param name="BatchSize">Records per forward pass.</param>
public sealed record ZeroShotOptions(string Store, string Split = "test", string? ValidationSplit = "val", string? Prompts = null, int BatchSize = 64);

/// <summary>The outcome of a downstream zero-shot evaluation.</summary>
/// <param name="Task">Row name: store folder name and split.</param>
/// <param name="Result">Metrics under the paper's protocol and, when a validation split was used, the held-out one.</param>
/// <param name="Classes">Classes evaluated (those with a prompt), in the store's order.</param>
/// <param name="MissingPrompts">Store classes without a prompt (left out).</param>
/// <param name="PromptFile">The prompt file used.</param>
/// <param name="Summary">Macro table (one row per protocol).</param>
/// <param name="PerClass">Per-class table (AUC, F1, accuracy, threshold under each protocol).</param>
/// <param name="Files">Files written (empty when no output folder was given).</param>
public sealed record ZeroShotEvaluationResult(string Task, ZeroShotResult Result, IReadOnlyList<string> Classes,
    IReadOnlyList<string> MissingPrompts, string PromptFile, ResultTable Summary, ResultTable PerClass, IReadOnlyList<string> Files);

/// <summary>
/// Zero-shot classification of any labelled store with any CKEPE-format prompt file using a pretrained run
/// (METHOD §4), with per-class and macro AUC, F1 and accuracy under both threshold protocols.
/// </summary>
public static class ZeroShotEvaluation
{
    /// <summary>
    /// The prompt file to use: <paramref name="explicitPath"/> when given; otherwise the run's
    /// <c>zeroshot.prompt_dict</c> (absolute, or relative to the working folder or to the run folder) when it exists.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">No prompt file was given and the run's does not exist.</exception>
    public static string ResolvePrompts(PretrainedRun run, string? explicitPath)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            if (!File.Exists(explicitPath)) throw new InputFileNotFoundException($"{explicitPath}: prompt file not found", explicitPath);
            return Path.GetFullPath(explicitPath);
        }
        string configured = run.Config.Zeroshot.PromptDict;
        var candidates = string.IsNullOrWhiteSpace(configured) ? []
            : Path.IsPathRooted(configured) ? new[] { configured }
            : new[] { Path.GetFullPath(configured), Path.Combine(run.Directory, configured) };
        foreach (var c in candidates)
            if (File.Exists(c)) return Path.GetFullPath(c);
        throw new InputFileNotFoundException(
            $"no prompt file: pass --prompts FILE (a CKEPE-format JSON object mapping class labels to descriptions); " +
            $"the run's zeroshot.prompt_dict '{configured}' was not found");
    }

    /// <summary>
    /// Classifies <see cref="ZeroShotOptions.Split"/> of the store and, when <paramref name="outputDirectory"/> is given,
    /// writes <c>zeroshot_summary</c> and <c>zeroshot_classes</c> tables (Markdown, CSV, JSON) with the command and checkpoint.
    /// </summary>
    /// <exception cref="InputFormatException">The store has no labels, a split is empty, or no store class has a prompt.</exception>
    public static ZeroShotEvaluationResult Run(PretrainedRun run, ZeroShotOptions options, string? outputDirectory = null,
        string commandLine = "deri zeroshot", Action<string>? log = null)
    {
        log ??= _ => { };
        string promptFile = ResolvePrompts(run, options.Prompts);
        var prompts = ClassPrompts.Load(promptFile);
        using var store = FeatureExtractor.OpenStore(options.Store);
        FeatureExtractor.RequireLabels(store);
        run.CheckStore(store);
        string dataset = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(store.Directory)));
        var test = ZeroShotSet.FromSplit($"{dataset}/{options.Split}", store, options.Split);
        ZeroShotSet? validation = null;
        if (!string.IsNullOrEmpty(options.ValidationSplit))
        {
            if (store.IndicesOf(options.ValidationSplit).Length == 0)
                log($"{store.Directory}: split '{options.ValidationSplit}' is empty; only the paper's threshold protocol is reported");
            else validation = ZeroShotSet.FromSplit($"{dataset}/{options.ValidationSplit}", store, options.ValidationSplit);
        }
        double[,]? testScores = null;
        int[,]? testLabels = null;
        var (result, missing) = ZeroShotRunner.Evaluate(new DeriZeroShotModel(run.Module, run.Device), test, validation, prompts, options.BatchSize,
            (s, l) => (testScores, testLabels) = (s, l));
        var classes = ZeroShotRunner.ClassesWithPrompts(test, prompts);

        var summary = ResultTable.ForZeroShot([(test.Name, result)],
            $"Zero-shot classification of {test.Name} with {run.Name} (macro, x100)");
        var perClass = ResultTable.ForClasses($"Zero-shot classification of {test.Name} with {run.Name}, per class (x100)",
            result.HeldOut is null ? [result.Paper] : [result.Paper, result.HeldOut]);
        foreach (var t in new[] { summary, perClass })
        {
            t.Notes.Add($"store: {Path.GetFullPath(store.Directory)}, split '{options.Split}' ({test.Rows.Length} records)" +
                        (validation is null ? "; no validation split, so no held-out protocol" : $"; thresholds of the held-out protocol from split '{options.ValidationSplit}' ({validation.Rows.Length} records)"));
            t.Notes.Add($"prompts: {promptFile}");
            if (missing.Count > 0) t.Notes.Add($"classes without a prompt (left out): {string.Join(", ", missing)}");
        }
        if (missing.Count > 0) log($"{test.Name}: no prompt for {string.Join(", ", missing)}; left out");

        IReadOnlyList<string> files = [];
        if (outputDirectory is not null)
        {
            Directory.CreateDirectory(outputDirectory);
            var provenance = new RunProvenance(commandLine, run.CheckpointPath);
            files = summary.WriteAll(outputDirectory, "zeroshot_summary", provenance)
                .Concat(perClass.WriteAll(outputDirectory, "zeroshot_classes", provenance)).ToList();
            // Per-record scores and labels in `deri metrics`' format (rows in store order of the split), so that results
            // can be recomputed, compared across runs on the same records, or bootstrapped.
            string scoresFile = Path.Combine(outputDirectory, "zeroshot_scores.csv"), labelsFile = Path.Combine(outputDirectory, "zeroshot_labels.csv");
            ScoreTableWriter.WriteScores(scoresFile, classes, testScores!);
            ScoreTableWriter.WriteLabels(labelsFile, classes, testLabels!);
            files = [.. files, scoresFile, labelsFile];
        }
        return new ZeroShotEvaluationResult(test.Name, result, classes, missing, promptFile, summary, perClass, files);
    }
}
