using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.IO;
using Deri.Signals;

namespace Deri.Data.Store;

/// <summary>Options of <see cref="EcgStoreBuilder.Build"/>.</summary>
public sealed record StoreBuildOptions
{
    /// <summary>Records preprocessed in parallel (bounded degree; 0 = one per core).</summary>
    public int Workers { get; init; }

    /// <summary>Records per committed chunk: the unit of resumption.</summary>
    public int ChunkSize { get; init; } = 256;

    /// <summary>Store signals as float16 instead of float32.</summary>
    public bool Float16 { get; init; }

    /// <summary>Preprocessing; <c>null</c> = the dataset's own (<see cref="EcgDataset.Preprocess"/>).</summary>
    public PreprocessConfig? Preprocess { get; init; }

    /// <summary>Called after each committed chunk with (records done, records total).</summary>
    public Action<int, int>? Progress { get; init; }
}

/// <summary>What a build did.</summary>
/// <param name="Directory">The finished store.</param>
/// <param name="Written">Records in the store.</param>
/// <param name="Bad">Records whose signal failed (listed in <c>bad_records.csv</c>).</param>
/// <param name="Skipped">Metadata rows left out while listing (listed in <c>skipped.csv</c>).</param>
/// <param name="ProcessedNow">Records preprocessed by this call (less than the total when it resumed).</param>
/// <param name="AlreadyComplete">The store existed and was reopened, not rebuilt.</param>
/// <param name="SplitCounts">Records per split.</param>
public sealed record StoreBuildResult(string Directory, int Written, int Bad, int Skipped, int ProcessedNow, bool AlreadyComplete, IReadOnlyDictionary<string, int> SplitCounts)
{
    /// <summary>Records stored without a report (listed in <c>no_report.csv</c>).</summary>
    public int NoReport { get; init; }
}

/// <summary>
/// Prepares a dataset into an <see cref="EcgStore"/>: records are preprocessed in parallel chunk by chunk; after each
/// chunk its signals are appended and flushed to <c>STORE.partial/signals.bin</c> and a line is appended to
/// <c>journal.jsonl</c>, so a killed run continues from the last committed chunk. A record that fails is listed
/// with its reason, never fatal; records without a report are stored and listed in <c>no_report.csv</c>. An empty
/// listing is refused. The finished folder is renamed into place in one step.
/// </summary>
public static class EcgStoreBuilder
{
    /// <summary>One committed chunk: its number, the entries it wrote and the entries that failed (entry, reason).</summary>
    private sealed record JournalLine(
        [property: JsonPropertyName("chunk")] int Chunk,
        [property: JsonPropertyName("written")] int[] Written,
        [property: JsonPropertyName("bad")] string[][] Bad);

    private sealed record Manifest(
        [property: JsonPropertyName("fingerprint")] string Fingerprint,
        [property: JsonPropertyName("entries")] int Entries,
        [property: JsonPropertyName("chunk_size")] int ChunkSize);

    /// <summary>Suffix of the work folder beside the store.</summary>
    public const string PartialSuffix = ".partial";

    /// <summary>Builds (or resumes, or reopens) the store for <paramref name="dataset"/> in <paramref name="directory"/>.</summary>
    /// <exception cref="IOException">The target exists and is not a store, or an unfinished build of other inputs is in the way.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; committed chunks are kept for the next run.</exception>
    public static StoreBuildResult Build(EcgDataset dataset, string directory, StoreBuildOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new StoreBuildOptions();
        var config = options.Preprocess ?? dataset.Preprocess;
        var pre = new EcgPreprocessor(config);
        directory = Path.GetFullPath(directory.TrimEnd(Path.DirectorySeparatorChar));
        string fingerprint = Fingerprint(dataset, config, options.Float16);
        if (EcgStore.Exists(directory)) return Reopen(directory, fingerprint);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new OutputPathException($"{directory} exists and is not a prepared store (no {EcgStore.IndexFile}); choose another --out or remove it");
        if (options.ChunkSize <= 0) throw new ArgumentException($"ChunkSize must be positive, got {options.ChunkSize}");
        // A chunk buffer is one float array (at most Array.MaxLength values) indexed by int.
        if ((long)options.ChunkSize * pre.OutputSize > Array.MaxLength)
            throw new ArgumentException($"ChunkSize {options.ChunkSize} × {pre.OutputSize} values per record exceeds one buffer ({Array.MaxLength} values); use at most {Array.MaxLength / pre.OutputSize} records per chunk");
        if (dataset.Entries.Count == 0) throw new InputFormatException(NothingToPrepare(dataset));

        var work = new WorkFolder(directory + PartialSuffix);
        OpenWorkFolder(work, fingerprint, dataset.Entries.Count, options.ChunkSize);
        var committed = ReplayJournal(work.Journal);
        int processedNow = PreprocessRemainingChunks(dataset, pre, options, work, committed, cancel);
        var entries = WriteStoreFiles(dataset, config, options.Float16, fingerprint, work, committed);
        MoveIntoPlace(work, directory);
        var splitCounts = entries.GroupBy(e => e.Split).ToDictionary(g => g.Key, g => g.Count());
        return new StoreBuildResult(directory, entries.Count, committed.Bad.Count, dataset.Skipped.Count, processedNow, false, splitCounts)
        {
            NoReport = entries.Count(e => string.IsNullOrWhiteSpace(e.Report)),
        };
    }

    /// <summary>Why an empty listing is refused: a store of 0 records is never what was asked for.</summary>
    private static string NothingToPrepare(EcgDataset dataset)
    {
        string why = dataset.Skipped.Count == 0
            ? "its metadata lists no records"
            : $"all {dataset.Skipped.Count} listed rows were left out, e.g. {dataset.Skipped[0].Id}: {dataset.Skipped[0].Reason}";
        return $"{dataset.Name}: nothing to prepare: {why}";
    }

    /// <summary>The files of an unfinished build in <c>STORE.partial</c>.</summary>
    private sealed record WorkFolder(string Path)
    {
        public string Manifest => System.IO.Path.Combine(Path, "manifest.json");

        public string Journal => System.IO.Path.Combine(Path, "journal.jsonl");

        public string Signals => System.IO.Path.Combine(Path, "signals.bin");
    }

    /// <summary>What the journal commits: finished chunks, the entries they wrote (in store order) and the entries that failed.</summary>
    private sealed class Committed
    {
        public HashSet<int> Chunks { get; } = [];

        public List<int> Written { get; } = [];

        public List<(int Entry, string Reason)> Bad { get; } = [];

        public void Add(JournalLine line)
        {
            Chunks.Add(line.Chunk);
            Written.AddRange(line.Written);
            Bad.AddRange(line.Bad.Select(b => (int.Parse(b[0], CultureInfo.InvariantCulture), b[1])));
        }
    }

    /// <summary>A finished store of the same inputs is reopened as it is; one of other inputs is refused.</summary>
    private static StoreBuildResult Reopen(string directory, string fingerprint)
    {
        using var existing = EcgStore.Open(directory);
        if (existing.Index.Fingerprint != fingerprint)
            throw new OutputPathException($"{directory} holds a store prepared from other inputs or settings; choose another --out or remove it");
        var counts = existing.Entries.GroupBy(e => e.Split).ToDictionary(g => g.Key, g => g.Count());
        return new StoreBuildResult(directory, existing.Count, existing.Index.BadRecords, existing.Index.Skipped, 0, true, counts)
        {
            NoReport = existing.Entries.Count(e => string.IsNullOrWhiteSpace(e.Report)),
        };
    }

    /// <summary>Creates the work folder with its manifest, or checks that an existing one belongs to the same job.</summary>
    private static void OpenWorkFolder(WorkFolder work, string fingerprint, int entries, int chunkSize)
    {
        Directory.CreateDirectory(work.Path);
        if (File.Exists(work.Manifest))
        {
            Manifest? m;
            try { m = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(work.Manifest)); }
            catch (JsonException e) { throw new InputFormatException($"{work.Manifest}: not a build manifest ({e.Message}); remove {work.Path} to start over", e); }
            if (m == null || m.Fingerprint != fingerprint || m.ChunkSize != chunkSize)
                throw new OutputPathException($"{work.Path} holds an unfinished build of different inputs or settings; remove it to start over");
        }
        else
        {
            AtomicFile.WriteAllText(work.Manifest, JsonSerializer.Serialize(new Manifest(fingerprint, entries, chunkSize)));
        }
        // A run killed inside an atomic write leaves its temporary file; it must not end up in the store.
        foreach (string leftover in Directory.EnumerateFiles(work.Path).Where(AtomicFile.IsTemporary).ToList())
            File.Delete(leftover);
    }

    /// <summary>Replays the journal's complete lines; a torn last line means its chunk was not committed.</summary>
    private static Committed ReplayJournal(string journalPath)
    {
        var committed = new Committed();
        if (!File.Exists(journalPath)) return committed;
        foreach (string line in File.ReadLines(journalPath))
        {
            JournalLine? j;
            try { j = JsonSerializer.Deserialize<JournalLine>(line); }
            catch (JsonException) { break; }
            if (j == null) break;
            committed.Add(j);
        }
        return committed;
    }

    /// <summary>
    /// Preprocesses every chunk the journal does not commit, in order: one chunk buffer is filled in parallel while the
    /// previous one is written and committed in the background. Returns the records preprocessed by this call.
    /// </summary>
    private static int PreprocessRemainingChunks(EcgDataset dataset, EcgPreprocessor pre, StoreBuildOptions options, WorkFolder work, Committed committed, CancellationToken cancel)
    {
        int recordValues = pre.OutputSize;
        int total = dataset.Entries.Count;
        int chunks = (total + options.ChunkSize - 1) / options.ChunkSize;
        int workers = options.Workers > 0 ? options.Workers : Environment.ProcessorCount;
        int processedNow = 0;
        int recordsDone = committed.Chunks.Sum(c => Math.Min(options.ChunkSize, total - c * options.ChunkSize));

        using var sink = ChunkSink.Open(work, committed.Written.Count, recordValues, options.Float16);
        // Two chunk buffers of ChunkSize · (12 · TargetLength) values each.
        float[][] buffers = [new float[(long)options.ChunkSize * recordValues], new float[(long)options.ChunkSize * recordValues]];
        options.Progress?.Invoke(recordsDone, total);
        Task? pending = null;
        int current = 0;
        try
        {
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                if (committed.Chunks.Contains(chunk)) continue;
                cancel.ThrowIfCancellationRequested();
                int start = chunk * options.ChunkSize, count = Math.Min(options.ChunkSize, total - start);
                var buffer = buffers[current];
                var errors = PreprocessChunk(dataset, pre, buffer, start, count, workers);
                // Commits stay in chunk order: the previous one finishes before this one starts.
                var previous = pending;
                pending = null;
                previous?.GetAwaiter().GetResult();
                cancel.ThrowIfCancellationRequested();
                int c = chunk;
                pending = Task.Run(() =>
                {
                    committed.Add(sink.Commit(c, buffer, start, count, errors));
                    processedNow += count;
                    recordsDone += count;
                    options.Progress?.Invoke(recordsDone, total);
                });
                current ^= 1;
            }
        }
        finally
        {
            // Whatever happens, the chunk being written is committed (or fails) before the files close.
            pending?.GetAwaiter().GetResult();
        }
        return processedNow;
    }

    /// <summary>
    /// Preprocesses entries <c>start … start+count−1</c> in parallel into <paramref name="buffer"/> (record i at
    /// <c>i · 12 · TargetLength</c>). Returns one error message per record, null where it succeeded.
    /// </summary>
    private static string?[] PreprocessChunk(EcgDataset dataset, EcgPreprocessor pre, float[] buffer, int start, int count, int workers)
    {
        int recordValues = pre.OutputSize;
        var errors = new string?[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
        {
            var entry = dataset.Entries[start + i];
            try
            {
                pre.ProcessFile(entry.RecordPath, buffer.AsSpan(i * recordValues, recordValues));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                errors[i] = ex.Message.ReplaceLineEndings(" ");
            }
        });
        return errors;
    }

    /// <summary>
    /// The append-only files of a build: <c>signals.bin</c> and <c>journal.jsonl</c>. A chunk's signals reach the disk
    /// before the journal line that commits them, so the journal never commits signals that are not there.
    /// </summary>
    private sealed class ChunkSink : IDisposable
    {
        private readonly FileStream _signals;
        private readonly StreamWriter _journal;
        private readonly int _recordValues;
        private readonly bool _float16;
        private readonly byte[] _half;

        private ChunkSink(FileStream signals, StreamWriter journal, int recordValues, bool float16)
        {
            _signals = signals;
            _journal = journal;
            _recordValues = recordValues;
            _float16 = float16;
            _half = float16 ? new byte[recordValues * 2] : [];
        }

        /// <summary>Opens both files and cuts <c>signals.bin</c> back to the <paramref name="committedRecords"/> the journal commits.</summary>
        public static ChunkSink Open(WorkFolder work, int committedRecords, int recordValues, bool float16)
        {
            long recordBytes = (long)recordValues * (float16 ? 2 : 4);
            var signals = new FileStream(work.Signals, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 20);
            try
            {
                // Anything past the last committed chunk is a torn write of an interrupted run. Signals are flushed before
                // their journal line, so a shorter file means the folder was tampered with.
                if (signals.Length < committedRecords * recordBytes)
                    throw new InputFormatException($"{work.Signals}: {signals.Length} bytes, the journal commits {committedRecords} records ({committedRecords * recordBytes} bytes); remove {work.Path} to start over");
                signals.SetLength(committedRecords * recordBytes);
                signals.Seek(0, SeekOrigin.End);
                var journal = new StreamWriter(new FileStream(work.Journal, FileMode.Append, FileAccess.Write, FileShare.Read));
                return new ChunkSink(signals, journal, recordValues, float16);
            }
            catch
            {
                signals.Dispose();
                throw;
            }
        }

        /// <summary>Appends the chunk's good records, flushes them, then appends and flushes its journal line, which it returns.</summary>
        public JournalLine Commit(int chunk, float[] buffer, int start, int count, string?[] errors)
        {
            var written = new List<int>();
            var bad = new List<string[]>();
            for (int i = 0; i < count; i++)
            {
                if (errors[i] is { } error) { bad.Add([(start + i).ToString(CultureInfo.InvariantCulture), error]); continue; }
                WriteRecord(buffer.AsSpan(i * _recordValues, _recordValues));
                written.Add(start + i);
            }
            _signals.Flush(flushToDisk: true);
            var line = new JournalLine(chunk, written.ToArray(), bad.ToArray());
            _journal.WriteLine(JsonSerializer.Serialize(line));
            _journal.Flush();
            return line;
        }

        private void WriteRecord(ReadOnlySpan<float> values)
        {
            if (!_float16)
            {
                _signals.Write(MemoryMarshal.AsBytes(values));
                return;
            }
            var half = MemoryMarshal.Cast<byte, Half>(_half.AsSpan());
            for (int k = 0; k < values.Length; k++) half[k] = (Half)values[k];
            _signals.Write(_half);
        }

        public void Dispose()
        {
            _journal.Dispose();
            _signals.Dispose();
        }
    }

    /// <summary>
    /// Writes the store's index, <c>bad_records.csv</c> and <c>skipped.csv</c> into the work folder, renames the signals
    /// to their final name and removes the build's own files. Returns the store's entries.
    /// </summary>
    private static List<StoreEntry> WriteStoreFiles(EcgDataset dataset, PreprocessConfig config, bool float16, string fingerprint, WorkFolder work, Committed committed)
    {
        var entries = committed.Written.Select(i => dataset.Entries[i]).Select(e => new StoreEntry(e.Id, e.Split, e.Report, e.Labels, e.Patient)).ToList();
        var index = new StoreIndex
        {
            Dataset = dataset.Name,
            DType = float16 ? "float16" : "float32",
            Leads = PreprocessConfig.Leads,
            Length = config.TargetLength,
            SamplingRate = config.TargetRate,
            LeadNames = config.ReorderLeads ? LeadOrder.Model : [],
            LabelNames = dataset.LabelNames,
            Preprocess = config,
            Fingerprint = fingerprint,
            BadRecords = committed.Bad.Count,
            Skipped = dataset.Skipped.Count,
            Entries = entries,
        };
        AtomicFile.WriteAllText(Path.Combine(work.Path, EcgStore.BadRecordsFile), BadRecordsCsv(dataset, committed.Bad));
        AtomicFile.WriteAllText(Path.Combine(work.Path, EcgStore.SkippedFile), SkippedCsv(dataset.Skipped));
        AtomicFile.WriteAllText(Path.Combine(work.Path, EcgStore.NoReportFile), NoReportCsv(committed.Written.Select(i => dataset.Entries[i])));
        File.Move(work.Signals, Path.Combine(work.Path, EcgStore.SignalFile(float16)), overwrite: true);
        // Streamed: the index of a MIMIC-sized store is hundreds of MB of JSON, which need not exist as one string.
        AtomicFile.Write(Path.Combine(work.Path, EcgStore.IndexFile), s => JsonSerializer.Serialize(s, index));
        File.Delete(work.Journal);
        File.Delete(work.Manifest);
        return entries;
    }

    /// <summary>
    /// The finished work folder becomes the store in one rename (an empty target folder is replaced; a non-empty one was
    /// refused before any work). The work folder has a fixed name, not <see cref="AtomicFile"/>'s temporary one, because
    /// a killed build resumes from it.
    /// </summary>
    private static void MoveIntoPlace(WorkFolder work, string directory) =>
        AtomicFile.MoveFolderIntoPlace(work.Path, directory, ExistingFolder.Refuse);

    private static string BadRecordsCsv(EcgDataset dataset, IEnumerable<(int Entry, string Reason)> bad)
    {
        var csv = new StringBuilder("id,path,reason\n");
        foreach (var (i, reason) in bad.OrderBy(b => b.Entry))
            csv.Append(Csv(dataset.Entries[i].Id)).Append(',').Append(Csv(dataset.Entries[i].RecordPath)).Append(',').Append(Csv(reason)).Append('\n');
        return csv.ToString();
    }

    private static string NoReportCsv(IEnumerable<DatasetEntry> stored)
    {
        var csv = new StringBuilder("id,path\n");
        foreach (var e in stored.Where(e => string.IsNullOrWhiteSpace(e.Report)))
            csv.Append(Csv(e.Id)).Append(',').Append(Csv(e.RecordPath)).Append('\n');
        return csv.ToString();
    }

    private static string SkippedCsv(IEnumerable<DatasetIssue> skipped)
    {
        var csv = new StringBuilder("id,reason\n");
        foreach (var s in skipped) csv.Append(Csv(s.Id)).Append(',').Append(Csv(s.Reason)).Append('\n');
        return csv.ToString();
    }

    /// <summary>Hash of everything that decides a store's content, so a resumed build continues only the same job.</summary>
    private static string Fingerprint(EcgDataset dataset, PreprocessConfig config, bool float16)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) => sha.AppendData(Encoding.UTF8.GetBytes(s + "\u001f"));
        Add(dataset.Name);
        Add(JsonSerializer.Serialize(config));
        Add(float16 ? "f16" : "f32");
        foreach (string n in dataset.LabelNames) Add(n);
        foreach (var e in dataset.Entries)
        {
            Add(e.Id); Add(e.RecordPath); Add(e.Split); Add(e.Report);
            Add(string.Join(",", e.Labels));
            // Only named patients enter the hash, so stores of datasets without patients keep their fingerprint.
            if (e.Patient != null) Add("patient=" + e.Patient);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static string Csv(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
