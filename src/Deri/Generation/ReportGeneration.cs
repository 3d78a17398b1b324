using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.Generation.Decoder;
using Deri.IO;
using Deri.Signals;
using static TorchSharp.torch;

namespace Deri.Generation;

/// <summary>One generated report.</summary>
/// <param name="Id">Record id (the store's id, or the record file's name without extension).</param>
/// <param name="Report">The generated text.</param>
/// <param name="Reference">The reference report when known (store records), else null.</param>
public sealed record GeneratedReport(string Id, string Report, string? Reference);

/// <summary>A record that could not be read or preprocessed, and why.</summary>
/// <param name="Path">The record path given.</param>
/// <param name="Reason">The error message.</param>
public sealed record SkippedRecord(string Path, string Reason);

/// <summary>Generated reports and the records skipped on the way.</summary>
/// <param name="Reports">One per readable record, in input order.</param>
/// <param name="Skipped">Unreadable records.</param>
public sealed record GenerationResult(IReadOnlyList<GeneratedReport> Reports, IReadOnlyList<SkippedRecord> Skipped);

/// <summary>Generates reports for a store split or for raw record files, and writes them as CSV or JSONL.</summary>
public static class ReportGeneration
{
    /// <summary>Splits a store may have.</summary>
    public static readonly IReadOnlyList<string> Splits = ["train", "val", "test"];

    /// <summary>Reports for the records of <paramref name="split"/> in <paramref name="store"/>, references included.</summary>
    /// <exception cref="ArgumentException">The split name is not train/val/test.</exception>
    /// <exception cref="InputFormatException">The split is empty or the store's records do not fit the model.</exception>
    public static IReadOnlyList<GeneratedReport> FromStore(ReportRun run, EcgStore store, string split, DecodingOptions options, int batchSize,
        Action<int, int>? progress = null)
    {
        if (!Splits.Contains(split)) throw new InputValueException($"split must be one of {string.Join(", ", Splits)}, got '{split}'");
        if (batchSize < 1) throw new InputValueException($"batch size must be positive, got {batchSize}");
        run.Pretrained.CheckStore(store);
        var rows = store.IndicesOf(split);
        if (rows.Length == 0) throw new InputFormatException($"{store.Directory}: the store has no '{split}' records");
        var result = new List<GeneratedReport>(rows.Length);
        for (int start = 0; start < rows.Length; start += batchSize)
        {
            var batch = rows.AsSpan(start, Math.Min(batchSize, rows.Length - start)).ToArray();
            using var scope = NewDisposeScope();
            var texts = run.Generate(store.ReadTensor(batch, run.Device), options);
            for (int i = 0; i < batch.Length; i++)
                result.Add(new GeneratedReport(store.Entries[batch[i]].Id, texts[i], store.Entries[batch[i]].Report));
            progress?.Invoke(result.Count, rows.Length);
        }
        return result;
    }

    /// <summary>
    /// Reports for raw record files (any format <see cref="RecordReader"/> reads), preprocessed with <paramref name="preprocess"/>
    /// (the training store's, from its <c>index.json</c>). A record that cannot be read or preprocessed is skipped and listed.
    /// </summary>
    /// <exception cref="InputFormatException">The preprocessing does not produce the model's input shape, or no record could be read.</exception>
    public static GenerationResult FromRecords(ReportRun run, IReadOnlyList<string> paths, PreprocessConfig preprocess, DecodingOptions options,
        int batchSize)
    {
        if (batchSize < 1) throw new InputValueException($"batch size must be positive, got {batchSize}");
        var model = run.Model.EcgModel;
        if (model.Leads != PreprocessConfig.Leads || model.InputLength != preprocess.TargetLength)
            throw new InputFormatException(
                $"the preprocessing gives {PreprocessConfig.Leads} leads × {preprocess.TargetLength} samples but the model takes {model.Leads} × {model.InputLength}");
        var pre = new EcgPreprocessor(preprocess);
        var reports = new List<GeneratedReport>();
        var skipped = new List<SkippedRecord>();
        var ids = new List<string>();
        var signals = new List<float[]>();

        void Flush()
        {
            if (ids.Count == 0) return;
            using var scope = NewDisposeScope();
            var flat = new float[ids.Count * pre.OutputSize];
            for (int i = 0; i < ids.Count; i++) signals[i].CopyTo(flat, i * pre.OutputSize);
            var ecg = tensor(flat).view(ids.Count, PreprocessConfig.Leads, preprocess.TargetLength).clone();
            var texts = run.Generate(ecg, options);
            for (int i = 0; i < ids.Count; i++) reports.Add(new GeneratedReport(ids[i], texts[i], null));
            ids.Clear();
            signals.Clear();
        }

        foreach (string path in paths)
        {
            var buffer = new float[pre.OutputSize];
            try
            {
                pre.ProcessFile(path, buffer);
            }
            catch (Exception e) when (e is EcgFormatException or InputFormatException or IOException or UnauthorizedAccessException)
            {
                skipped.Add(new SkippedRecord(path, e.Message));
                continue;
            }
            ids.Add(RecordId(path));
            signals.Add(buffer);
            if (ids.Count == batchSize) Flush();
        }
        Flush();
        // Every record failing is an input error, not an empty result: nothing would show it but a blank output file.
        if (reports.Count == 0)
            throw new InputFormatException($"none of the {paths.Count} records could be read: " +
                string.Join("; ", skipped.Take(5).Select(s => $"{s.Path}: {s.Reason}")) + (skipped.Count > 5 ? $"; … ({skipped.Count - 5} more)" : ""));
        return new GenerationResult(reports, skipped);
    }

    /// <summary>A record's id: its file name without the extension (<c>a/b/00001_lr.hea</c> → <c>00001_lr</c>).</summary>
    public static string RecordId(string path) => Path.GetFileNameWithoutExtension(path);

    /// <summary>
    /// Writes <paramref name="reports"/> atomically: JSON lines (<c>id</c>, <c>report</c>, <c>reference</c> when known) when the
    /// path ends in <c>.jsonl</c>, otherwise CSV with the header <c>id,report[,reference]</c> (RFC 4180 quoting).
    /// </summary>
    public static void Write(string path, IReadOnlyList<GeneratedReport> reports)
    {
        bool withRef = reports.Any(r => r.Reference is not null);
        var sb = new StringBuilder();
        if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            foreach (var r in reports)
            {
                var o = new JsonObject { ["id"] = r.Id, ["report"] = r.Report };
                if (r.Reference is not null) o["reference"] = r.Reference;
                sb.Append(o.ToJsonString()).Append('\n');
            }
        }
        else
        {
            sb.Append(withRef ? "id,report,reference\n" : "id,report\n");
            foreach (var r in reports)
            {
                sb.Append(Csv(r.Id)).Append(',').Append(Csv(r.Report));
                if (withRef) sb.Append(',').Append(Csv(r.Reference ?? ""));
                sb.Append('\n');
            }
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Reads a JSON-lines file written by <see cref="Write"/>.</summary>
    /// <exception cref="InputFormatException">A line is not an object with string <c>id</c> and <c>report</c>.</exception>
    public static List<GeneratedReport> ReadJsonl(string path)
    {
        var result = new List<GeneratedReport>();
        int n = 0;
        foreach (string line in File.ReadLines(path))
        {
            n++;
            if (line.Trim().Length == 0) continue;
            try
            {
                var o = JsonNode.Parse(line)!.AsObject();
                result.Add(new GeneratedReport((string)o["id"]!, (string)o["report"]!, (string?)o["reference"]));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new InputFormatException($"{path}:{n.ToString(CultureInfo.InvariantCulture)}: not a generated-report line ({e.Message})", e);
            }
        }
        return result;
    }

    private static string Csv(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
