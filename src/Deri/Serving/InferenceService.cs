using System.Threading.Channels;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.Downstream;
using Deri.Evaluation;
using Deri.Generation;
using Deri.Generation.Decoder;
using Deri.Interop.Bundle;
using Deri.Interop.Onnx;
using Deri.Measurements;
using Deri.Pretraining;
using Deri.Retrieval;
using Deri.Runtime;
using Deri.Signals;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Serving;

/// <summary>What an <see cref="InferenceService"/> loads.</summary>
public sealed record ServiceOptions
{
    /// <summary>DERI or MERL run folder, or a model bundle folder (<c>deri model build</c>; served on ONNX Runtime).</summary>
    public required string Run { get; init; }

    /// <summary>Checkpoint of the run: best, last or a file.</summary>
    public string Checkpoint { get; init; } = "best";

    /// <summary>Report-generation run folder (<c>deri report train</c>), or null for no reports.</summary>
    public string? ReportModel { get; init; }

    /// <summary>Retrieval index folder, or null for no similar cases.</summary>
    public string? Index { get; init; }

    /// <summary>Store whose preprocessing and validation split to use; null: the index's store, else the run's <c>dataset.data_path</c>.</summary>
    public string? Store { get; init; }

    /// <summary>Prompt file; null: the run's <c>zeroshot.prompt_dict</c>.</summary>
    public string? Prompts { get; init; }

    /// <summary>Device of the models.</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>Most queued requests one forward pass serves.</summary>
    public int MaxBatch { get; init; } = 16;

    /// <summary>Requests waiting beyond this are refused (503) rather than queued without bound.</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>Most validation records scored at start-up to choose the per-class thresholds.</summary>
    public int ThresholdRecords { get; init; } = 2000;

    /// <summary>Similar cases returned.</summary>
    public int SimilarCases { get; init; } = 5;

    /// <summary>Highest rate of the plotted signal (Hz); faster records are resampled down.</summary>
    public double PlotRate { get; init; } = 250;

    /// <summary>Decoding of generated reports (greedy by default: one beam keeps a request's latency low).</summary>
    public DecodingOptions Decoding { get; init; } = new(NumBeams: 1, MaxLength: 128);
}

/// <summary>The service is busy: its queue is full.</summary>
public sealed class ServiceBusyException(string message) : Exception(message);

/// <summary>
/// The model side of <c>deri serve</c>: the run (and report model, index) loaded once, and one worker thread that takes
/// queued requests in batches of up to <see cref="ServiceOptions.MaxBatch"/> and runs one forward pass per batch, so N
/// simultaneous requests cost one batched pass rather than N passes competing for the cores.
/// </summary>
public sealed partial class InferenceService : IDisposable
{
    private readonly PretrainedRun? run;          // null when serving a bundle
    private readonly PairEncoder? encoder;        // null when serving a bundle
    private readonly ModelBundle? bundle;         // null when serving a run
    private readonly OnnxEcgEmbedder? onnx;       // the bundle's ECG side
    private readonly int leads, length;
    private readonly ReportRun? reportRun;
    private readonly RetrievalIndex? index;
    private readonly EcgStore? caseStore;
    private readonly Dictionary<string, int>? caseRows;
    private readonly EcgPreprocessor preprocessor;
    private readonly float[][] classEmbeddings;   // C × (D)
    private readonly Channel<Job> queue;
    private readonly Thread worker;
    private readonly CancellationTokenSource stopping = new();
    private readonly (int? Epoch, string Sha256) checkpointFacts;

    /// <summary>Loads the models and starts the worker.</summary>
    /// <exception cref="FileNotFoundException">The prompt file or a checkpoint is missing.</exception>
    /// <exception cref="InputFormatException">No store gives the preprocessing, or the parts do not fit each other.</exception>
    public InferenceService(ServiceOptions options, Action<string>? log = null)
    {
        log ??= _ => { };
        Options = options;
        if (options.MaxBatch <= 0) throw new ArgumentException($"max batch must be positive, got {options.MaxBatch}");
        if (ModelBundle.IsBundle(options.Run))
        {
            bundle = OpenBundle(options);
            var m = bundle.Manifest;
            checkpointFacts = (null, m.Files[m.Onnx.File][..16]);
            (leads, length) = (m.Onnx.Leads, m.Onnx.Length);
            try
            {
                onnx = new OnnxEcgEmbedder(bundle.OnnxPath, leads, length, get_num_threads(), m.Onnx.Input, m.Onnx.Output);
                (index, caseStore, caseRows) = OpenIndex(options.Index);
                Preprocessing = m.Preprocessing;
                preprocessor = new EcgPreprocessor(Preprocessing);
                ClassNames = m.Classes.Select(c => c.Code).ToList();
                PromptTexts = m.Classes.Select(c => c.Prompt).ToList();
                Thresholds = m.Classes.Select(c => c.Threshold).ToList();
                classEmbeddings = bundle.PromptEmbeddings.ToArray();
                if (index is not null) CheckIndex(index, bundle);
                string? report = options.ReportModel ?? bundle.ReportModelPath;
                if (report is not null) reportRun = ReportRun.Open(report, "best", options.Device, log);
            }
            catch
            {
                onnx?.Dispose();
                index?.Dispose();
                caseStore?.Dispose();
                throw;
            }
        }
        else
        {
            run = PretrainedRun.Load(options.Run, options.Checkpoint, options.Device);
            checkpointFacts = CheckpointFacts(run.CheckpointPath);
            try
            {
                encoder = new PairEncoder(run);
                (leads, length) = (encoder.Leads, encoder.Length);
                (index, caseStore, caseRows) = OpenIndex(options.Index);
                string? storeDir = options.Store ?? (index is not null && EcgStore.Exists(index.Manifest.Store) ? index.Manifest.Store : RunStore(run));
                using var store = storeDir is not null && EcgStore.Exists(storeDir) ? EcgStore.Open(storeDir) : null;
                Preprocessing = store?.Index.Preprocess ?? index?.Manifest.Preprocess ?? throw new InputFormatException(
                    $"{run.Directory}: no store gives the preprocessing (the run's dataset.data_path '{run.Config.Dataset.DataPath}' is not a store): pass --store or --index");
                if (Preprocessing.TargetLength != encoder.Length)
                    throw new InputFormatException($"the preprocessing gives {Preprocessing.TargetLength} samples, the run {run.Directory} takes {encoder.Length}");
                preprocessor = new EcgPreprocessor(Preprocessing);

                string promptFile = ZeroShotEvaluation.ResolvePrompts(run, options.Prompts);
                var prompts = ClassPrompts.Load(promptFile);
                ClassNames = store is not null && store.LabelNames.Any(prompts.Descriptions.ContainsKey)
                    ? store.LabelNames.Where(prompts.Descriptions.ContainsKey).ToList()
                    : prompts.Descriptions.Keys.ToList();
                PromptTexts = prompts.TextsFor(ClassNames);
                classEmbeddings = encoder.EncodeTexts(PromptTexts);
                if (index is not null) RetrievalSearch.CheckCompatible(index, encoder, classEmbeddings[0].Length);
                Thresholds = store is not null ? ValidationThresholds(store, options.ThresholdRecords, log) : null;

                if (options.ReportModel is not null) reportRun = ReportRun.Open(options.ReportModel, "best", options.Device, log);
            }
            catch
            {
                index?.Dispose();
                caseStore?.Dispose();
                run.Dispose();
                throw;
            }
        }
        queue = Channel.CreateBounded<Job>(new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait });
        worker = new Thread(Work) { IsBackground = true, Name = "deri-inference" };
        worker.Start();
        log($"serving {(bundle is not null ? $"the model bundle {bundle.Manifest.Name} {bundle.Manifest.Version} ({bundle.Directory}, ONNX Runtime)" : $"{run!.Directory} ({run.CheckpointPath})")}: {ClassNames.Count} classes" +
            (Thresholds is null ? ", no validation thresholds" : ", validation thresholds") +
            (index is null ? "" : $", index of {index.Count} pairs") + (reportRun is null ? "" : ", report model"));
    }

    /// <summary>The options the service was made with.</summary>
    public ServiceOptions Options { get; }

    /// <summary>Preprocessing applied before the model.</summary>
    public PreprocessConfig Preprocessing { get; }

    /// <summary>Classes scored, in store order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Prompt text of each class.</summary>
    public IReadOnlyList<string> PromptTexts { get; }

    /// <summary>Max-F1 threshold of each class on the validation split; null when there is no labelled validation split.</summary>
    public IReadOnlyList<double?>? Thresholds { get; }

    /// <summary>Requests analysed since start.</summary>
    public long Served => Interlocked.Read(ref served);

    /// <summary>Forward passes run since start (≤ <see cref="Served"/>: requests share passes).</summary>
    public long Batches => Interlocked.Read(ref batches);

    private long served, batches;

    /// <summary>What <c>GET /api/v1/model</c> returns.</summary>
    public ModelInfo Describe()
    {
        var info = RuntimeInfo.Collect();
        if (bundle is not null) return DescribeBundle(bundle, info);
        return new ModelInfo(run!.Name, Path.GetFileName(run.CheckpointPath), run.Method,
            ClassNames.Select((c, i) => new Finding(c, PromptTexts[i], 0, Thresholds?[i], null)).ToList(),
            Preprocessing, reportRun is null ? null : FolderName(reportRun.Directory), index is null ? null : FolderName(index.Directory),
            new Dictionary<string, string>
            {
                ["deri"] = info.DeriVersion,
                ["dotnet"] = Environment.Version.ToString(),
                ["torchsharp"] = info.TorchSharpVersion,
                ["libtorch"] = info.LibTorchVersion,
            },
            Options.MaxBatch, checkpointFacts.Epoch, checkpointFacts.Sha256) { Name = run.Name, Engine = Engine };
    }

    private static string FolderName(string dir) => Path.GetFileName(Path.TrimEndingDirectorySeparator(dir));

    // Identifies the checkpoint without naming where it lies: epochs completed (when the file records them) and a short SHA-256.
    private static (int? Epoch, string Sha256) CheckpointFacts(string path)
    {
        int? epoch = null;
        try
        {
            epoch = Deri.Training.Checkpoint.ReadInfo(path).Epoch;
        }
        catch (Exception e) when (e is InputException or IOException or System.Text.Json.JsonException or FormatException)
        {
            // An imported checkpoint (safetensors, PyTorch) records no epoch.
        }
        using var stream = File.OpenRead(path);
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream))[..16];
        return (epoch, sha);
    }

    /// <summary>Preprocesses the record, queues it for the next batched forward pass and builds the answer.</summary>
    /// <exception cref="BadUploadException">The record cannot be brought to the model's input.</exception>
    /// <exception cref="ServiceBusyException">The queue is full.</exception>
    public async Task<AnalysisResult> AnalyzeAsync(UploadedRecord record, CancellationToken cancellation = default)
    {
        var signal = new float[preprocessor.OutputSize];
        try
        {
            preprocessor.ProcessPhysical(record.Physical, record.Samples, record.SamplingRate, record.Id, signal);
        }
        catch (InputFormatException e)
        {
            throw new BadUploadException(422, "record does not fit the model", e.Message);
        }
        foreach (float v in signal)
            if (!float.IsFinite(v)) throw new BadUploadException(422, "record does not fit the model", $"{record.Id}: preprocessing gave non-finite values");
        var job = new Job(signal);
        var measured = Measure(record);
        if (!queue.Writer.TryWrite(job)) throw new ServiceBusyException($"{Options.QueueCapacity} requests are waiting; try again shortly");
        var (embedding, report) = await job.Done.Task.WaitAsync(cancellation).ConfigureAwait(false);
        Interlocked.Increment(ref served);

        var findings = new List<Finding>(ClassNames.Count);
        for (int c = 0; c < ClassNames.Count; c++)
        {
            double score = RetrievalIndex.Dot(embedding, classEmbeddings[c]);
            double? t = Thresholds?[c];
            findings.Add(new Finding(ClassNames[c], PromptTexts[c], Math.Round(score, 6), t, t is { } th ? score >= th : null));
        }
        findings.Sort((a, b) => b.Score.CompareTo(a.Score));
        IReadOnlyList<RetrievedPair>? similar = index is null ? null
            : RetrievalSearch.Describe(index, index.Search(embedding, IndexSide.Ecg, Math.Min(Options.SimilarCases, index.Count)));
        var facts = new RecordFacts(record.Id, record.Format, record.SourceLeads, record.SamplingRate, record.Samples, Math.Round(record.DurationSeconds, 3));
        return new AnalysisResult(facts, PlotPhysical(record), findings, report, similar, measured,
            record.DeviceMeasurements.Count > 0 ? record.DeviceMeasurements : null,
            record.DeviceStatements.Count > 0 ? record.DeviceStatements : null);
    }

    /// <summary>The record's measurements (its 12 leads in mV at its own rate); null when it cannot be measured (e.g.
    /// shorter than <see cref="EcgMeasurer.MinimumSeconds"/>): the findings do not depend on them.</summary>
    private static EcgMeasurements? Measure(UploadedRecord record)
    {
        try
        {
            return EcgMeasurer.Measure(record.Physical, record.Samples, record.SamplingRate, millivolts: true, record.Id);
        }
        catch (EcgFormatException)
        {
            return null;
        }
    }

    /// <summary>A case of the index by id, with its store tracing when the store is still there; null for an unknown id.</summary>
    public CaseResult? Case(string id)
    {
        if (index is null) return null;
        int row = -1;
        for (int i = 0; i < index.Count; i++) if (index.Manifest.Entries[i].Id == id) { row = i; break; }
        if (row < 0) return null;
        var e = index.Manifest.Entries[row];
        PlotSignal? signal = null;
        if (caseStore is not null && caseRows!.TryGetValue(id, out int s))
        {
            int n = caseStore.Index.Length;
            var data = new float[caseStore.RecordSize];
            caseStore.Read(s, data);
            signal = Plot(data, n, caseStore.Index.SamplingRate, "normalized");
        }
        return new CaseResult(e.Id, e.Report, e.Labels, signal);
    }

    private PlotSignal PlotPhysical(UploadedRecord r) => Plot(r.Physical, r.Samples, r.SamplingRate, "mV");

    // Model-order [12 × n] values → standard-order leads at ≤ PlotRate Hz.
    private PlotSignal Plot(float[] values, int n, double rate, string units)
    {
        var resampler = rate > Options.PlotRate + 1e-9 ? PolyphaseResampler.For(rate, Options.PlotRate) : null;
        var data = new List<float?[]>(12);
        foreach (string lead in LeadOrder.Standard)
        {
            int k = LeadOrder.Model.ToList().IndexOf(lead);
            var src = values.AsSpan(k * n, n);
            if (resampler is null)
            {
                data.Add(src.ToArray().Select(v => float.IsFinite(v) ? (float?)MathF.Round(v, 4) : null).ToArray());
                continue;
            }
            var d = new double[n];
            var missing = new bool[n];
            for (int t = 0; t < n; t++) { missing[t] = !float.IsFinite(src[t]); d[t] = missing[t] ? 0 : src[t]; }
            var o = resampler.Resample(d);
            double step = (double)n / o.Length;
            data.Add(o.Select((v, j) => missing[Math.Min(n - 1, (int)(j * step))] ? null : (float?)MathF.Round((float)v, 4)).ToArray());
        }
        return new PlotSignal(resampler is null ? rate : Options.PlotRate, units, LeadOrder.Standard, data);
    }

    private double?[]? ValidationThresholds(EcgStore store, int most, Action<string> log)
    {
        var rows = store.IndicesOf("val");
        if (rows.Length == 0 || store.LabelNames.Count == 0) return null;
        rows = rows.Take(most).ToArray();
        var set = new ZeroShotSet("val", store, rows);
        var scores = ZeroShotRunner.Scores(new DeriZeroShotModel(run!.Module, run.Device), set, ClassNames, ClassPromptsFor(), 64);
        var labels = ZeroShotRunner.Labels(set, ClassNames);
        var report = MultiLabelMetrics.Evaluate(scores, labels, ClassNames, "val");
        var byName = report.Classes.ToDictionary(c => c.Name, c => c.Threshold);
        log($"thresholds: max F1 of {rows.Length} validation records of {store.Directory}" +
            (report.Excluded.Count > 0 ? $"; none for {string.Join(", ", report.Excluded.Select(x => x.Name))} (no positives)" : ""));
        return ClassNames.Select(c => byName.TryGetValue(c, out var t) && double.IsFinite(t) ? (double?)t : null).ToArray();
    }

    private ClassPrompts ClassPromptsFor() =>
        ClassPrompts.Parse(System.Text.Json.JsonSerializer.Serialize(ClassNames.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => PromptTexts[x.i])), "service prompts");

    private static string? RunStore(PretrainedRun run)
    {
        string p = run.Config.Dataset.DataPath;
        if (string.IsNullOrWhiteSpace(p)) return null;
        return Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(run.Directory, p));
    }

    private void Work()
    {
        var reader = queue.Reader;
        var batch = new List<Job>(Options.MaxBatch);
        try
        {
            while (reader.WaitToReadAsync(stopping.Token).AsTask().GetAwaiter().GetResult())
            {
                batch.Clear();
                while (batch.Count < Options.MaxBatch && reader.TryRead(out var job)) batch.Add(job);
                if (batch.Count == 0) continue;
                try
                {
                    var signals = batch.Select(j => j.Signal).ToList();
                    var embeddings = onnx?.EncodeEcgs(signals) ?? encoder!.EncodeEcgs(signals);   // B × (D)
                    IReadOnlyList<string>? reports = null;
                    if (reportRun is not null)
                    {
                        using var scope = NewDisposeScope();
                        using var _ = no_grad();
                        var flat = signals.SelectMany(s => s).ToArray();
                        var ecg = tensor(flat, [signals.Count, leads, length]).to(Options.Device);   // (B, leads, L)
                        reports = reportRun.Generate(ecg, Options.Decoding);
                    }
                    Interlocked.Increment(ref batches);
                    for (int i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult((embeddings[i], reports?[i]));
                }
                catch (Exception e)
                {
                    foreach (var j in batch) j.Done.TrySetException(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: requests still queued are failed below.
        }
        while (reader.TryRead(out var left)) left.Done.TrySetCanceled();
    }

    /// <summary>Stops the worker and releases the models.</summary>
    public void Dispose()
    {
        queue.Writer.TryComplete();
        stopping.Cancel();
        worker.Join(TimeSpan.FromSeconds(30));
        reportRun?.Dispose();
        index?.Dispose();
        caseStore?.Dispose();
        run?.Dispose();
        onnx?.Dispose();
        stopping.Dispose();
    }

    private sealed class Job(float[] signal)
    {
        public float[] Signal { get; } = signal;
        public TaskCompletionSource<(float[] Embedding, string? Report)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
