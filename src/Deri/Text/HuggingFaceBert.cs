using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.Weights;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Text;

/// <summary>
/// Loads a BERT from a local Hugging Face model folder (<c>config.json</c>, <c>model.safetensors</c>,
/// <c>vocab.txt</c>, optional <c>tokenizer_config.json</c>), e.g. a copy of
/// <c>ncbi/MedCPT-Query-Encoder</c> or any BERT-base.
/// </summary>
public static class HuggingFaceBert
{
    /// <summary>The one-line conversion of <c>pytorch_model.bin</c> to <c>model.safetensors</c>, run in the model folder.</summary>
    public const string ConvertCommand =
        "python -c \"import torch; from safetensors.torch import save_file; " +
        "sd = torch.load('pytorch_model.bin', map_location='cpu'); " +
        "save_file({k: v.contiguous() for k, v in sd.items()}, 'model.safetensors', metadata={'format': 'pt'})\"";

    /// <summary>Checkpoint keys that are expected and skipped: the legacy position-id buffer.</summary>
    public static readonly IReadOnlyList<string> IgnoredKeys = ["embeddings.position_ids"];

    /// <summary>Prefixes of task heads saved beside the encoder (masked-LM, NSP), skipped.</summary>
    public static readonly IReadOnlyList<string> HeadPrefixes = ["cls.", "qa_outputs.", "classifier."];

    /// <summary>Reads the folder's <c>config.json</c>.</summary>
    public static BertConfig ReadConfig(string folder) => BertConfig.Load(Require(folder, "config.json"));

    /// <summary>
    /// Whether the folder's tokenizer lower-cases: <c>do_lower_case</c> of <c>tokenizer_config.json</c>,
    /// true (uncased BERT, as MedCPT) when the file or field is absent.
    /// </summary>
    public static bool ReadLowerCase(string folder)
    {
        string path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path)) return true;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InputFormatException($"{path}: not a JSON object");
            return root["do_lower_case"] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : true;
        }
        catch (JsonException e)
        {
            throw new InputFormatException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>
    /// Builds the BERT of <c>config.json</c> and loads <c>model.safetensors</c> into it. The encoder's
    /// keys must all be present with matching shapes; a <c>bert.</c> prefix, the legacy
    /// <c>embeddings.position_ids</c> buffer and task heads (<see cref="HeadPrefixes"/>) are tolerated. A checkpoint with
    /// neither <c>pooler.dense.weight</c> nor <c>pooler.dense.bias</c> (a BERT saved with <c>add_pooling_layer=False</c>,
    /// such as snowflake-arctic-embed) gives a model without a pooler; one of the two alone is an error.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">A file is missing; when only <c>pytorch_model.bin</c> exists the message gives <see cref="ConvertCommand"/>.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the config.</exception>
    public static (BertModel Model, StateDictReport Report) LoadModel(string folder)
    {
        var config = ReadConfig(folder);
        string weights = Path.Combine(folder, "model.safetensors");
        if (!File.Exists(weights))
        {
            if (File.Exists(Path.Combine(folder, "pytorch_model.bin")))
                throw new InputFileNotFoundException(
                    $"{folder}: has only pytorch_model.bin (a Python pickle, which Deri does not read); convert it to model.safetensors once, in that folder: {ConvertCommand}",
                    weights);
            throw new InputFileNotFoundException($"{folder}: model.safetensors not found", weights);
        }
        var tensors = RenameLegacyKeys(SafeTensors.Load(weights));
        BertModel? model = null;
        try
        {
            var header = tensors.Keys.Select(k => k.StartsWith("bert.", StringComparison.Ordinal) ? k["bert.".Length..] : k).ToHashSet(StringComparer.Ordinal);
            bool pooler = header.Contains("pooler.dense.weight") || header.Contains("pooler.dense.bias");
            model = new BertModel(config, addPoolingLayer: pooler);
            var heads = tensors.Keys.Where(k => HeadPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)));
            var report = StateDictLoader.Load(model, tensors, source: weights, ignore: [.. IgnoredKeys, .. heads]);
            return (model, report);
        }
        catch
        {
            model?.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>sentence-transformers' pooling settings inside a model folder.</summary>
    public const string PoolingFile = "1_Pooling/config.json";

    /// <summary>
    /// How the folder's model pools: <c>1_Pooling/config.json</c> (sentence-transformers) when present —
    /// <c>pooling_mode_mean_tokens</c> → <see cref="TextPooling.Mean"/>, <c>pooling_mode_cls_token</c> →
    /// <see cref="TextPooling.Cls"/> — else <see cref="TextPooling.Pooler"/> (BERT's <c>pooler_output</c>, as for MedCPT).
    /// </summary>
    /// <exception cref="InputFormatException">The file is not JSON, or asks for none or several of those modes, or another (max, weighted, last token).</exception>
    public static TextPooling ReadPooling(string folder)
    {
        string path = Path.Combine(folder, PoolingFile);
        if (!File.Exists(path)) return TextPooling.Pooler;
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InputFormatException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InputFormatException($"{path}: not valid JSON ({e.Message})", e);
        }
        var on = root.Where(p => p.Key.StartsWith("pooling_mode_", StringComparison.Ordinal) && p.Value is JsonValue v && v.TryGetValue<bool>(out var b) && b)
            .Select(p => p.Key).ToList();
        return on switch
        {
            ["pooling_mode_mean_tokens"] => TextPooling.Mean,
            ["pooling_mode_cls_token"] => TextPooling.Cls,
            _ => throw new InputFormatException(
                $"{path}: pooling {(on.Count == 0 ? "none" : string.Join(" + ", on))} is not supported (exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token)"),
        };
    }

    /// <summary>
    /// Writes <c>1_Pooling/config.json</c> for <see cref="TextPooling.Mean"/> or <see cref="TextPooling.Cls"/>; for
    /// <see cref="TextPooling.Pooler"/> removes it (the default when it is absent).
    /// </summary>
    public static void SavePooling(string folder, TextPooling pooling, int hiddenSize)
    {
        string path = Path.Combine(folder, PoolingFile);
        if (pooling == TextPooling.Pooler)
        {
            if (File.Exists(path)) File.Delete(path);
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var root = new JsonObject
        {
            ["word_embedding_dimension"] = hiddenSize,
            ["pooling_mode_cls_token"] = pooling == TextPooling.Cls,
            ["pooling_mode_mean_tokens"] = pooling == TextPooling.Mean,
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
        };
        IO.AtomicFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>
    /// Renames the LayerNorm parameters of TensorFlow-converted checkpoints (<c>LayerNorm.gamma</c>,
    /// <c>LayerNorm.beta</c>) to <c>weight</c> and <c>bias</c>, as the Hugging Face loader does.
    /// </summary>
    public static Dictionary<string, Tensor> RenameLegacyKeys(Dictionary<string, Tensor> tensors)
    {
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in tensors)
        {
            string name = key.EndsWith("LayerNorm.gamma", StringComparison.Ordinal) ? key[..^"gamma".Length] + "weight"
                : key.EndsWith("LayerNorm.beta", StringComparison.Ordinal) ? key[..^"beta".Length] + "bias"
                : key;
            renamed[name] = value;
        }
        return renamed;
    }

    /// <summary>The folder's <c>vocab.txt</c> as a tokenizer, with the folder's lower-casing.</summary>
    public static TextTokenizer LoadTokenizer(string folder, int maxLength = TextTokenizer.DefaultMaxLength) =>
        TextTokenizer.Create(Require(folder, "vocab.txt"), ReadLowerCase(folder), maxLength);

    /// <summary>
    /// Writes a model folder that <see cref="LoadModel"/> and <see cref="LoadTokenizer"/> read back:
    /// <c>config.json</c>, <c>model.safetensors</c>, <c>vocab.txt</c> (copied), <c>tokenizer_config.json</c> and, for
    /// mean or [CLS] pooling, <see cref="PoolingFile"/>.
    /// </summary>
    public static void Save(string folder, BertModel model, TextTokenizer tokenizer, TextPooling pooling = TextPooling.Pooler)
    {
        Directory.CreateDirectory(folder);
        model.Config.Save(Path.Combine(folder, "config.json"));
        StateDictLoader.Save(model, Path.Combine(folder, "model.safetensors"), new Dictionary<string, string> { ["format"] = "pt" });
        string vocab = Path.Combine(folder, "vocab.txt");
        if (!string.Equals(Path.GetFullPath(vocab), Path.GetFullPath(tokenizer.VocabPath), StringComparison.Ordinal))
            IO.AtomicFile.Copy(tokenizer.VocabPath, vocab);
        var tokConfig = new JsonObject { ["do_lower_case"] = tokenizer.LowerCase, ["model_max_length"] = tokenizer.MaxLength };
        IO.AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        SavePooling(folder, pooling, model.Config.HiddenSize);
    }

    private static string Require(string folder, string file)
    {
        if (!Directory.Exists(folder)) throw new InputFileNotFoundException($"{folder}: model folder not found");
        string path = Path.Combine(folder, file);
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{folder}: {file} not found (expected a Hugging Face BERT folder)", path);
        return path;
    }
}
