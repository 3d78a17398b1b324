using System.Text.Json;
using Deri.IO;

namespace Deri.Evaluation;

/// <summary>
/// Zero-shot class prompts in the CKEPE format of the DERI/MERL release (<c>CKEPE_prompt.json</c>):
/// one JSON object mapping each class label (e.g. "NORM", "AFIB") to a clinical description.
/// </summary>
public sealed class ClassPrompts
{
    private readonly Dictionary<string, string> _descriptions;

    private ClassPrompts(string source, Dictionary<string, string> descriptions)
    {
        Source = source;
        _descriptions = descriptions;
    }

    /// <summary>Where the prompts came from (a file path, or a caller-given name).</summary>
    public string Source { get; }

    /// <summary>Label → description, as written in the file.</summary>
    public IReadOnlyDictionary<string, string> Descriptions => _descriptions;

    /// <summary>Reads a CKEPE prompt file.</summary>
    /// <exception cref="InputFormatException">Not a JSON object of non-empty strings, or a label appears twice.</exception>
    public static ClassPrompts Load(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: prompt file not found", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses CKEPE JSON text; <paramref name="source"/> names it in error messages.</summary>
    public static ClassPrompts Parse(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InputFormatException($"{source}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InputFormatException($"{source}: expected a JSON object mapping class labels to descriptions, found {doc.RootElement.ValueKind}");
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(p.Value.GetString()))
                    throw new InputFormatException($"{source}: the description of '{p.Name}' must be a non-empty string");
                if (!d.TryAdd(p.Name, p.Value.GetString()!))
                    throw new InputFormatException($"{source}: label '{p.Name}' appears twice");
            }
            if (d.Count == 0) throw new InputFormatException($"{source}: no prompts");
            return new ClassPrompts(source, d);
        }
    }

    /// <summary>
    /// The texts to encode for <paramref name="classNames"/>, in that order: each description lower-cased
    /// (invariant culture), as the release does (<c>texts.lower()</c>) before tokenising.
    /// </summary>
    /// <exception cref="InputFormatException">Some classes have no prompt; all of them are named.</exception>
    public IReadOnlyList<string> TextsFor(IReadOnlyList<string> classNames)
    {
        var missing = classNames.Where(c => !_descriptions.ContainsKey(c)).ToList();
        if (missing.Count > 0)
            throw new InputFormatException($"{Source}: no prompt for class(es) {string.Join(", ", missing)}");
        return classNames.Select(c => _descriptions[c].ToLowerInvariant()).ToList();
    }
}
