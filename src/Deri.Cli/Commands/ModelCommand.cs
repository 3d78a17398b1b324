using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Deri.Interop.Bundle;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary>
/// <c>deri model build</c>, <c>deri model verify</c> and <c>deri model info</c>: model bundles, the self-contained
/// models that <c>deri serve</c> and <c>deri analyze</c> run on ONNX Runtime (and use by default from
/// <c>models/deri-ptbxl</c>).
/// </summary>
internal static class ModelCommand
{
    public static Command Create() => CommandGroup.Create("model",
        "Model bundles: a run's ECG side as ONNX with its preprocessing, prompt embeddings, validation thresholds and card (the default model of serve and analyze)",
        CreateBuild(), CreateVerify(), CreateInfo());

    /// <summary>
    /// The bundle a command uses: <paramref name="given"/> when not null, else the default bundle (<c>models/deri-ptbxl</c>
    /// in the working folder or one above it, else beside the <c>deri</c> executable); no default is an error naming
    /// where it was looked for.
    /// </summary>
    public static string RunOrDefault(string? given) =>
        given ?? ModelBundle.RequireDefault(Environment.CurrentDirectory, AppContext.BaseDirectory);

    private static Command CreateBuild()
    {
        var run = new Option<string>("--run") { Description = "DERI or MERL run folder to bundle", Required = true };
        var checkpoint = DownstreamOptions.Checkpoint();
        var stores = new Option<string[]>("--store")
        {
            Description = "Labelled store of one task (repeat: e.g. store-super, store-sub, store-form, store-rhythm); gives the classes, the preprocessing and the validation split of the thresholds",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var prompts = new Option<string>("--prompts") { Description = "Prompt file (class → description JSON, e.g. ../shared/prompts/CKEPE_prompt.json)", Required = true };
        var name = new Option<string>("--name") { Description = "The model's name", DefaultValueFactory = _ => ModelBundle.DefaultName };
        var version = new Option<string>("--version") { Description = "The model's version", DefaultValueFactory = _ => "1.0.0" };
        var reportModel = new Option<string?>("--report-model") { Description = "Report-generation run (`deri report train`) to carry as the bundle's report generator (report/, TorchSharp)" };
        var card = new Option<string?>("--card") { Description = "Markdown file whose text opens the bundle's MODEL_CARD.md (the generated facts follow it)" };
        var notes = new Option<string?>("--notes") { Description = "Free text recorded in the sidecar's provenance (e.g. the training schedule)" };
        var thresholdRecords = new Option<int>("--threshold-records") { Description = "Most validation records per task scored for the thresholds (0: all)", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out", "-o") { Description = "Bundle folder to write (e.g. models/deri-ptbxl)", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing bundle folder (the old one is moved aside to NAME.old-…, never deleted)" };
        var threads = CommonOptions.Threads();
        var cmd = new Command("build",
            "Make a model bundle from a DERI or MERL run: model.onnx (the ECG side), model.json (preprocessing, classes with prompts and validation thresholds, provenance, SHA-256 of every file), prompt_embeddings.f32 and MODEL_CARD.md")
        {
            run, checkpoint, stores, prompts, reportModel, name, version, card, notes, thresholdRecords, output, overwrite, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            int most = result.GetValue(thresholdRecords);
            if (most < 0) throw new CliUsageException($"--threshold-records must be 0 (all) or positive, got {most}");
            // The build runs on the CPU (the check compares ONNX Runtime's CPU output); --threads sets LibTorch's threads.
            new Deri.Runtime.DeviceSettings(Deri.Runtime.DeviceKind.Cpu, result.GetValue(threads)).Resolve();
            var built = ModelBundleBuilder.Build(new BundleBuildOptions
            {
                Run = result.GetValue(run)!,
                Checkpoint = result.GetValue(checkpoint)!,
                Stores = result.GetValue(stores)!,
                Prompts = result.GetValue(prompts)!,
                Name = result.GetValue(name)!,
                Version = result.GetValue(version)!,
                ReportModel = result.GetValue(reportModel),
                Card = result.GetValue(card),
                Notes = result.GetValue(notes),
                ThresholdRecords = most,
                Out = result.GetValue(output)!,
                Existing = result.GetValue(overwrite) ? ExistingFolder.MoveAside : ExistingFolder.Refuse,
            }, stderr.WriteLine);
            if (built.MovedAside is not null) stderr.WriteLine($"the old bundle was moved to {built.MovedAside}");
            WriteSizes(stdout, built.Bytes);
            var m = built.Manifest;
            stdout.WriteLine($"{m.Name} {m.Version}: {m.Classes.Count} classes ({m.Classes.Count(c => c.Threshold is not null)} with a validation threshold) of {m.Tasks.Count} tasks → {built.Directory}");
            return 0;
        });
        return cmd;
    }

    private static Command CreateVerify()
    {
        var bundle = new Argument<string?>("bundle") { Description = "Bundle folder (default: the default bundle, models/deri-ptbxl)", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("verify", "Check the SHA-256 of every file of a bundle against its model.json; exit 1 naming the first file that differs, is missing or is not listed")
        {
            bundle,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            string dir = RunOrDefault(result.GetValue(bundle));
            var manifest = ModelBundle.ReadManifest(dir);
            var files = ModelBundle.Verify(dir, manifest);
            stdout.WriteLine($"{manifest.Name} {manifest.Version}: {files.Count} files match their SHA-256 ({Path.GetFullPath(dir)})");
            return 0;
        });
        return cmd;
    }

    private static Command CreateInfo()
    {
        var bundle = new Argument<string?>("bundle") { Description = "Bundle folder (default: the default bundle, models/deri-ptbxl)", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Print the sidecar (model.json) as it is" };
        var cmd = new Command("info", "Describe a bundle: name, version, provenance, preprocessing, tasks and classes with their thresholds, file sizes")
        {
            bundle, json,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            string dir = RunOrDefault(result.GetValue(bundle));
            var m = ModelBundle.ReadManifest(dir);
            if (result.GetValue(json))
            {
                stdout.WriteLine(File.ReadAllText(Path.Combine(dir, ModelBundle.SidecarFile)).TrimEnd());
                return 0;
            }
            var inv = CultureInfo.InvariantCulture;
            var p = m.Provenance;
            stdout.WriteLine($"{m.Name} {m.Version} (built {m.Created}, Deri {p.Deri}) at {Path.GetFullPath(dir)}");
            stdout.WriteLine($"  model: {p.Method} {p.EcgModel}, text side {p.TextModel}; run {p.Run}, checkpoint {p.Checkpoint}" +
                (p.CheckpointEpoch is { } e ? $" (epoch {e})" : "") + $", sha256 {p.CheckpointSha256[..16]}…");
            stdout.WriteLine($"  pretraining data: {p.PretrainingData}; stores: {string.Join(", ", p.Stores)}; prompts: {p.Prompts}");
            if (p.Notes is not null) stdout.WriteLine($"  notes: {p.Notes}");
            var pre = m.Preprocessing;
            stdout.WriteLine(string.Format(inv, "  input: {0} leads × {1} samples at {2} Hz, {3}; ONNX {4} → {5} ({6}-d)", m.Onnx.Leads, m.Onnx.Length, pre.TargetRate,
                pre.Normalization, m.Onnx.Input, m.Onnx.Output, m.Onnx.Dim));
            foreach (var t in m.Tasks)
                stdout.WriteLine($"  task {t.Name}: {t.Classes.Count} classes, {t.ValidationRecords} validation records" +
                    (t.WithoutPrompt.Count > 0 ? $"; no prompt: {string.Join(", ", t.WithoutPrompt)}" : ""));
            stdout.WriteLine("  thresholds: " + m.Thresholds.Rule);
            stdout.WriteLine("  " + string.Join(", ", m.Classes.Select(c => c.Threshold is { } th ? string.Format(inv, "{0} {1:0.000}", c.Code, th) : $"{c.Code} none")));
            if (m.ReportModel is not null) stdout.WriteLine($"  report generator: {m.ReportModel}/ (TorchSharp)");
            WriteSizes(stdout, ModelBundle.ListFiles(dir).ToDictionary(f => f, f => new FileInfo(Path.Combine(dir, f)).Length));
            return 0;
        });
        return cmd;
    }

    private static void WriteSizes(TextWriter stdout, IReadOnlyDictionary<string, long> bytes)
    {
        foreach (var (file, size) in bytes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            stdout.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0,-28} {1,12:N0} bytes", file, size));
        stdout.WriteLine(string.Format(CultureInfo.InvariantCulture, "  {0,-28} {1,12:N0} bytes ({2:0.0} MiB)", "total", bytes.Values.Sum(), bytes.Values.Sum() / 1048576.0));
    }
}
