using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Deri.Config;
using Deri.IO;
using Deri.Pretraining;
using Deri.Text;
using Deri.Training;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Interop.Import;

/// <summary>What <c>deri import</c> is asked to do.</summary>
/// <param name="Source">The checkpoint (<c>.pt</c>, <c>.pth</c>, <c>.safetensors</c>).</param>
/// <param name="Method">network.method of the run: deri, merl or an ECG-only baseline.</param>
/// <param name="Config">A config file describing the architecture (null: the defaults with <paramref name="Method"/>).</param>
/// <param name="Output">The run folder to create.</param>
/// <param name="Vocabulary">A WordPiece vocab.txt for a <c>network.text_model: scratch</c> text encoder, or null.</param>
/// <param name="AllowMissing">Module key prefixes that may be absent from the checkpoint (they keep their initialisation).</param>
/// <param name="Overrides"><c>--set key=value</c> config overrides.</param>
public sealed record ImportOptions(string Source, string Method, string? Config, string Output, string? Vocabulary = null,
    IReadOnlyList<string>? AllowMissing = null, IReadOnlyList<string>? Overrides = null);

/// <summary>What an import loaded.</summary>
/// <param name="Run">The run folder.</param>
/// <param name="Loaded">Module keys that received a tensor.</param>
/// <param name="Renamed">Checkpoint key → module key, for every key whose name was mapped.</param>
/// <param name="MissingAllowed">Module keys absent from the checkpoint, allowed by a prefix (left at initialisation).</param>
/// <param name="Unexpected">Checkpoint keys that match nothing in the module (not loaded).</param>
/// <param name="Notes">Lines for the user: what was stripped, what the text side is.</param>
public sealed record ImportReport(string Run, IReadOnlyList<string> Loaded, IReadOnlyDictionary<string, string> Renamed,
    IReadOnlyList<string> MissingAllowed, IReadOnlyList<string> Unexpected, IReadOnlyList<string> Notes);

/// <summary>
/// <c>deri import</c>: turns a PyTorch checkpoint of DERI, MERL or a baseline into a Deri run folder (<c>config.yaml</c>,
/// <c>best.ckpt</c> and <c>last.ckpt</c> in the checkpoint format of <see cref="Checkpoint"/>, <c>import_report.json</c>)
/// that zeroshot, probe, embed, export and report train open like a trained run. Keys are mapped by explicit rules
/// (<see cref="MapKey"/>); a shape mismatch is refused naming the key, a module key the checkpoint lacks is refused
/// unless a prefix allows it, and checkpoint keys that match nothing are listed.
/// </summary>
public static class CheckpointImporter
{
    /// <summary>File name of the import report in the run folder.</summary>
    public const string ReportFile = "import_report.json";

    // MERL's release keeps a block's 1×1 projection under `shortcut`, torchvision (and Deri) under `downsample`.
    private static readonly Regex Shortcut = new(@"^(ecg_encoder\.layer\d+\.\d+\.)shortcut\.(\d+\.)", RegexOptions.Compiled);

    /// <summary>
    /// The module key a checkpoint key of the authors' releases corresponds to, or null when it has no counterpart.
    /// DERI's release uses Deri's names (which follow it). MERL's release (github.com/cheliu-computation/MERL-ICML2024)
    /// names a ResNet block's projection <c>shortcut.0/1</c> where Deri has <c>downsample.0/1</c>, and its
    /// <c>att_pool_head</c> is a CLIP-style pooling (a class token queried against the tokens, <c>mhsa</c>, <c>c_proj</c>)
    /// that Deri's models do not have: with <paramref name="merlReleasePool"/> its keys map to nothing.
    /// Other keys are kept as they are.
    /// </summary>
    public static string? MapKey(string key, bool merlReleasePool)
    {
        if (merlReleasePool && key.StartsWith("att_pool_head.", StringComparison.Ordinal)) return null;
        return Shortcut.Replace(key, "$1downsample.$2");
    }

    /// <summary>Whether a state dict has the MERL release's CLIP-style attention pooling (a class token and an output projection).</summary>
    public static bool HasMerlReleasePool(IEnumerable<string> keys) =>
        keys.Any(k => k is "att_pool_head.cls_token" or "att_pool_head.c_proj.weight");

    /// <summary>Runs the import; returns its report (also written to <c>RUN/import_report.json</c>).</summary>
    /// <exception cref="IOException">The output folder already holds a run.</exception>
    /// <exception cref="InputFormatException">Unreadable checkpoint, shape mismatches or missing keys (each named).</exception>
    public static ImportReport Import(ImportOptions options)
    {
        string run = Path.GetFullPath(options.Output);
        if (File.Exists(Path.Combine(run, "config.yaml")))
            throw new OutputPathException($"{run}: a run is already there (config.yaml); choose another --out");
        var overrides = new List<string>(options.Overrides ?? []) { $"network.method={options.Method}" };
        var config = DeriConfig.Load(options.Config, overrides);
        using var source = TorchCheckpointReader.Read(options.Source);
        var notes = new List<string>();
        if (source.Container.Count > 0) notes.Add($"state dict taken from '{string.Join("/", source.Container)}'");
        if (source.StrippedPrefix is { } p) notes.Add($"prefix '{p}' removed from every key");

        bool created = !Directory.Exists(run);
        Directory.CreateDirectory(run);
        try
        {
            return ImportInto(run, config, source, options, notes);
        }
        catch when (created)
        {
            // A refused import leaves no half run folder behind.
            Directory.Delete(run, recursive: true);
            throw;
        }
    }

    private static ImportReport ImportInto(string run, DeriConfig config, TorchStateDict source, ImportOptions options, List<string> notes)
    {
        bool ecgText = !MethodNames.IsEcgOnly(config.Network.Method);
        if (ecgText && TextModelSetting.IsScratch(TextModelSetting.Resolve(config.Network.TextModel)))
        {
            if (options.Vocabulary is null)
                throw new InputValueException($"network.text_model is {TextModelSetting.Scratch}: give --vocab FILE (the vocab.txt of the text encoder the checkpoint was trained with)");
            string vocab = Path.Combine(run, Pretrainer.TextFolder, "vocab.txt");
            Directory.CreateDirectory(Path.GetDirectoryName(vocab)!);
            AtomicFile.Copy(options.Vocabulary, vocab);
        }

        nn.Module module, target;
        if (ecgText)
        {
            var built = Pretrainer.Build(config, run, () => throw new InvalidOperationException("the vocabulary was copied above"), CPU);
            module = built;
            target = built.Model;
            notes.Add(built.TextEncoder.Frozen
                ? $"text encoder: {config.Network.TextModel} (frozen, loaded from its folder as in training; not read from the checkpoint)"
                : "text encoder: network.text_model: scratch, initialised randomly unless the checkpoint's keys name it (allow-missing 'text.')");
        }
        else
        {
            (module, config) = Pretrainer.BuildSsl(config, totalSteps: 0, CPU);
            target = module;
        }
        try
        {
            var report = Load(module, target, ecgText, source, options.AllowMissing ?? [], notes, run);
            string configPath = Path.Combine(run, "config.yaml");
            ConfigLoader.Save(config, configPath);
            var info = new CheckpointInfo { ConfigYaml = File.ReadAllText(configPath), SavedUtc = DateTime.UtcNow.ToString("o") };
            string best = Path.Combine(run, "best.ckpt");
            Checkpoint.Save(best, info, module, optimizer: null);
            AtomicFile.Copy(best, Path.Combine(run, "last.ckpt"));
            AtomicFile.WriteAllText(Path.Combine(run, ReportFile), ToJson(report, options).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return report;
        }
        finally
        {
            module.Dispose();
        }
    }

    // Copies the mapped tensors into the ECG side (DeriModel, keys as DeriModel names them) or the baseline method; the scratch
    // text encoder of a DERI/MERL module is matched under its module name `text.`.
    private static ImportReport Load(nn.Module module, nn.Module target, bool ecgText, TorchStateDict source, IReadOnlyList<string> allowMissing,
        List<string> notes, string run)
    {
        var renamed = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var mapped = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        bool merlPool = HasMerlReleasePool(source.Tensors.Keys);
        if (merlPool)
            notes.Add("att_pool_head: the checkpoint has MERL's release pooling (cls_token, mhsa, c_proj), which Deri's models do not have: " +
                      "not loaded, so Deri's att_pool_head stays at its initialisation and the aligned/mixed/zeroshot features are not the release's " +
                      "(the encoder and global features are)");
        foreach (var (key, value) in source.Tensors)
        {
            if (MapKey(key, merlPool) is not { } to)
            {
                unexpected.Add(key);
                continue;
            }
            if (to != key) renamed[key] = to;
            if (!mapped.TryAdd(to, value)) throw new InputFormatException($"{source.Path}: keys '{key}' and another both map to '{to}'");
        }
        // Module keys: the model's own names, plus `text.*` for a trainable text encoder of the pretraining module.
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        void Add(nn.Module owner, Func<string, bool> keep)
        {
            foreach (var (name, t) in owner.named_parameters()) if (keep(name)) targets[name] = t;
            foreach (var (name, t) in owner.named_buffers()) if (keep(name)) targets.TryAdd(name, t);
        }
        Add(target, _ => true);
        if (ecgText) Add(module, name => name.StartsWith("text.", StringComparison.Ordinal));
        Tensor Dest(string key) => targets[key];

        var mismatched = new List<ShapeMismatch>();
        var plan = new List<(string Key, Tensor Value)>();
        foreach (var (key, value) in mapped)
        {
            if (!targets.ContainsKey(key))
            {
                unexpected.Add(key);
                continue;
            }
            var dest = Dest(key);
            if (!dest.shape.SequenceEqual(value.shape)) mismatched.Add(new ShapeMismatch(key, dest.shape, value.shape));
            else plan.Add((key, value));
        }
        if (mismatched.Count > 0)
            throw new InputFormatException($"{source.Path}: shapes differ from the configured model (check --config): {string.Join("; ", mismatched)}");
        var missing = targets.Keys.Where(k => !mapped.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var refused = missing.Where(k => !allowMissing.Any(a => k.StartsWith(a, StringComparison.Ordinal))).ToList();
        if (refused.Count > 0)
            throw new InputFormatException(
                $"{source.Path}: {refused.Count} module keys have no tensor in the checkpoint: {string.Join(", ", refused.Take(40))}{(refused.Count > 40 ? ", …" : "")}" +
                (unexpected.Count > 0 ? $"; checkpoint keys that match nothing: {string.Join(", ", unexpected.Take(40))}" : "") +
                " (a wrong --config or --method? To keep parts at their initialisation, name their prefixes with --allow-missing)");
        if (plan.Count == 0) throw new InputFormatException($"{source.Path}: no checkpoint key matches the module");
        using (no_grad())
            foreach (var (key, value) in plan) Dest(key).copy_(value);
        if (missing.Count > 0) notes.Add($"{missing.Count} module keys left at their initialisation (allowed): prefixes {string.Join(", ", allowMissing)}");
        if (unexpected.Count > 0) notes.Add($"{unexpected.Count} checkpoint keys not loaded (no counterpart in the module)");
        unexpected.Sort(StringComparer.Ordinal);
        return new ImportReport(run, plan.Select(x => x.Key).Order(StringComparer.Ordinal).ToList(), renamed, missing, unexpected, notes);
    }

    private static JsonObject ToJson(ImportReport r, ImportOptions o) => new()
    {
        ["source"] = Path.GetFullPath(o.Source),
        ["method"] = o.Method,
        ["config"] = o.Config is null ? null : Path.GetFullPath(o.Config),
        ["loaded"] = r.Loaded.Count,
        ["renamed"] = new JsonObject(r.Renamed.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        ["missing_allowed"] = new JsonArray(r.MissingAllowed.Select(k => (JsonNode?)JsonValue.Create(k)).ToArray()),
        ["unexpected"] = new JsonArray(r.Unexpected.Select(k => (JsonNode?)JsonValue.Create(k)).ToArray()),
        ["notes"] = new JsonArray(r.Notes.Select(k => (JsonNode?)JsonValue.Create(k)).ToArray()),
    };
}
