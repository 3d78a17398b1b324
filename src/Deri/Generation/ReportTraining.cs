using Deri.Data.Store;
using Deri.Generation.Tokenization;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Generation;

/// <summary>One batch for report training: signals <c>(B, leads, L)</c> (or precomputed memory features), token ids and attention mask <c>(B, T)</c> int64.</summary>
/// <param name="Ecg">Preprocessed signals, float32; with a frozen ECG side, its memory features (<see cref="CachedReportPairData"/>).</param>
/// <param name="InputIds"><c>[BOS] report [EOS]</c> per row, right-padded with <c>[PAD]</c> to the longest row.</param>
/// <param name="AttentionMask">1 for tokens, 0 for padding.</param>
public sealed record ReportBatch(Tensor Ecg, Tensor InputIds, Tensor AttentionMask) : IDisposable
{
    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        Ecg.Dispose();
        InputIds.Dispose();
        AttentionMask.Dispose();
    }
}

/// <summary>
/// Turns reports into padded <c>[BOS] report [EOS]</c> id rows. A report longer than the limit keeps its
/// first <c>maxLength − 2</c> tokens and still ends with <c>[EOS]</c>, so the model always learns to stop.
/// </summary>
public static class ReportTargets
{
    /// <summary>Ids <c>(B, T)</c> and mask <c>(B, T)</c> for <paramref name="reports"/>, T = the longest row (≤ <paramref name="maxLength"/>).</summary>
    public static (Tensor Ids, Tensor Mask) Encode(IReportTokenizer tokenizer, IReadOnlyList<string> reports, int maxLength)
    {
        if (maxLength < 3) throw new Deri.Config.ConfigException($"max_length must be at least 3, got {maxLength}");
        var rows = reports.Select(r =>
        {
            var ids = tokenizer.Encode(r);
            var body = ids.Length > maxLength - 2 ? ids[..(maxLength - 2)] : ids;
            return (int[])[tokenizer.BosId, .. body, tokenizer.EosId];
        }).ToArray();
        int t = rows.Max(r => r.Length);
        var flat = new long[rows.Length * t];
        var mask = new long[rows.Length * t];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < t; j++)
            {
                bool real = j < rows[i].Length;
                flat[i * t + j] = real ? rows[i][j] : tokenizer.PadId;
                mask[i * t + j] = real ? 1 : 0;
            }
        // clone(): torch-owned memory (see ITrainingData on reproducibility).
        return (torch.tensor(flat, dtype: ScalarType.Int64).view(rows.Length, t).clone(),
                torch.tensor(mask, dtype: ScalarType.Int64).view(rows.Length, t).clone());
    }
}

/// <summary>ECG–report pairs of some store rows, tokenized for the decoder; thread-safe and free of torch randomness.</summary>
public sealed class ReportPairData : ITrainingData<ReportBatch>
{
    private readonly EcgStore store;
    private readonly int[] rows;
    private readonly IReportTokenizer tokenizer;
    private readonly int maxLength;

    /// <summary>The records of <paramref name="store"/> at <paramref name="rows"/>.</summary>
    /// <exception cref="InputFormatException">A record has an empty report.</exception>
    public ReportPairData(EcgStore store, int[] rows, IReportTokenizer tokenizer, int maxLength)
    {
        foreach (int r in rows)
            if (string.IsNullOrWhiteSpace(store.Entries[r].Report))
                throw new InputFormatException($"{store.Directory}: record {store.Entries[r].Id} has no report; report generation needs ECG–report pairs");
        this.store = store;
        this.rows = rows;
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    /// <inheritdoc />
    public int Count => rows.Length;

    /// <inheritdoc />
    public ReportBatch Load(ReadOnlySpan<int> indices)
    {
        var storeRows = new int[indices.Length];
        var reports = new string[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            storeRows[i] = rows[indices[i]];
            reports[i] = store.Entries[storeRows[i]].Report;
        }
        var (ids, mask) = ReportTargets.Encode(tokenizer, reports, maxLength);
        return new ReportBatch(store.ReadTensor(storeRows), ids, mask);
    }
}

/// <summary>
/// ECG–report pairs whose ECG side is frozen: the memory features of every record are computed once (eval mode, no_grad,
/// exactly what <see cref="ReportModel.Features"/> gives a frozen model) and batches carry them instead of signals, so
/// training runs the decoder only. Features <c>(N, d)</c> or <c>(N, n + 1, d)</c> on the CPU.
/// </summary>
public sealed class CachedReportPairData : ITrainingData<ReportBatch>, IDisposable
{
    private readonly Tensor features;
    private readonly string[] reports;
    private readonly IReportTokenizer tokenizer;
    private readonly int maxLength;

    /// <summary>Computes the features of <paramref name="rows"/> of <paramref name="store"/> with the frozen <paramref name="model"/>.</summary>
    /// <exception cref="InvalidOperationException">The model's ECG side is not frozen.</exception>
    /// <exception cref="InputFormatException">A record has an empty report.</exception>
    public CachedReportPairData(ReportModel model, EcgStore store, int[] rows, IReportTokenizer tokenizer, int maxLength, Device device,
        int batchSize = 64)
    {
        if (!model.FreezeEcg) throw new InvalidOperationException("cached ECG features need a frozen ECG side (freeze_ecg: true)");
        foreach (int r in rows)
            if (string.IsNullOrWhiteSpace(store.Entries[r].Report))
                throw new InputFormatException($"{store.Directory}: record {store.Entries[r].Id} has no report; report generation needs ECG–report pairs");
        var parts = new List<Tensor>();
        for (int start = 0; start < rows.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = rows.AsSpan(start, Math.Min(batchSize, rows.Length - start)).ToArray();
            parts.Add(model.Features(store.ReadTensor(batch, device)).cpu().MoveToOuterDisposeScope());
        }
        features = parts.Count == 0 ? torch.empty(0) : torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        reports = rows.Select(r => store.Entries[r].Report).ToArray();
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
    }

    /// <inheritdoc />
    public int Count => reports.Length;

    /// <inheritdoc />
    public ReportBatch Load(ReadOnlySpan<int> indices)
    {
        var idx = indices.ToArray();
        var (ids, mask) = ReportTargets.Encode(tokenizer, idx.Select(i => reports[i]).ToList(), maxLength);
        using var index = torch.tensor(idx.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64);
        return new ReportBatch(features.index_select(0, index), ids, mask);
    }

    /// <summary>Releases the features.</summary>
    public void Dispose() => features.Dispose();
}

/// <summary>
/// The report model's objective for the shared trainer: one loss term, <see cref="LossName"/>. With
/// <paramref name="cachedFeatures"/> the batches carry memory features (<see cref="CachedReportPairData"/>), not signals.
/// </summary>
public sealed class ReportTrainingTask(ReportModel model, Device device, bool cachedFeatures = false) : IPretrainingTask<ReportBatch>
{
    /// <summary>Name of the teacher-forced cross-entropy term (its weight in <c>trainer.loss_weights</c>).</summary>
    public const string LossName = "lm";

    /// <inheritdoc />
    public nn.Module Module => model;

    /// <inheritdoc />
    public LossTerms Step(ReportBatch batch, bool train) => new LossTerms().Add(LossName, cachedFeatures
        ? model.LossFromFeatures(batch.Ecg.to(device), batch.InputIds.to(device), batch.AttentionMask.to(device))
        : model.Loss(batch.Ecg.to(device), batch.InputIds.to(device), batch.AttentionMask.to(device)));
}
