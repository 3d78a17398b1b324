using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
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
public sealed record StoreBuildResult(string Directory, int Written, int Bad, int Skipped, int ProcessedNow, bool AlreadyComplete, IReadOnlyDictionary<string, int> SplitCounts);

/// <summary>
/// Prepares a dataset into an <see cref="EcgStore"/>: records are preprocessed in parallel chunk by chunk; after each
/// chunk its signals are appended and flushed to <c>STORE.partial/signals.bin</c> and a line is appended to
/// <c>journal.jsonl</c>, so a killed run continues from the last committed chunk. A record that fails is listed
/// with its reason, never fatal. The finished folder is renamed into place in one step.
/// </summary>
public static class EcgStoreBuilder
{
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
        if (EcgStore.Exists(directory))
        {
            using var existing = EcgStore.Open(directory);
            if (existing.Index.Fingerprint != fingerprint)
                throw new IOException($"{directory} holds a store prepared from other inputs or settings; choose another --out or remove it");
            var counts = existing.Entries.GroupBy(e => e.Split).ToDictionary(g => g.Key, g => g.Count());
            return new StoreBuildResult(directory, existing.Count, existing.Index.BadRecords, existing.Index.Skipped, 0, true, counts);
        }
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new IOException($"{directory} exists and is not a prepared store (no {EcgStore.IndexFile}); choose another --out or remove it");

        if (options.ChunkSize <= 0) throw new ArgumentException($"ChunkSize must be positive, got {options.ChunkSize}");
        string work = directory + PartialSuffix;
        Directory.CreateDirectory(work);
        string manifestPath = Path.Combine(work, "manifest.json");
        if (File.Exists(manifestPath))
        {
            var m = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath));
            if (m == null || m.Fingerprint != fingerprint || m.ChunkSize != options.ChunkSize)
                throw new IOException($"{work} holds an unfinished build of different inputs or settings; remove it to start over");
        }
        else
        {
            WriteAtomic(manifestPath, JsonSerializer.Serialize(new Manifest(fingerprint, dataset.Entries.Count, options.ChunkSize)));
        }

        // Replay the journal: committed chunks, their written records and bad records.
        string journalPath = Path.Combine(work, "journal.jsonl");
        var written = new List<int>();
        var bad = new List<(int Entry, string Reason)>();
        var done = new HashSet<int>();
        if (File.Exists(journalPath))
        {
            foreach (string line in File.ReadLines(journalPath))
            {
                JournalLine? j;
                try { j = JsonSerializer.Deserialize<JournalLine>(line); }
                catch (JsonException) { break; } // a torn last line: that chunk is not committed
                if (j == null) break;
                done.Add(j.Chunk);
                written.AddRange(j.Written);
                bad.AddRange(j.Bad.Select(b => (int.Parse(b[0], System.Globalization.CultureInfo.InvariantCulture), b[1])));
            }
        }
        int recordValues = pre.OutputSize;
        int bytesPerValue = options.Float16 ? 2 : 4;
        long recordBytes = (long)recordValues * bytesPerValue;
        string signalsPath = Path.Combine(work, "signals.bin");
        int total = dataset.Entries.Count;
        int chunks = (total + options.ChunkSize - 1) / options.ChunkSize;
        int processedNow = 0;
        int workers = options.Workers > 0 ? options.Workers : Environment.ProcessorCount;

        using (var signals = new FileStream(signalsPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 20))
        using (var journal = new StreamWriter(new FileStream(journalPath, FileMode.Append, FileAccess.Write, FileShare.Read)))
        {
            // Anything past the last committed chunk is a torn write of an interrupted run. Signals are flushed before
            // their journal line, so a shorter file means the folder was tampered with.
            if (signals.Length < written.Count * recordBytes)
                throw new IOException($"{signalsPath}: {signals.Length} bytes, the journal commits {written.Count} records ({written.Count * recordBytes} bytes); remove {work} to start over");
            signals.SetLength(written.Count * recordBytes);
            signals.Seek(0, SeekOrigin.End);
            // Two chunk buffers: one is preprocessed while the previous one is written and committed.
            float[][] buffers = [new float[(long)options.ChunkSize * recordValues], new float[(long)options.ChunkSize * recordValues]];
            var bytes = new byte[recordBytes];
            int recordsDone = done.Sum(c => Math.Min(options.ChunkSize, total - c * options.ChunkSize));
            options.Progress?.Invoke(recordsDone, total);

            void Commit(int chunk, float[] buffer, int start, int count, string?[] errors)
            {
                var okHere = new List<int>();
                var badHere = new List<string[]>();
                for (int i = 0; i < count; i++)
                {
                    if (errors[i] != null) { badHere.Add([(start + i).ToString(System.Globalization.CultureInfo.InvariantCulture), errors[i]!]); continue; }
                    var values = buffer.AsSpan(i * recordValues, recordValues);
                    if (options.Float16)
                    {
                        var half = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes.AsSpan());
                        for (int k = 0; k < recordValues; k++) half[k] = (Half)values[k];
                        signals.Write(bytes);
                    }
                    else signals.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
                    okHere.Add(start + i);
                }
                // Signals reach the disk before the journal line that commits them.
                signals.Flush(flushToDisk: true);
                journal.WriteLine(JsonSerializer.Serialize(new JournalLine(chunk, okHere.ToArray(), badHere.ToArray())));
                journal.Flush();
                written.AddRange(okHere);
                bad.AddRange(badHere.Select(b => (int.Parse(b[0], System.Globalization.CultureInfo.InvariantCulture), b[1])));
                processedNow += count;
                recordsDone += count;
                options.Progress?.Invoke(recordsDone, total);
            }

            Task? pending = null;
            int current = 0;
            try
            {
                for (int chunk = 0; chunk < chunks; chunk++)
                {
                    if (done.Contains(chunk)) continue;
                    cancel.ThrowIfCancellationRequested();
                    int start = chunk * options.ChunkSize, count = Math.Min(options.ChunkSize, total - start);
                    var errors = new string?[count];
                    var buffer = buffers[current];
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
                    // Commits stay in chunk order: the previous one finishes before this one starts.
                    var previous = pending;
                    pending = null;
                    previous?.GetAwaiter().GetResult();
                    cancel.ThrowIfCancellationRequested();
                    int c = chunk;
                    pending = Task.Run(() => Commit(c, buffer, start, count, errors));
                    current ^= 1;
                }
            }
            finally
            {
                // Whatever happens, the chunk being written is committed (or fails) before the files close.
                pending?.GetAwaiter().GetResult();
            }
        }

        // Finalise: index, bad and skipped lists, then one rename of the whole folder.
        var entries = written.Select(i => dataset.Entries[i]).Select(e => new StoreEntry(e.Id, e.Split, e.Report, e.Labels, e.Patient)).ToList();
        var index = new StoreIndex
        {
            Dataset = dataset.Name,
            DType = options.Float16 ? "float16" : "float32",
            Leads = PreprocessConfig.Leads,
            Length = config.TargetLength,
            SamplingRate = config.TargetRate,
            LeadNames = config.ReorderLeads ? LeadOrder.Model : [],
            LabelNames = dataset.LabelNames,
            Preprocess = config,
            Fingerprint = fingerprint,
            BadRecords = bad.Count,
            Skipped = dataset.Skipped.Count,
            Entries = entries,
        };
        var badCsv = new StringBuilder("id,path,reason\n");
        foreach (var (i, reason) in bad.OrderBy(b => b.Entry))
            badCsv.Append(Csv(dataset.Entries[i].Id)).Append(',').Append(Csv(dataset.Entries[i].RecordPath)).Append(',').Append(Csv(reason)).Append('\n');
        var skippedCsv = new StringBuilder("id,reason\n");
        foreach (var s in dataset.Skipped) skippedCsv.Append(Csv(s.Id)).Append(',').Append(Csv(s.Reason)).Append('\n');
        WriteAtomic(Path.Combine(work, EcgStore.BadRecordsFile), badCsv.ToString());
        WriteAtomic(Path.Combine(work, EcgStore.SkippedFile), skippedCsv.ToString());
        File.Move(signalsPath, Path.Combine(work, EcgStore.SignalFile(options.Float16)), overwrite: true);
        WriteAtomic(Path.Combine(work, EcgStore.IndexFile), JsonSerializer.Serialize(index));
        File.Delete(journalPath);
        File.Delete(manifestPath);
        if (Directory.Exists(directory)) Directory.Delete(directory);
        Directory.Move(work, directory);
        var splitCounts = entries.GroupBy(e => e.Split).ToDictionary(g => g.Key, g => g.Count());
        return new StoreBuildResult(directory, entries.Count, bad.Count, dataset.Skipped.Count, processedNow, false, splitCounts);
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

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/> and renames it into place.</summary>
    internal static void WriteAtomic(string path, string text)
    {
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
