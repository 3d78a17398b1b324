using System.Text.Json.Serialization;
using Deri.Retrieval;

namespace Deri.Serving;

/// <summary>Facts of an analysed record.</summary>
/// <param name="Id">Record name.</param>
/// <param name="Format">wfdb, cinc-mat, cpsc2018-mat, csv, dicom, aecg, muse-xml or edf.</param>
/// <param name="Leads">Channel names as the file gives them.</param>
/// <param name="SamplingRate">Hz.</param>
/// <param name="Samples">Samples per lead.</param>
/// <param name="DurationSeconds">Seconds.</param>
public sealed record RecordFacts(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("leads")] IReadOnlyList<string> Leads,
    [property: JsonPropertyName("sampling_rate")] double SamplingRate,
    [property: JsonPropertyName("samples")] int Samples,
    [property: JsonPropertyName("duration_s")] double DurationSeconds);

/// <summary>A signal for plotting: the 12 leads in standard order (I, II, III, aVR, aVL, aVF, V1–V6), at a reduced rate.</summary>
/// <param name="SamplingRate">Hz of the values.</param>
/// <param name="Units">mV for an uploaded record (physical values, baseline not removed); "normalized" for a store record (the model's input).</param>
/// <param name="Leads">Lead names, in the order of <paramref name="Data"/>.</param>
/// <param name="Data">One array per lead; null where a sample is missing.</param>
public sealed record PlotSignal(
    [property: JsonPropertyName("sampling_rate")] double SamplingRate,
    [property: JsonPropertyName("units")] string Units,
    [property: JsonPropertyName("leads")] IReadOnlyList<string> Leads,
    [property: JsonPropertyName("data")] IReadOnlyList<float?[]> Data);

/// <summary>One class's zero-shot result.</summary>
/// <param name="Class">Class name.</param>
/// <param name="Prompt">The prompt text the ECG was compared with.</param>
/// <param name="Score">Cosine similarity of the ECG and prompt embeddings.</param>
/// <param name="Threshold">The class's max-F1 threshold on the validation split, when the service has one.</param>
/// <param name="Positive">Score ≥ threshold; null without a threshold.</param>
public sealed record Finding(
    [property: JsonPropertyName("class")] string Class,
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("score")] double Score,
    [property: JsonPropertyName("threshold")] double? Threshold,
    [property: JsonPropertyName("positive")] bool? Positive);

/// <summary>The answer of <c>POST /api/v1/analyze</c>.</summary>
/// <param name="Record">Record facts.</param>
/// <param name="Signal">The record for plotting (mV).</param>
/// <param name="Findings">Zero-shot scores of every class, highest first.</param>
/// <param name="Report">The generated report; null without a report model.</param>
/// <param name="Similar">The most similar indexed ECGs with their reports; null without an index.</param>
/// <param name="Measurements">Deri's measurements of the record (rate, intervals, axes, median beats); null when not measured.</param>
/// <param name="DeviceMeasurements">The recording device's own measurements stored in the file, keyed as
/// <see cref="Deri.Signals.DeviceMeasurementKeys"/>; null when the file has none.</param>
/// <param name="DeviceStatements">The recording device's interpretive statements stored in the file; null when none.</param>
public sealed record AnalysisResult(
    [property: JsonPropertyName("record")] RecordFacts Record,
    [property: JsonPropertyName("signal")] PlotSignal Signal,
    [property: JsonPropertyName("findings")] IReadOnlyList<Finding> Findings,
    [property: JsonPropertyName("report")] string? Report,
    [property: JsonPropertyName("similar")] IReadOnlyList<RetrievedPair>? Similar,
    [property: JsonPropertyName("measurements")] Deri.Measurements.EcgMeasurements? Measurements = null,
    [property: JsonPropertyName("device_measurements")] IReadOnlyDictionary<string, double>? DeviceMeasurements = null,
    [property: JsonPropertyName("device_statements")] IReadOnlyList<string>? DeviceStatements = null);

/// <summary>A case of the index: its report, labels and tracing (the store's preprocessed signal).</summary>
/// <param name="Id">Record id.</param>
/// <param name="Report">Report.</param>
/// <param name="Labels">Positive classes.</param>
/// <param name="Signal">The store's signal, normalised as the model sees it.</param>
public sealed record CaseResult(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("report")] string Report,
    [property: JsonPropertyName("labels")] IReadOnlyList<string> Labels,
    [property: JsonPropertyName("signal")] PlotSignal? Signal);

/// <summary>The answer of <c>GET /api/v1/model</c>. Names only, never a path on the server.</summary>
/// <param name="Run">Run folder's name, or the bundle's name.</param>
/// <param name="Checkpoint">Checkpoint file's name, or the bundle's graph file.</param>
/// <param name="Method">deri or merl.</param>
/// <param name="Classes">Classes scored, with prompts and thresholds.</param>
/// <param name="Preprocessing">Target rate, length and normalisation applied before the model.</param>
/// <param name="ReportModel">Report run folder's name, or null.</param>
/// <param name="Index">Index folder's name, or null.</param>
/// <param name="Versions">Deri, .NET, TorchSharp and LibTorch versions.</param>
/// <param name="MaxBatch">Most requests one forward pass serves.</param>
/// <param name="CheckpointEpoch">Epochs completed when the checkpoint was written; null when the file does not record it.</param>
/// <param name="CheckpointSha256">The first 16 hex digits of the checkpoint file's SHA-256 (of the graph, for a bundle).</param>
public sealed record ModelInfo(
    [property: JsonPropertyName("run")] string Run,
    [property: JsonPropertyName("checkpoint")] string Checkpoint,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("classes")] IReadOnlyList<Finding> Classes,
    [property: JsonPropertyName("preprocessing")] Deri.Data.Preprocessing.PreprocessConfig Preprocessing,
    [property: JsonPropertyName("report_model")] string? ReportModel,
    [property: JsonPropertyName("index")] string? Index,
    [property: JsonPropertyName("versions")] IReadOnlyDictionary<string, string> Versions,
    [property: JsonPropertyName("max_batch")] int MaxBatch,
    [property: JsonPropertyName("checkpoint_epoch")] int? CheckpointEpoch = null,
    [property: JsonPropertyName("checkpoint_sha256")] string? CheckpointSha256 = null)
{
    /// <summary>The model's name: the bundle's name, or the run folder's name.</summary>
    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>The bundle's version; null when serving a run folder.</summary>
    [JsonPropertyName("version")] public string? Version { get; init; }

    /// <summary>What runs the ECG side: <c>onnxruntime</c> (a bundle) or <c>torchsharp</c> (a run).</summary>
    [JsonPropertyName("engine")] public string? Engine { get; init; }

    /// <summary>Path of the model card on this server; null when the model has none (a run folder).</summary>
    [JsonPropertyName("card")] public string? Card { get; init; }

    /// <summary>The run folder the bundle was built from; null when serving a run folder.</summary>
    [JsonPropertyName("source_run")] public string? SourceRun { get; init; }
}
