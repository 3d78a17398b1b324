using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.IO;

namespace Deri.Training;

/// <summary>
/// The metrics log: one JSON object per line. Every record has <c>kind</c> (<c>train</c>,
/// <c>val</c>, <c>eval</c>, <c>best</c>), <c>epoch</c> (0-based) and <c>step</c> (global optimizer
/// steps done when it was written). <c>train</c> records add <c>lr</c> (the rate used for that step),
/// <c>loss</c> (weighted total), one field per loss term, <c>grad_norm</c> (before clipping, when
/// clipping is on) and <c>samples_per_s</c>; <c>val</c> records the
/// mean loss terms over the validation data; <c>eval</c> the named scores and the selection value;
/// <c>best</c> which epoch became the best checkpoint and on which data. Non-finite numbers are written
/// as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>. Each line is flushed when written.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>Opens <paramref name="path"/> for appending (a new file when <paramref name="append"/> is false).</summary>
    public MetricsLog(string path, bool append)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _writer = new StreamWriter(path, append, new UTF8Encoding(false)) { AutoFlush = true };
    }

    /// <summary>The file written.</summary>
    public string Path { get; }

    /// <summary>Writes one record; values may be numbers, strings, booleans or string→double dictionaries.</summary>
    public void Write(string kind, int epoch, long step, IEnumerable<KeyValuePair<string, object?>> fields)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("kind", kind);
            w.WriteNumber("epoch", epoch);
            w.WriteNumber("step", step);
            foreach (var (name, value) in fields)
            {
                w.WritePropertyName(name);
                WriteValue(w, value);
            }
            w.WriteEndObject();
        }
        _writer.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Reads every record of a metrics log.</summary>
    /// <exception cref="InputFormatException">A line is not a JSON object; the message names file and line.</exception>
    public static List<JsonObject> Read(string path)
    {
        var records = new List<JsonObject>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                records.Add(JsonNode.Parse(line) as JsonObject
                    ?? throw new InputFormatException($"{path}:{lineNo}: not a JSON object"));
            }
            catch (JsonException e)
            {
                throw new InputFormatException($"{path}:{lineNo}: not valid JSON: {e.Message}", e);
            }
        }
        return records;
    }

    /// <summary>
    /// Keeps only the records written up to global step <paramref name="step"/> (rewrites the file
    /// atomically). Used on resume: what an interrupted run logged after its checkpoint is redone.
    /// A torn last line (the process died mid-write) is dropped.
    /// </summary>
    public static void TruncateAfter(string path, long step)
    {
        if (!File.Exists(path)) return;
        var kept = new StringBuilder();
        foreach (string line in File.ReadLines(path))
        {
            JsonObject? record;
            try
            {
                record = JsonNode.Parse(line) as JsonObject;
            }
            catch (JsonException)
            {
                continue;
            }
            if (record?["step"] is JsonValue v && v.TryGetValue(out long s) && s <= step) kept.Append(line).Append('\n');
        }
        AtomicFile.WriteAllText(path, kept.ToString());
    }

    /// <summary>Reads a number written by <see cref="Write"/>, including the non-finite strings.</summary>
    public static double Number(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue(out double d) => d,
        JsonValue v when v.TryGetValue(out string? s) => s switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => throw new InputFormatException($"not a number: '{s}'"),
        },
        _ => throw new InputFormatException($"not a number: {node?.ToJsonString() ?? "null"}"),
    };

    private static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case float f: WriteDouble(w, f); break;
            case double d: WriteDouble(w, d); break;
            case IEnumerable<KeyValuePair<string, double>> dict:
                w.WriteStartObject();
                foreach (var (k, v) in dict)
                {
                    w.WritePropertyName(k);
                    WriteDouble(w, v);
                }
                w.WriteEndObject();
                break;
            default: throw new ArgumentException($"cannot log a value of type {value.GetType().Name}");
        }
    }

    private static void WriteDouble(Utf8JsonWriter w, double d)
    {
        if (double.IsFinite(d)) w.WriteNumberValue(d);
        else w.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}
