using System.Globalization;
using System.Text;
using System.Text.Json;
using Deri.Serving.Fhir;
using Deri.Signals;
using Deri.IO;

namespace Deri.Serving;

/// <summary>How <see cref="RecordAnalysis"/> writes each result.</summary>
public enum AnalysisFormat
{
    /// <summary>A short human reading: findings at or above threshold, measurements, report (several lines per record).</summary>
    Text,
    /// <summary>One <see cref="AnalysisResult"/> per line, serialised as <c>POST /api/v1/analyze</c> answers (JSON Lines).</summary>
    Json,
    /// <summary>One HL7 FHIR R4 Bundle per line (NDJSON, as FHIR bulk data writes resources).</summary>
    Fhir,
}

/// <summary>What <see cref="RecordAnalysis.Run"/> did.</summary>
/// <param name="Analysed">Records analysed.</param>
/// <param name="Skipped">Records skipped (unreadable, or not fitting the model).</param>
public sealed record AnalysisSummary(int Analysed, int Skipped);

/// <summary>
/// <c>deri analyze</c>: record files on disk through the same <see cref="InferenceService"/> as <c>deri serve</c>, in
/// process. Records are read and queued up to <see cref="ServiceOptions.MaxBatch"/> at a time, so they share batched
/// forward passes; results come out in the order of the paths.
/// </summary>
public static class RecordAnalysis
{
    /// <summary>Limits for files given on the command line: the service's, but up to 10 minutes and 1 GB.</summary>
    public static UploadLimits FileLimits { get; } = new() { MaxBytes = 1L << 30, MaxSeconds = 600 };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Analyses <paramref name="paths"/>, giving each result to <paramref name="emit"/> (one string per record:
    /// one line for json and fhir, several for text) and each unusable file to <paramref name="skip"/> with its problem.</summary>
    /// <param name="service">The loaded service.</param>
    /// <param name="paths">Record files (see <see cref="UploadReader.ReadPath"/>).</param>
    /// <param name="rate">Sampling rate (Hz) of CSV files, as text; null when none are given.</param>
    /// <param name="format">Output format.</param>
    /// <param name="emit">Receives each record's output, in path order.</param>
    /// <param name="skip">Receives the path and problem of each skipped file.</param>
    public static AnalysisSummary Run(InferenceService service, IReadOnlyList<string> paths, string? rate, AnalysisFormat format,
        Action<string> emit, Action<string, string> skip)
    {
        int analysed = 0, skipped = 0;
        var model = format == AnalysisFormat.Fhir ? service.Describe() : null;
        foreach (var chunk in paths.Chunk(Math.Max(1, service.Options.MaxBatch)))
        {
            var pending = new List<(string Path, UploadedRecord Record, Task<AnalysisResult> Task)>();
            foreach (string path in chunk)
            {
                try
                {
                    var record = UploadReader.ReadPath(path, rate, FileLimits);
                    pending.Add((path, record, service.AnalyzeAsync(record)));
                }
                catch (BadUploadException e)
                {
                    skip(path, Named(path, e.Message));
                    skipped++;
                }
            }
            foreach (var (path, record, task) in pending)
            {
                string text;
                try
                {
                    var result = task.GetAwaiter().GetResult();
                    text = format switch
                    {
                        AnalysisFormat.Json => JsonSerializer.Serialize(result, Json),
                        AnalysisFormat.Fhir => FhirBundleBuilder.ToJson(FhirBundleBuilder.Build(result, model!, record)),
                        _ => Text(result),
                    };
                }
                catch (Exception e) when (e is BadUploadException or InputFormatException)
                {
                    skip(path, Named(path, e.Message));
                    skipped++;
                    continue;
                }
                emit(text);
                analysed++;
            }
        }
        return new AnalysisSummary(analysed, skipped);
    }

    private static string Named(string path, string message) =>
        message.Contains(path, StringComparison.Ordinal) || message.Contains(Path.GetFileName(path), StringComparison.Ordinal) ? message : $"{path}: {message}";

    /// <summary>
    /// A short reading of one result: the record, the zero-shot findings at or above their thresholds (the three best
    /// scores when the service has no thresholds), measurements and the device's own values when present, the report.
    /// </summary>
    public static string Text(AnalysisResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var rec = r.Record;
        sb.Append(inv, $"{rec.Id} ({rec.Format}, {rec.SamplingRate:0.###} Hz, {rec.DurationSeconds:0.##} s, {rec.Leads.Count} leads)\n");
        if (r.Findings.Any(f => f.Threshold is not null))
        {
            var positive = r.Findings.Where(f => f.Positive == true).ToList();
            sb.Append("  findings at or above threshold: ").Append(positive.Count == 0 ? "none"
                : string.Join(", ", positive.Select(f => string.Format(inv, "{0} {1:0.000} (threshold {2:0.000})", f.Class, f.Score, f.Threshold)))).Append('\n');
        }
        else
        {
            sb.Append("  highest scores (no validation thresholds): ")
                .Append(string.Join(", ", r.Findings.Take(3).Select(f => string.Format(inv, "{0} {1:0.000}", f.Class, f.Score)))).Append('\n');
        }
        if (r.Measurements is { } m)
        {
            var values = new Dictionary<string, double?>
            {
                [DeviceMeasurementKeys.HeartRate] = m.HeartRateBpm, [DeviceMeasurementKeys.Rr] = m.RrMs, [DeviceMeasurementKeys.Pr] = m.PrMs,
                [DeviceMeasurementKeys.Qrs] = m.QrsMs, [DeviceMeasurementKeys.Qt] = m.QtMs, [DeviceMeasurementKeys.QtcBazett] = m.QtcBazettMs,
                [DeviceMeasurementKeys.QtcFridericia] = m.QtcFridericiaMs, [DeviceMeasurementKeys.PAxis] = m.PAxisDeg,
                [DeviceMeasurementKeys.QrsAxis] = m.QrsAxisDeg, [DeviceMeasurementKeys.TAxis] = m.TAxisDeg,
            };
            sb.Append("  measurements: ").Append(Values(values.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!.Value)))
                .Append(inv, $" ({m.Beats} beats)\n");
            foreach (string note in m.Notes) sb.Append("    note: ").Append(note).Append('\n');
        }
        if (r.DeviceMeasurements is { Count: > 0 } dm) sb.Append("  recording device's measurements: ").Append(Values(dm)).Append('\n');
        if (r.DeviceStatements is { Count: > 0 } ds) sb.Append("  recording device's statements: ").Append(string.Join("; ", ds)).Append('\n');
        if (!string.IsNullOrWhiteSpace(r.Report)) sb.Append("  report: ").Append(r.Report).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }

    private static string Values(IReadOnlyDictionary<string, double> values)
    {
        var parts = new List<string>();
        foreach (var code in FhirBundleBuilder.MeasurementCodes)
            if (values.TryGetValue(code.Key, out double v))
                parts.Add(string.Format(CultureInfo.InvariantCulture, "{0} {1:0.#} {2}", code.Text, v, code.Unit));
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}
