using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.Config;
using Deri.IO;
using Deri.Training;
using Deri.Weights;

namespace Deri.Pretraining;

/// <summary>
/// Exports a pretrained run's weights for use outside Deri: <c>model.safetensors</c> (the DERI/MERL model, or an
/// ECG-only baseline's method, under its PyTorch state-dict names), <c>config.json</c> (the run's resolved config, with the YAML key names), and,
/// when the text encoder was trained jointly, <c>text/</c> as a Hugging Face BERT folder.
/// </summary>
public static class RunExporter
{
    /// <summary>Writes the export of <paramref name="run"/> into <paramref name="directory"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Export(PretrainedRun run, string directory)
    {
        Directory.CreateDirectory(directory);
        string weights = Path.Combine(directory, "model.safetensors");
        // A baseline run exports its whole method (encoder, heads, momentum networks) under its state-dict names.
        StateDictLoader.Save(run.IsEcgText ? run.Module.Model : run.Network, weights, new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["deri_checkpoint"] = run.CheckpointPath,
        });
        string config = Path.Combine(directory, "config.json");
        string json = ToJson(run.Config).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.WriteAllText(config, json);
        var files = new List<string> { weights, config };
        if (run.IsEcgText && !run.Module.TextEncoder.Frozen)
        {
            string text = Path.Combine(directory, "text");
            run.Module.TextEncoder.Save(text);
            files.Add(text);
        }
        return files;
    }

    /// <summary>The config as a JSON object with the same keys as its YAML form.</summary>
    public static JsonNode ToJson(object? value) => value switch
    {
        null => JsonValue.Create((string?)null)!,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int or long or double or float => JsonValue.Create(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture)),
        IDictionary d => new JsonObject(d.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString()!, (JsonNode?)ToJson(d[k])))),
        IEnumerable e => new JsonArray(e.Cast<object?>().Select(x => (JsonNode?)ToJson(x)).ToArray()),
        Enum en => JsonValue.Create(en.ToString()),
        _ => new JsonObject(value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0)
            .Select(p => KeyValuePair.Create(ConfigLoader.KeyOf(p), (JsonNode?)ToJson(p.GetValue(value))))),
    };
}
