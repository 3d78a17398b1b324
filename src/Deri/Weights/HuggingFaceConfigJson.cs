using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.IO;

namespace Deri.Weights;

/// <summary>
/// Typed reading of a Hugging Face <c>config.json</c>: each getter returns the field or a fallback when it is
/// absent, and a field of the wrong type is an <see cref="InputFormatException"/> naming the file and key.
/// Shared by the BERT and GPT-2 config loaders.
/// </summary>
public sealed class HuggingFaceConfigJson
{
    private readonly JsonObject root;

    private HuggingFaceConfigJson(string path, JsonObject root)
    {
        Path = path;
        this.root = root;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>Reads <paramref name="path"/>; <paramref name="what"/> names the config in the not-found message (e.g. <c>BERT config</c>).</summary>
    /// <exception cref="InputFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFormatException">The file is not a JSON object.</exception>
    public static HuggingFaceConfigJson Read(string path, string what)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: {what} not found", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InputFormatException($"{path}: config is not a JSON object");
            return new HuggingFaceConfigJson(path, root);
        }
        catch (JsonException e)
        {
            throw new InputFormatException($"{path}: config is not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Whether the field is present (and not null).</summary>
    public bool Has(string key) => root[key] is not null;

    /// <summary>An integer field, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string key, int fallback) => root[key] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<int>(out var x) => x,
        _ => throw new InputFormatException($"{Path}: '{key}' must be an integer"),
    };

    /// <summary>A numeric field, or <paramref name="fallback"/> when absent.</summary>
    public double Real(string key, double fallback) => root[key] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<double>(out var x) => x,
        _ => throw new InputFormatException($"{Path}: '{key}' must be a number"),
    };

    /// <summary>A boolean field, or <paramref name="fallback"/> when absent.</summary>
    public bool Flag(string key, bool fallback) => root[key] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<bool>(out var x) => x,
        _ => throw new InputFormatException($"{Path}: '{key}' must be true or false"),
    };

    /// <summary>A string field, or null when absent or not a string.</summary>
    public string? Text(string key) => root[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
