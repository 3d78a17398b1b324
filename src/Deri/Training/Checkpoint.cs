using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Deri.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Training;

/// <summary>Everything in a checkpoint besides tensors: where training stands and how to continue it.</summary>
public sealed record CheckpointInfo
{
    /// <summary>Epoch to continue in (0-based); equals max_epochs after the last epoch.</summary>
    public int Epoch { get; init; }

    /// <summary>Batches of <see cref="Epoch"/> already done.</summary>
    public int StepInEpoch { get; init; }

    /// <summary>Optimizer steps done since the start of training.</summary>
    public long GlobalStep { get; init; }

    /// <summary>Seed of the data order (trainer.seed).</summary>
    public long Seed { get; init; }

    /// <summary>Records per training batch.</summary>
    public int BatchSize { get; init; }

    /// <summary>Training records (the permutation is over this many).</summary>
    public int TrainCount { get; init; }

    /// <summary>Scheduler step count (PyTorch's last_epoch).</summary>
    public long SchedulerStep { get; init; }

    /// <summary>Scheduler T_cur.</summary>
    public long SchedulerTCur { get; init; }

    /// <summary>Scheduler T_i.</summary>
    public long SchedulerTI { get; init; }

    /// <summary>Best selection value so far, if any epoch was evaluated.</summary>
    public double? BestSelection { get; init; }

    /// <summary>Epoch (0-based) that produced <see cref="BestSelection"/>.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>Name of the selection metric.</summary>
    public string? BestMetric { get; init; }

    /// <summary>The data the selection was computed on.</summary>
    public string? BestSelectedOn { get; init; }

    /// <summary>Consecutive steps skipped for a non-finite loss at the time of saving.</summary>
    public int NonFiniteStreak { get; init; }

    /// <summary>Training batches skipped for bad data so far.</summary>
    public int SkippedBatches { get; init; }

    /// <summary>The resolved config (YAML) the run used.</summary>
    public string ConfigYaml { get; init; } = "";

    /// <summary>When the checkpoint was written (UTC, ISO 8601).</summary>
    public string SavedUtc { get; init; } = "";
}

/// <summary>
/// One checkpoint file: module state, optimizer state, torch generator state and a JSON
/// <see cref="CheckpointInfo"/>, as named, length-prefixed sections followed by an end marker whose
/// payload is the SHA-256 of every byte before it. It is written atomically (<see cref="AtomicFile"/>), so a
/// crash never leaves a half checkpoint; a truncated, foreign or corrupted file (a checksum mismatch) is
/// refused with a message naming it. Files of format version 1, written before checksums, are read unverified.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "DERICKPT"u8.ToArray();
    private const int FormatVersion = 2;
    private const int UncheckedVersion = 1;
    private const string InfoSection = "info.json";
    private const string ModelSection = "model";
    private const string OptimizerSection = "optimizer";
    private const string RngSection = "torch_rng";
    private const string EndSection = "end";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Writes a checkpoint of <paramref name="module"/>, <paramref name="optimizer"/> and the torch CPU generator.</summary>
    public static void Save(string path, CheckpointInfo info, nn.Module module, OptimizerHelper? optimizer)
    {
        byte[] model = ToBytes(w => module.save(w));
        byte[]? opt = optimizer is null ? null : ToBytes(optimizer.save_state_dict);
        byte[] rng;
        using (var state = torch.get_rng_state()) rng = state.data<byte>().ToArray();
        byte[] infoBytes = JsonSerializer.SerializeToUtf8Bytes(info, Json);

        AtomicFile.Write(path, stream =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var w = new BinaryWriter(new HashingStream(stream, hash), Encoding.UTF8, leaveOpen: true))
            {
                w.Write(Magic);
                w.Write(FormatVersion);
                WriteSection(w, InfoSection, infoBytes);
                WriteSection(w, ModelSection, model);
                if (opt is not null) WriteSection(w, OptimizerSection, opt);
                WriteSection(w, RngSection, rng);
            }
            using var end = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            WriteSection(end, EndSection, hash.GetHashAndReset());
        });
    }

    /// <summary>Reads only the <see cref="CheckpointInfo"/> of a checkpoint.</summary>
    /// <exception cref="InputFormatException">The file is not a checkpoint, is truncated or fails its checksum.</exception>
    public static CheckpointInfo ReadInfo(string path) => ParseInfo(path, ReadSections(path));

    /// <summary>
    /// Restores <paramref name="module"/> (strictly: every key must match), the optimizer state when
    /// <paramref name="optimizer"/> is given, and the torch generator when <paramref name="restoreRng"/>.
    /// </summary>
    /// <exception cref="InputFormatException">The file is not a checkpoint, is truncated, fails its checksum, or does not fit the module.</exception>
    public static CheckpointInfo Load(string path, nn.Module module, OptimizerHelper? optimizer, bool restoreRng)
    {
        var sections = ReadSections(path);
        var info = ParseInfo(path, sections);
        try
        {
            using (var r = new BinaryReader(new MemoryStream(Require(path, sections, ModelSection))))
                module.load(r, strict: true);
            if (optimizer is not null)
            {
                using var r = new BinaryReader(new MemoryStream(Require(path, sections, OptimizerSection)));
                optimizer.load_state_dict(r);
            }
        }
        catch (Exception e) when (e is not InputFormatException)
        {
            throw new InputFormatException($"{path}: the checkpoint does not fit this model or optimizer: {e.Message}", e);
        }
        if (restoreRng)
        {
            using var state = torch.tensor(Require(path, sections, RngSection), dtype: ScalarType.Byte);
            torch.set_rng_state(state);
        }
        return info;
    }

    private static byte[] ToBytes(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) write(w);
        return ms.ToArray();
    }

    private static void WriteSection(BinaryWriter w, string name, byte[] bytes)
    {
        w.Write(name);
        w.Write((long)bytes.Length);
        w.Write(bytes);
    }

    private static Dictionary<string, byte[]> ReadSections(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: checkpoint not found", path);
        // The file is hashed as it is read (BinaryReader reads exactly what it decodes, no read-ahead), so the
        // checksum costs no second pass over a checkpoint of hundreds of megabytes.
        using var file = File.OpenRead(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var r = new BinaryReader(new HashingStream(file, hash), Encoding.UTF8);
        long length = file.Length;
        try
        {
            if (length < Magic.Length + 4 || !r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InputFormatException($"{path}: not a Deri checkpoint (no DERICKPT header)");
            int version = r.ReadInt32();
            if (version != FormatVersion && version != UncheckedVersion)
                throw new InputFormatException($"{path}: checkpoint format version {version}, this build reads versions {UncheckedVersion} and {FormatVersion}");
            var sections = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            while (true)
            {
                byte[] prefixHash = hash.GetCurrentHash();
                string name = r.ReadString();
                long size = r.ReadInt64();
                if (size < 0 || size > length - file.Position)
                    throw new InputFormatException($"{path}: checkpoint section '{name}' claims {size} bytes but the file is truncated");
                if (name == EndSection)
                {
                    if (version == FormatVersion && !prefixHash.AsSpan().SequenceEqual(r.ReadBytes((int)Math.Min(size, 64))))
                        throw new InputFormatException(
                            $"{path}: the checkpoint is corrupted (its SHA-256 checksum does not match its contents); use another checkpoint");
                    return sections;
                }
                if (size > Array.MaxLength)
                    throw new InputFormatException($"{path}: checkpoint section '{name}' has {size} bytes, more than one section can hold");
                sections[name] = r.ReadBytes((int)size);
            }
        }
        catch (EndOfStreamException e)
        {
            throw new InputFormatException($"{path}: the checkpoint is truncated (no end marker)", e);
        }
    }

    /// <summary>A forward-only stream that hashes every byte written to or read from <paramref name="inner"/>.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            hash.AppendData(buffer[..n]);
            return n;
        }
    }

    private static byte[] Require(string path, Dictionary<string, byte[]> sections, string name) =>
        sections.TryGetValue(name, out var bytes) ? bytes : throw new InputFormatException($"{path}: the checkpoint has no '{name}' section");

    private static CheckpointInfo ParseInfo(string path, Dictionary<string, byte[]> sections)
    {
        try
        {
            return JsonSerializer.Deserialize<CheckpointInfo>(Require(path, sections, InfoSection), Json)
                ?? throw new InputFormatException($"{path}: empty checkpoint info");
        }
        catch (JsonException e)
        {
            throw new InputFormatException($"{path}: the checkpoint info is not valid JSON: {e.Message}", e);
        }
    }
}
