using System.Globalization;
using System.Text;
using System.Text.Json;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.Evaluation;
using Deri.Generation;
using Deri.Interop.Onnx;
using Deri.IO;
using Deri.Pretraining;
using Deri.Runtime;
using Deri.Signals;
using Google.Protobuf;
using static TorchSharp.torch;

namespace Deri.Interop.Bundle;

/// <summary>What <see cref="ModelBundleBuilder.Build"/> makes a bundle from.</summary>
public sealed record BundleBuildOptions
{
    /// <summary>A DERI or MERL run folder.</summary>
    public required string Run { get; init; }

    /// <summary>Checkpoint of the run: best, last or a file.</summary>
    public string Checkpoint { get; init; } = "best";

    /// <summary>Labelled stores, one per task (e.g. store-super, store-sub, store-form, store-rhythm), all prepared alike.</summary>
    public required IReadOnlyList<string> Stores { get; init; }

    /// <summary>The prompt file (CKEPE format: class → description).</summary>
    public required string Prompts { get; init; }

    /// <summary>The model's name.</summary>
    public required string Name { get; init; }

    /// <summary>The model's version.</summary>
    public string Version { get; init; } = "1.0.0";

    /// <summary>A report-generation run (<c>deri report train</c>) to carry as the bundle's report generator (TorchSharp); null: none.</summary>
    public string? ReportModel { get; init; }

    /// <summary>A Markdown file whose text opens the model card (the generated facts follow it); null: the facts only.</summary>
    public string? Card { get; init; }

    /// <summary>Free text recorded in the provenance (e.g. the training schedule).</summary>
    public string? Notes { get; init; }

    /// <summary>Most validation records per task scored for the thresholds (0: all).</summary>
    public int ThresholdRecords { get; init; }

    /// <summary>The bundle folder to write.</summary>
    public required string Out { get; init; }

    /// <summary>What to do with an existing bundle folder.</summary>
    public ExistingFolder Existing { get; init; } = ExistingFolder.Refuse;

    /// <summary>Largest tolerated difference between ONNX Runtime's and TorchSharp's embeddings of the check records.</summary>
    public double Tolerance { get; init; } = 1e-3;
}

/// <summary>What <see cref="ModelBundleBuilder.Build"/> wrote.</summary>
/// <param name="Directory">The bundle folder.</param>
/// <param name="Manifest">Its sidecar.</param>
/// <param name="Bytes">Size of every file, sidecar included, by relative path.</param>
/// <param name="MovedAside">Where an old bundle was moved, if one was.</param>
public sealed record BundleBuildResult(string Directory, BundleManifest Manifest, IReadOnlyDictionary<string, long> Bytes, string? MovedAside);

/// <summary>
/// <c>deri model build</c>: a DERI/MERL run made into a model bundle (<see cref="ModelBundle"/>). The ECG side is
/// exported to ONNX (<see cref="OnnxEcgExporter"/>) and checked against the TorchSharp model on validation records;
/// every class of every store that has a prompt is embedded through the run's text side; each class's threshold is
/// its max-F1 threshold on the validation split of the first store that lists it (the rule of <c>deri zeroshot</c>'s
/// held-out protocol and of <c>deri serve</c>); the preprocessing is the stores' (they must agree). The folder is
/// written whole (<see cref="AtomicFile.WriteFolder"/>) and an existing bundle is refused unless asked otherwise.
/// </summary>
public static class ModelBundleBuilder
{
    /// <summary>The threshold rule, as the sidecar states it.</summary>
    public const string ThresholdRule =
        "max F1 of the class's zero-shot scores on the validation split (BinaryMetrics.MaxF1, as deri zeroshot's validation_max_f1 protocol and deri serve choose them); " +
        "from the first task (store) that lists the class with positives there; none when no task has a positive";

    /// <summary>Builds the bundle.</summary>
    /// <exception cref="InputValueException">The run is not a DERI or MERL run, no store is given, or a name is empty.</exception>
    /// <exception cref="InputFormatException">The stores disagree on preprocessing or do not fit the run, no class has a prompt, or ONNX Runtime disagrees with TorchSharp.</exception>
    /// <exception cref="FolderExistsException">The output exists and <see cref="BundleBuildOptions.Existing"/> is Refuse.</exception>
    public static BundleBuildResult Build(BundleBuildOptions options, Action<string>? log = null)
    {
        log ??= _ => { };
        if (options.Stores.Count == 0) throw new InputValueException("give at least one labelled store (--store)");
        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            throw new InputValueException($"model name '{options.Name}' must be a non-empty file-name-safe string");
        if (string.IsNullOrWhiteSpace(options.Version)) throw new InputValueException("model version is empty");
        if (options.Card is not null && !File.Exists(options.Card)) throw new InputFileNotFoundException($"{options.Card}: model card text not found", options.Card);
        var prompts = ClassPrompts.Load(options.Prompts);
        // Refuse before the slow part: the atomic write would refuse too, but only after minutes of scoring.
        string outDir = Path.GetFullPath(options.Out);
        if (options.Existing == ExistingFolder.Refuse && Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new FolderExistsException($"{outDir}: exists and is not empty (give --overwrite to replace the bundle, or another --out)");

        using var run = PretrainedRun.Load(options.Run, options.Checkpoint, CPU);
        if (!run.IsEcgText)
            throw new InputValueException($"{run.Directory}: a bundle carries a DERI or MERL run (the zero-shot embedding); this run is {run.Method}, an ECG-only method");
        var stores = new List<EcgStore>();
        try
        {
            foreach (string s in options.Stores)
            {
                if (!EcgStore.Exists(s)) throw new InputFileNotFoundException($"{s}: not a store (prepare it with `deri data prepare`)");
                var store = EcgStore.Open(s);
                stores.Add(store);
                run.CheckStore(store);
                if (store.Index.Preprocess != stores[0].Index.Preprocess)
                    throw new InputFormatException($"{store.Directory}: its preprocessing differs from {stores[0].Directory}'s; the bundle applies one preprocessing to every record");
                if (store.LabelNames.Count == 0) throw new InputFormatException($"{store.Directory}: the store has no labels (a bundle's stores give classes and thresholds)");
            }
            return Write(options, run, stores, prompts, outDir, log);
        }
        finally
        {
            foreach (var s in stores) s.Dispose();
        }
    }

    private static BundleBuildResult Write(BundleBuildOptions options, PretrainedRun run, List<EcgStore> stores, ClassPrompts prompts,
        string outDir, Action<string> log)
    {
        var model = new DeriZeroShotModel(run.Module, run.Device);
        var taskNames = stores.Select(s => TaskName(s.Directory)).ToList();
        if (taskNames.Distinct(StringComparer.Ordinal).Count() != taskNames.Count)
            throw new InputValueException($"two stores give the same task name ({string.Join(", ", taskNames)}): give each task's store once");

        // Classes: every class of every store that has a prompt, in store order, each once.
        var codes = new List<string>();
        var tasksOf = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var tasks = new List<(string Name, EcgStore Store, IReadOnlyList<string> Classes, IReadOnlyList<string> Missing)>();
        for (int i = 0; i < stores.Count; i++)
        {
            var classes = stores[i].LabelNames.Where(prompts.Descriptions.ContainsKey).ToList();
            var missing = stores[i].LabelNames.Where(c => !prompts.Descriptions.ContainsKey(c)).ToList();
            if (missing.Count > 0) log($"{taskNames[i]}: no prompt for {string.Join(", ", missing)} (not scored)");
            foreach (string c in classes)
            {
                if (!tasksOf.TryGetValue(c, out var list)) { tasksOf[c] = list = []; codes.Add(c); }
                list.Add(taskNames[i]);
            }
            tasks.Add((taskNames[i], stores[i], classes, missing));
        }
        if (codes.Count == 0) throw new InputFormatException($"{options.Prompts}: no class of the stores has a prompt");

        // Thresholds: per task, scores of its validation split; a class takes the first task's threshold that exists.
        var thresholds = new Dictionary<string, (double Threshold, string Task, int Positives)>(StringComparer.Ordinal);
        var validationCounts = new List<int>();
        foreach (var (name, store, classes, _) in tasks)
        {
            var rows = store.IndicesOf("val");
            if (options.ThresholdRecords > 0) rows = rows.Take(options.ThresholdRecords).ToArray();
            validationCounts.Add(rows.Length);
            if (rows.Length == 0 || classes.Count == 0)
            {
                log($"{name}: {store.Directory} has no validation split: its classes take thresholds from another task or none");
                continue;
            }
            var set = new ZeroShotSet("val", store, rows);
            var scores = ZeroShotRunner.Scores(model, set, classes, prompts, 64);
            var labels = ZeroShotRunner.Labels(set, classes);
            var metrics = MultiLabelMetrics.Evaluate(scores, labels, classes, "val");
            foreach (var c in metrics.Classes)
                if (double.IsFinite(c.Threshold) && !thresholds.ContainsKey(c.Name)) thresholds[c.Name] = (c.Threshold, name, c.Positives);
            log($"{name}: thresholds of {metrics.Classes.Count} classes from {rows.Length} validation records" +
                (metrics.Excluded.Count > 0 ? $"; none for {string.Join(", ", metrics.Excluded.Select(x => x.Name))} ({metrics.Excluded[0].Reason})" : ""));
        }

        // Prompt embeddings (C, D), as the service scores them.
        float[] embeddings;
        int dim;
        using (var e = ZeroShotClassifier.ClassEmbeddings(model, prompts.TextsFor(codes)))
        {
            dim = (int)e.shape[1];
            embeddings = e.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        }

        var deri = run.Module.Model;
        var proto = OnnxEcgExporter.Build(deri, run.Config.Network);
        var onnxBytes = proto.ToByteArray();
        double diff = CheckOnnx(onnxBytes, run, stores[0], options.Tolerance);
        log($"ONNX Runtime and TorchSharp agree on the check records (largest difference {diff:0.###e+0})");

        var (epoch, ckptSha) = CheckpointFacts(run.CheckpointPath);
        var classesOut = codes.Select(c => thresholds.TryGetValue(c, out var t)
            ? new BundleClass(c, prompts.Descriptions[c], tasksOf[c], Math.Round(t.Threshold, 8), t.Task, t.Positives)
            : new BundleClass(c, prompts.Descriptions[c], tasksOf[c], null, null, 0)).ToList();
        var pre = stores[0].Index.Preprocess;
        string created = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        string cardText = Card(options, run, classesOut, tasks.Select(t => t.Name).ToList(), pre, created, validationCounts);

        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        BundleManifest? manifest = null;
        using var report = options.ReportModel is null ? null : ReportRun.Open(options.ReportModel, "best", CPU, log);
        if (report is not null && ModelBundle.Sha256(report.Pretrained.CheckpointPath) != ckptSha)
            log($"{report.Directory}: the report generator was trained on {report.Pretrained.CheckpointPath}, not on the bundle's checkpoint {run.CheckpointPath}; " +
                "it keeps its own ECG side (its checkpoint carries it)");
        string? aside = AtomicFile.WriteFolder(outDir, options.Existing, tmp =>
        {
            if (report is not null)
            {
                report.WriteBundled(Path.Combine(tmp, ModelBundle.ReportFolder));
                CheckReport(report, Path.Combine(tmp, ModelBundle.ReportFolder), stores[0]);
            }
            File.WriteAllBytes(Path.Combine(tmp, ModelBundle.OnnxFile), onnxBytes);
            var raw = new byte[embeddings.Length * sizeof(float)];
            for (int i = 0; i < embeddings.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(i * sizeof(float)), embeddings[i]);
            File.WriteAllBytes(Path.Combine(tmp, ModelBundle.EmbeddingsFile), raw);
            File.WriteAllText(Path.Combine(tmp, ModelBundle.CardFile), cardText);
            foreach (string f in ModelBundle.ListFiles(tmp)) files[f] = ModelBundle.Sha256(Path.Combine(tmp, f));
            manifest = new BundleManifest
            {
                Format = ModelBundle.Format,
                FormatVersion = ModelBundle.FormatVersion,
                Name = options.Name,
                Version = options.Version,
                Created = created,
                Onnx = new BundleOnnx(ModelBundle.OnnxFile, OnnxEcgExporter.InputName, OnnxEcgExporter.OutputName, (int)deri.Leads, (int)deri.InputLength, dim,
                    OnnxEcgExporter.Opset, Math.Round(diff, 9)),
                Preprocessing = pre,
                PreprocessingDescription = Describe(pre),
                Classes = classesOut,
                Tasks = tasks.Select((t, i) => new BundleTask(t.Name, t.Classes, t.Missing, validationCounts[i])).ToList(),
                PromptEmbeddings = new BundleEmbeddings(ModelBundle.EmbeddingsFile, codes.Count, dim, "float32-le"),
                Thresholds = new BundleThresholdRule(ThresholdRule, "val"),
                Provenance = new BundleProvenance(run.Name, Path.GetFileName(run.CheckpointPath), ckptSha, epoch, run.Method,
                    run.Config.Network.EcgModel, run.Config.Network.TextModel, FolderName(run.Config.Dataset.DataPath),
                    stores.Select(s => FolderName(s.Directory)).ToList(), Path.GetFileName(options.Prompts), ModelBundle.Sha256(options.Prompts),
                    RuntimeInfo.Collect().DeriVersion, options.Notes,
                    report is null ? null : FolderName(report.Directory), report is null ? null : ModelBundle.Sha256(report.CheckpointPath)),
                ReportModel = report is null ? null : ModelBundle.ReportFolder,
                Card = ModelBundle.CardFile,
                Files = files,
            };
            File.WriteAllText(Path.Combine(tmp, ModelBundle.SidecarFile), JsonSerializer.Serialize(manifest, ModelBundle.Json) + "\n");
            // What was written must open: a bundle that fails its own check is never moved into place.
            ModelBundle.Open(tmp);
        }, log);
        var bytes = ModelBundle.ListFiles(outDir).ToDictionary(f => f, f => new FileInfo(Path.Combine(outDir, f)).Length, StringComparer.Ordinal);
        return new BundleBuildResult(outDir, manifest!, bytes, aside);
    }

    // The bundled generator must write what the run writes: the same greedy report for two validation (else first) records.
    private static void CheckReport(ReportRun original, string bundled, EcgStore store)
    {
        using var reopened = ReportRun.Open(bundled, "best", CPU);
        var rows = store.IndicesOf("val");
        if (rows.Length == 0) rows = Enumerable.Range(0, store.Count).ToArray();
        rows = rows.Take(2).ToArray();
        var flat = new float[rows.Length * store.RecordSize];
        for (int i = 0; i < rows.Length; i++) store.Read(rows[i], flat.AsSpan(i * store.RecordSize, store.RecordSize));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ecg = tensor(flat, [rows.Length, store.Index.Leads, store.Index.Length]);   // (B, leads, L)
        var options = new Deri.Generation.Decoder.DecodingOptions(NumBeams: 1, MaxLength: 64);
        var a = original.Generate(ecg, options);
        var b = reopened.Generate(ecg, options);
        for (int i = 0; i < a.Count; i++)
            if (a[i] != b[i])
                throw new InputFormatException($"{original.Directory}: the bundled report generator writes \"{b[i]}\" where the run writes \"{a[i]}\" (record {store.Entries[rows[i]].Id})");
    }

    /// <summary>The task name of a store folder: its name without a leading <c>store-</c>.</summary>
    public static string TaskName(string storeDir)
    {
        string n = FolderName(storeDir);
        return n.StartsWith("store-", StringComparison.Ordinal) && n.Length > 6 ? n[6..] : n;
    }

    private static string FolderName(string dir) => Path.GetFileName(Path.TrimEndingDirectorySeparator(dir)) is { Length: > 0 } n ? n : dir;

    // The largest |ONNX Runtime − TorchSharp| over the embeddings of up to 8 validation (else first) records of the store.
    private static double CheckOnnx(byte[] onnx, PretrainedRun run, EcgStore store, double tolerance)
    {
        var deri = run.Module.Model;
        var rows = store.IndicesOf("val");
        if (rows.Length == 0) rows = Enumerable.Range(0, store.Count).ToArray();
        rows = rows.Take(8).ToArray();
        if (rows.Length == 0) throw new InputFormatException($"{store.Directory}: the store is empty");
        int size = store.RecordSize;
        var flat = new float[rows.Length * size];
        for (int i = 0; i < rows.Length; i++) store.Read(rows[i], flat.AsSpan(i * size, size));
        float[] torchOut;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var ecg = tensor(flat, [rows.Length, (int)deri.Leads, (int)deri.InputLength]);   // (B, leads, L)
            torchOut = deri.ZeroShotEcgEmbedding(ecg).to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();   // (B·D)
        }
        using var embedder = new OnnxEcgEmbedder(onnx, "exported graph", (int)deri.Leads, (int)deri.InputLength, threads: 1);
        var ortOut = embedder.Run(flat, rows.Length);
        if (ortOut.Length != torchOut.Length) throw new InputFormatException($"the ONNX graph gives {ortOut.Length} values for {rows.Length} records, TorchSharp {torchOut.Length}");
        double worst = 0;
        for (int i = 0; i < ortOut.Length; i++) worst = Math.Max(worst, Math.Abs(ortOut[i] - torchOut[i]));
        if (!(worst <= tolerance))
            throw new InputFormatException($"{run.Directory}: ONNX Runtime's embeddings differ from TorchSharp's by {worst} (> {tolerance}) on {rows.Length} records of {store.Directory}; the export does not carry this model faithfully");
        return worst;
    }

    private static (int? Epoch, string Sha256) CheckpointFacts(string path)
    {
        int? epoch = null;
        try
        {
            epoch = Deri.Training.Checkpoint.ReadInfo(path).Epoch;
        }
        catch (Exception e) when (e is InputException or InvalidDataException or IOException or JsonException or FormatException)
        {
            // An imported checkpoint (safetensors, PyTorch) records no epoch.
        }
        return (epoch, ModelBundle.Sha256(path));
    }

    /// <summary>The preprocessing in words, as the sidecar states it.</summary>
    public static IReadOnlyDictionary<string, string> Describe(PreprocessConfig p)
    {
        var inv = CultureInfo.InvariantCulture;
        return new Dictionary<string, string>
        {
            ["order_of_steps"] = "units (mV) → non-finite repair → resample → crop → zero-pad → normalise → lead order",
            ["sampling_rate"] = string.Format(inv, "{0} Hz (any accepted record is resampled to it, polyphase, Kaiser β {1})", p.TargetRate, p.KaiserBeta),
            ["length"] = string.Format(inv, "{0} samples: [{1}, {2}) of the resampled record, zeros after a shorter one", p.TargetLength, p.CropStart, p.CropStart + p.EffectiveCropLength),
            ["non_finite"] = p.RepairNonFinite ? string.Format(inv, "repaired from neighbours within {0} samples", p.RepairRadius) : "left as read",
            ["normalization"] = p.Normalization switch
            {
                Normalization.MinMax => "min_max: (x - min) / (max - min + 1e-8) over all leads and samples of the record",
                Normalization.ZScorePerLead => "zscore_per_lead: (x - mean) / (std + 1e-8) per lead",
                _ => "none (millivolts)",
            } + (p.NormalizeAfterPadding ? ", after zero-padding" : ", before zero-padding"),
            ["lead_order"] = p.ReorderLeads ? string.Join(", ", LeadOrder.Model) : "the first 12 channels as stored",
        };
    }

    // The card: the builder's text (--card) first, then the facts of the bundle, generated.
    private static string Card(BundleBuildOptions o, PretrainedRun run, IReadOnlyList<BundleClass> classes, IReadOnlyList<string> tasks,
        PreprocessConfig pre, string created, IReadOnlyList<int> validationCounts)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (o.Card is not null) sb.Append(File.ReadAllText(o.Card).TrimEnd()).Append("\n\n");
        else sb.Append(inv, $"# {o.Name} {o.Version}\n\n");
        sb.Append("## Bundle facts\n\n");
        sb.Append("Generated by `deri model build` from the bundle's sidecar (`model.json`); `deri model info` prints the same.\n\n");
        sb.Append(inv, $"- Model: {o.Name}, version {o.Version}, built {created}\n");
        sb.Append(inv, $"- Method: {run.Method}, ECG encoder {run.Config.Network.EcgModel}, text side {run.Config.Network.TextModel}\n");
        sb.Append(inv, $"- Run: {run.Name}, checkpoint {Path.GetFileName(run.CheckpointPath)}; pretraining data {FolderName(run.Config.Dataset.DataPath)}\n");
        sb.Append(inv, $"- Input: 12 leads × {pre.TargetLength} samples at {pre.TargetRate} Hz, normalisation {pre.Normalization}; any record the readers accept is resampled and cut to it\n");
        sb.Append(inv, $"- Tasks: {string.Join(", ", tasks.Select((t, i) => $"{t} ({validationCounts[i]} validation records)"))}\n");
        sb.Append(inv, $"- Prompts: {Path.GetFileName(o.Prompts)}\n");
        sb.Append(inv, $"- Report generator: {(o.ReportModel is null ? "none" : $"report run {FolderName(Path.GetFullPath(o.ReportModel))} (GPT-2 decoder on TorchSharp, in report/)")}\n");
        sb.Append("- Thresholds: ").Append(ThresholdRule).Append("\n\n");
        sb.Append("| class | tasks | threshold | validation positives |\n|---|---|---|---|\n");
        foreach (var c in classes)
            sb.Append(inv, $"| {c.Code} | {string.Join(", ", c.Tasks)} | {(c.Threshold is { } t ? t.ToString("0.0000", inv) : "none")} | {c.ValidationPositives} |\n");
        return sb.ToString();
    }
}
