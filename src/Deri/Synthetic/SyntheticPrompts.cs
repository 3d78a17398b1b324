using System.Reflection;
using System.Text.Json;
using Deri.IO;

namespace Deri.Synthetic;

/// <summary>
/// Zero-shot class prompts for the synthetic conditions, in the format of <c>CKEPE_prompt.json</c>
/// (a JSON object: label code → description). Every word of a prompt occurs in the synthetic reports of
/// that condition, so a text encoder whose vocabulary is built from those reports can embed it.
/// </summary>
public static class SyntheticPrompts
{
    /// <summary>File name used when the prompts are written next to a synthetic data set.</summary>
    public const string FileName = "synthetic_prompts.json";

    private const string ResourceName = "Deri.Synthetic.Resources.synthetic_prompts.json";

    /// <summary>The embedded JSON text, byte for byte.</summary>
    public static string Json { get; } = ReadResource();

    /// <summary>Label code → prompt, in label-vector order.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = Parse(Json);

    /// <summary>Writes the prompts JSON to <paramref name="path"/> (atomically).</summary>
    public static void WriteTo(string path) => AtomicFile.WriteAllText(path, Json);

    private static string ReadResource()
    {
        using var s = typeof(SyntheticPrompts).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from {typeof(SyntheticPrompts).Assembly.GetName().Name}");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }

    private static Dictionary<string, string> Parse(string json)
    {
        var d = JsonSerializer.Deserialize<Dictionary<string, string>>(json)
            ?? throw new InvalidOperationException($"{ResourceName} is not a JSON object");
        var ordered = new Dictionary<string, string>();
        foreach (string code in EcgConditions.Codes)
            ordered[code] = d.TryGetValue(code, out var p) ? p : throw new InvalidOperationException($"{ResourceName} has no prompt for label {code}");
        return ordered;
    }
}
