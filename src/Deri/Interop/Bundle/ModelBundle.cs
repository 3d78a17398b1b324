using Deri.IO;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Deri.Data.Preprocessing;

namespace Deri.Interop.Bundle;

/// <summary>One class of a bundle: its PTB-XL code, prompt and validation threshold.</summary>
/// <param name="Code">The class label (a PTB-XL code such as NORM, IMI, NDT, AFIB).</param>
/// <param name="Prompt">The prompt text whose embedding scores the class (as written in the prompt file).</param>
/// <param name="Tasks">The tasks (store names) whose label set holds the class, in build order.</param>
/// <param name="Threshold">Max-F1 threshold on the validation split of the first task that has positives; null when none has.</param>
/// <param name="ThresholdTask">The task whose validation split gave <paramref name="Threshold"/>.</param>
/// <param name="ValidationPositives">Positive validation records of that task.</param>
public sealed record BundleClass(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("tasks")] IReadOnlyList<string> Tasks,
    [property: JsonPropertyName("threshold")] double? Threshold,
    [property: JsonPropertyName("threshold_task")] string? ThresholdTask,
    [property: JsonPropertyName("validation_positives")] int ValidationPositives);

/// <summary>One task a bundle was built for: a labelled store's label set and its validation split.</summary>
/// <param name="Name">The task's name (the store folder's name with a leading <c>store-</c> removed, e.g. super, sub, form, rhythm).</param>
/// <param name="Classes">The classes of the store that have a prompt, in store order.</param>
/// <param name="WithoutPrompt">The store's classes that have no prompt (not scored).</param>
/// <param name="ValidationRecords">Validation records scored to choose the thresholds.</param>
public sealed record BundleTask(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("classes")] IReadOnlyList<string> Classes,
    [property: JsonPropertyName("without_prompt")] IReadOnlyList<string> WithoutPrompt,
    [property: JsonPropertyName("validation_records")] int ValidationRecords);

/// <summary>The ONNX graph of the ECG side.</summary>
/// <param name="File">File name inside the bundle.</param>
/// <param name="Input">Input name: the preprocessed signal <c>(batch, leads, length)</c> float32.</param>
/// <param name="Output">Output name: the L2-normalised zero-shot embedding <c>(batch, dim)</c> float32.</param>
/// <param name="Leads">Leads of the input.</param>
/// <param name="Length">Samples per lead of the input.</param>
/// <param name="Dim">Width of the embedding.</param>
/// <param name="Opset">ONNX opset of the graph.</param>
/// <param name="CheckMaxAbsDiff">Largest |ONNX Runtime − TorchSharp| over the embeddings of the build's check records.</param>
public sealed record BundleOnnx(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("input")] string Input,
    [property: JsonPropertyName("output")] string Output,
    [property: JsonPropertyName("leads")] int Leads,
    [property: JsonPropertyName("length")] int Length,
    [property: JsonPropertyName("dim")] int Dim,
    [property: JsonPropertyName("opset")] long Opset,
    [property: JsonPropertyName("check_max_abs_diff")] double CheckMaxAbsDiff);

/// <summary>The prompt embeddings file: one L2-normalised row per class of <see cref="BundleManifest.Classes"/>, in that order.</summary>
/// <param name="File">File name inside the bundle.</param>
/// <param name="Rows">Rows (classes).</param>
/// <param name="Dim">Columns (the embedding width).</param>
/// <param name="Dtype">Always <c>float32-le</c>: little-endian IEEE floats, row-major.</param>
public sealed record BundleEmbeddings(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("dim")] int Dim,
    [property: JsonPropertyName("dtype")] string Dtype);

/// <summary>Where the thresholds came from.</summary>
/// <param name="Rule">The rule, in words.</param>
/// <param name="Split">The split the scores were taken on.</param>
public sealed record BundleThresholdRule(
    [property: JsonPropertyName("rule")] string Rule,
    [property: JsonPropertyName("split")] string Split);

/// <summary>What the bundle was made from (names and digests only, never paths of the builder's machine).</summary>
/// <param name="Run">The run folder's name.</param>
/// <param name="Checkpoint">The checkpoint file's name.</param>
/// <param name="CheckpointSha256">SHA-256 of the checkpoint file.</param>
/// <param name="CheckpointEpoch">Epochs completed when it was written; null when the file does not record it.</param>
/// <param name="Method">deri or merl.</param>
/// <param name="EcgModel">The ECG backbone (<c>network.ecg_model</c>).</param>
/// <param name="TextModel">The text side (<c>network.text_model</c>).</param>
/// <param name="PretrainingData">The run's <c>dataset.data_path</c> folder name.</param>
/// <param name="Stores">The names of the stores that gave the preprocessing and the thresholds.</param>
/// <param name="Prompts">The prompt file's name.</param>
/// <param name="PromptsSha256">SHA-256 of the prompt file.</param>
/// <param name="Deri">The Deri version that built the bundle.</param>
/// <param name="Notes">Free text the builder gave (<c>--notes</c>), e.g. the training schedule.</param>
/// <param name="ReportRun">The report-generation run folder's name; null without a report generator.</param>
/// <param name="ReportCheckpointSha256">SHA-256 of the report run's checkpoint; null without a report generator.</param>
public sealed record BundleProvenance(
    [property: JsonPropertyName("run")] string Run,
    [property: JsonPropertyName("checkpoint")] string Checkpoint,
    [property: JsonPropertyName("checkpoint_sha256")] string CheckpointSha256,
    [property: JsonPropertyName("checkpoint_epoch")] int? CheckpointEpoch,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("ecg_model")] string EcgModel,
    [property: JsonPropertyName("text_model")] string TextModel,
    [property: JsonPropertyName("pretraining_data")] string PretrainingData,
    [property: JsonPropertyName("stores")] IReadOnlyList<string> Stores,
    [property: JsonPropertyName("prompts")] string Prompts,
    [property: JsonPropertyName("prompts_sha256")] string PromptsSha256,
    [property: JsonPropertyName("deri")] string Deri,
    [property: JsonPropertyName("notes")] string? Notes,
    [property: JsonPropertyName("report_run")] string? ReportRun = null,
    [property: JsonPropertyName("report_checkpoint_sha256")] string? ReportCheckpointSha256 = null);

/// <summary>
/// <c>model.json</c>, the sidecar of a model bundle: what the model is, the preprocessing it needs, its classes with
/// prompts and validation thresholds, where it came from, and the SHA-256 of every other file of the bundle.
/// </summary>
public sealed record BundleManifest
{
    /// <summary>Always <see cref="ModelBundle.Format"/>.</summary>
    [JsonPropertyName("format")] public required string Format { get; init; }

    /// <summary>Version of this file's layout.</summary>
    [JsonPropertyName("format_version")] public required int FormatVersion { get; init; }

    /// <summary>The model's name (e.g. deri-ptbxl).</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The model's version.</summary>
    [JsonPropertyName("version")] public required string Version { get; init; }

    /// <summary>When the bundle was built (UTC, ISO 8601).</summary>
    [JsonPropertyName("created")] public required string Created { get; init; }

    /// <summary>The ECG side's graph.</summary>
    [JsonPropertyName("onnx")] public required BundleOnnx Onnx { get; init; }

    /// <summary>The preprocessing every record gets before the graph (that of the stores the thresholds came from).</summary>
    [JsonPropertyName("preprocessing")] public required PreprocessConfig Preprocessing { get; init; }

    /// <summary>The preprocessing in words (order of steps, normalisation, lead order).</summary>
    [JsonPropertyName("preprocessing_description")] public required IReadOnlyDictionary<string, string> PreprocessingDescription { get; init; }

    /// <summary>Every class scored, in the order of the prompt embeddings' rows.</summary>
    [JsonPropertyName("classes")] public required IReadOnlyList<BundleClass> Classes { get; init; }

    /// <summary>The tasks (labelled stores) the classes came from.</summary>
    [JsonPropertyName("tasks")] public required IReadOnlyList<BundleTask> Tasks { get; init; }

    /// <summary>The prompt embeddings file.</summary>
    [JsonPropertyName("prompt_embeddings")] public required BundleEmbeddings PromptEmbeddings { get; init; }

    /// <summary>How the thresholds were chosen.</summary>
    [JsonPropertyName("thresholds")] public required BundleThresholdRule Thresholds { get; init; }

    /// <summary>The scores: how a finding's score is computed.</summary>
    [JsonPropertyName("scores")] public string Scores { get; init; } = "cosine: embedding (batch, dim) · prompt_embeddings (classes, dim)ᵀ; a finding is positive when score ≥ threshold";

    /// <summary>What the bundle was made from.</summary>
    [JsonPropertyName("provenance")] public required BundleProvenance Provenance { get; init; }

    /// <summary>Folder of the report generator inside the bundle (TorchSharp), or null when the bundle has none.</summary>
    [JsonPropertyName("report_model")] public string? ReportModel { get; init; }

    /// <summary>The model card's file name.</summary>
    [JsonPropertyName("card")] public required string Card { get; init; }

    /// <summary>SHA-256 (lower-case hex) of every other file of the bundle, by path relative to the bundle with '/' separators.</summary>
    [JsonPropertyName("files")] public required IReadOnlyDictionary<string, string> Files { get; init; }
}

/// <summary>A file of a bundle whose SHA-256 is not the recorded one, or that is missing or unlisted.</summary>
public sealed class BundleIntegrityException(string message) : Deri.IO.InputException(message);

/// <summary>
/// A model bundle: a folder with the ECG side as ONNX (<c>model.onnx</c>), the prompt embeddings
/// (<c>prompt_embeddings.f32</c>), the model card (<c>MODEL_CARD.md</c>), optionally the report generator
/// (<c>report/</c>), and the sidecar <c>model.json</c> (<see cref="BundleManifest"/>) that records the SHA-256 of each.
/// Opening a bundle checks every digest, so a served model is the one that was built.
/// </summary>
public sealed class ModelBundle
{
    /// <summary>The sidecar's file name.</summary>
    public const string SidecarFile = "model.json";

    /// <summary>The graph's file name.</summary>
    public const string OnnxFile = "model.onnx";

    /// <summary>The prompt embeddings' file name.</summary>
    public const string EmbeddingsFile = "prompt_embeddings.f32";

    /// <summary>The model card's file name.</summary>
    public const string CardFile = "MODEL_CARD.md";

    /// <summary>The report generator's folder name.</summary>
    public const string ReportFolder = "report";

    /// <summary>The sidecar's <c>format</c> value.</summary>
    public const string Format = "deri-model-bundle";

    /// <summary>The sidecar layout this code writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The repository folder that holds the default bundle (<see cref="DefaultName"/>).</summary>
    public const string ModelsFolder = "models";

    /// <summary>The default bundle's folder name under <see cref="ModelsFolder"/>.</summary>
    public const string DefaultName = "deri-ptbxl";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        // The preprocessing record has no JSON names of its own: snake_case as the rest of the file.
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private ModelBundle(string directory, BundleManifest manifest, float[][] embeddings)
    {
        Directory = directory;
        Manifest = manifest;
        PromptEmbeddings = embeddings;
    }

    /// <summary>The bundle folder (absolute).</summary>
    public string Directory { get; }

    /// <summary>The sidecar.</summary>
    public BundleManifest Manifest { get; }

    /// <summary>One unit row of width <see cref="BundleOnnx.Dim"/> per class of <see cref="BundleManifest.Classes"/>.</summary>
    public IReadOnlyList<float[]> PromptEmbeddings { get; }

    /// <summary>Path of the ONNX graph.</summary>
    public string OnnxPath => Path.Combine(Directory, Manifest.Onnx.File);

    /// <summary>Path of the model card.</summary>
    public string CardPath => Path.Combine(Directory, Manifest.Card);

    /// <summary>Path of the report generator's folder, or null when the bundle has none.</summary>
    public string? ReportModelPath => Manifest.ReportModel is { } r ? Path.Combine(Directory, r) : null;

    /// <summary>True when <paramref name="path"/> is a folder holding a <c>model.json</c> (a bundle, not a run folder).</summary>
    public static bool IsBundle(string path) => System.IO.Directory.Exists(path) && File.Exists(Path.Combine(path, SidecarFile));

    /// <summary>Reads the sidecar of <paramref name="directory"/>, checks every file's SHA-256 and reads the prompt embeddings.</summary>
    /// <exception cref="InputFileNotFoundException">The folder or its sidecar is missing.</exception>
    /// <exception cref="BundleIntegrityException">A file is missing, unlisted or has another SHA-256 (named).</exception>
    /// <exception cref="InputFormatException">The sidecar is not a bundle sidecar of this format, or the embeddings do not fit it.</exception>
    public static ModelBundle Open(string directory)
    {
        string dir = Path.GetFullPath(directory);
        var manifest = ReadManifest(dir);
        Verify(dir, manifest);
        var e = manifest.PromptEmbeddings;
        if (e.Dtype != "float32-le") throw new InputFormatException($"{Path.Combine(dir, SidecarFile)}: prompt_embeddings.dtype '{e.Dtype}' is not float32-le");
        if (e.Rows != manifest.Classes.Count || e.Dim != manifest.Onnx.Dim)
            throw new InputFormatException($"{Path.Combine(dir, SidecarFile)}: prompt_embeddings is {e.Rows} × {e.Dim} but the bundle has {manifest.Classes.Count} classes of a {manifest.Onnx.Dim}-d embedding");
        string path = Path.Combine(dir, e.File);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != (long)e.Rows * e.Dim * sizeof(float))
            throw new InputFormatException($"{path}: {bytes.Length} bytes, expected {e.Rows} × {e.Dim} float32 values");
        var rows = new float[e.Rows][];
        for (int r = 0; r < e.Rows; r++)
        {
            rows[r] = new float[e.Dim];
            for (int j = 0; j < e.Dim; j++) rows[r][j] = BitConverter.ToSingle(bytes, (r * e.Dim + j) * sizeof(float));
        }
        return new ModelBundle(dir, manifest, rows);
    }

    /// <summary>Reads and checks the sidecar of <paramref name="directory"/> without checking the files.</summary>
    /// <exception cref="InputFileNotFoundException">The folder or its sidecar is missing.</exception>
    /// <exception cref="InputFormatException">Not valid JSON, another format, or a required field is missing.</exception>
    public static BundleManifest ReadManifest(string directory)
    {
        string dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir)) throw new InputFileNotFoundException($"{dir}: model bundle folder not found");
        string path = Path.Combine(dir, SidecarFile);
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{dir}: not a model bundle (no {SidecarFile}; build one with `deri model build`)");
        BundleManifest? m;
        try
        {
            m = JsonSerializer.Deserialize<BundleManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InputFormatException($"{path}: not a model bundle sidecar ({e.Message})", e);
        }
        if (m is null || m.Format != Format) throw new InputFormatException($"{path}: format is not '{Format}'");
        if (m.FormatVersion != FormatVersion) throw new InputFormatException($"{path}: format_version {m.FormatVersion}; this Deri reads {FormatVersion}");
        m.Preprocessing.Validate();
        return m;
    }

    /// <summary>
    /// Checks that every file the sidecar lists has its recorded SHA-256 and that the folder holds no other file.
    /// </summary>
    /// <returns>The files checked, with their sizes in bytes.</returns>
    /// <exception cref="BundleIntegrityException">The first problem, naming the file.</exception>
    public static IReadOnlyList<(string File, long Bytes)> Verify(string directory, BundleManifest manifest)
    {
        string dir = Path.GetFullPath(directory);
        var checkedFiles = new List<(string, long)>();
        foreach (var (name, sha) in manifest.Files.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            string path = Path.Combine(dir, name.Replace('/', Path.DirectorySeparatorChar));
            if (!Path.GetFullPath(path).StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new BundleIntegrityException($"{Path.Combine(dir, SidecarFile)}: file '{name}' lies outside the bundle");
            if (!File.Exists(path)) throw new BundleIntegrityException($"{path}: missing (listed in {SidecarFile})");
            string actual = Sha256(path);
            if (!string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
                throw new BundleIntegrityException($"{path}: SHA-256 {actual} differs from {sha} recorded in {SidecarFile} (the file was changed after the bundle was built)");
            checkedFiles.Add((name, new FileInfo(path).Length));
        }
        foreach (string name in ListFiles(dir))
            if (name != SidecarFile && !manifest.Files.ContainsKey(name))
                throw new BundleIntegrityException($"{Path.Combine(dir, name)}: not listed in {SidecarFile} (a bundle holds only the files it records)");
        return checkedFiles;
    }

    /// <summary>Every file under <paramref name="dir"/>, as paths relative to it with '/' separators, in ordinal order.</summary>
    public static IReadOnlyList<string> ListFiles(string dir) =>
        System.IO.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// The default bundle: <c>models/deri-ptbxl</c> in the first folder, from <paramref name="start"/> upwards, that
    /// holds a <c>models/deri-ptbxl/model.json</c>; else the same folder beside the application
    /// (<paramref name="appBase"/>, where a published <c>deri</c> may carry it). Null when neither exists.
    /// </summary>
    /// <param name="start">Where the search starts (the working folder).</param>
    /// <param name="appBase">The application's folder (<see cref="AppContext.BaseDirectory"/>).</param>
    public static string? FindDefault(string start, string appBase)
    {
        for (var d = new DirectoryInfo(Path.GetFullPath(start)); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, ModelsFolder, DefaultName);
            if (IsBundle(candidate)) return candidate;
        }
        string beside = Path.Combine(Path.GetFullPath(appBase), ModelsFolder, DefaultName);
        return IsBundle(beside) ? beside : null;
    }

    /// <summary>
    /// The default bundle, or a <see cref="InputFileNotFoundException"/> saying where it was looked for and how to make one.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">No default bundle was found.</exception>
    public static string RequireDefault(string start, string appBase) =>
        FindDefault(start, appBase) ?? throw new InputFileNotFoundException(
            $"no --run given and no default model: looked for {ModelsFolder}/{DefaultName}/{SidecarFile} in {Path.GetFullPath(start)} and every folder above it, " +
            $"and in {Path.Combine(Path.GetFullPath(appBase), ModelsFolder, DefaultName)}; pass --run (a run folder or a bundle) or build the default with `deri model build --out {ModelsFolder}/{DefaultName}`");
}
