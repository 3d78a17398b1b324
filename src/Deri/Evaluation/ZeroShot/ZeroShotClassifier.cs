using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Evaluation;

/// <summary>
/// What zero-shot classification needs from a model. Implementations run in inference mode; the caller
/// wraps calls in <c>no_grad</c> and a dispose scope.
/// </summary>
public interface IZeroShotEncoder
{
    /// <summary>ECG embeddings of one batch: <c>(B, leads, samples) → (B, D)</c> (normalised or not).</summary>
    Tensor EncodeEcg(Tensor ecgBatch);

    /// <summary>Class embeddings of already lower-cased texts: <c>C texts → (C, D)</c> (normalised or not).</summary>
    Tensor EncodeTexts(IReadOnlyList<string> texts);
}

/// <summary>An <see cref="IZeroShotEncoder"/> made of two delegates (e.g. a model's <c>ZeroShotEcgEmbedding</c>
/// and its text encoder followed by <c>TextClassEmbedding</c>).</summary>
/// <param name="encodeEcg"><c>(B, leads, samples) → (B, D)</c>.</param>
/// <param name="encodeTexts"><c>C texts → (C, D)</c>.</param>
public sealed class DelegateZeroShotEncoder(Func<Tensor, Tensor> encodeEcg, Func<IReadOnlyList<string>, Tensor> encodeTexts) : IZeroShotEncoder
{
    /// <inheritdoc/>
    public Tensor EncodeEcg(Tensor ecgBatch) => encodeEcg(ecgBatch);

    /// <inheritdoc/>
    public Tensor EncodeTexts(IReadOnlyList<string> texts) => encodeTexts(texts);
}

/// <summary>Zero-shot results of one split under both threshold protocols.</summary>
/// <param name="Paper">The paper's protocol: thresholds chosen on the evaluated split itself.</param>
/// <param name="HeldOut">Thresholds chosen on the validation split and applied to the evaluated split; null without validation scores.</param>
public sealed record ZeroShotResult(MetricsReport Paper, MetricsReport? HeldOut);

/// <summary>
/// Zero-shot classification (METHOD §4): cosine similarity between normalised ECG embeddings and normalised
/// class-prompt embeddings, then per-class ROC-AUC, max-F1 and accuracy under two threshold protocols.
/// </summary>
public static class ZeroShotClassifier
{
    /// <summary>
    /// Class embeddings <c>(C, D)</c>, L2-normalised, float64, of the lower-cased <paramref name="texts"/>
    /// (use <see cref="ClassPrompts.TextsFor"/>), computed under <c>no_grad</c>.
    /// </summary>
    public static Tensor ClassEmbeddings(IZeroShotEncoder encoder, IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) throw new ArgumentException("no class texts");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var lowered = texts.Select(t => t.ToLowerInvariant()).ToList();
        var e = encoder.EncodeTexts(lowered);
        if (e.dim() != 2 || e.shape[0] != texts.Count)
            throw new InvalidOperationException($"text encoder returned shape [{string.Join(",", e.shape)}] for {texts.Count} texts; expected ({texts.Count}, D)");
        return Normalize(e).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Cosine scores <c>(N, C)</c> of every ECG against every class: each batch is encoded under
    /// <c>no_grad</c> in its own dispose scope, normalised and multiplied by the normalised class embeddings.
    /// Only the scores are kept, so memory does not grow with N beyond <c>N × C</c> doubles.
    /// </summary>
    /// <param name="encoder">The model.</param>
    /// <param name="ecgBatches">Batches <c>(B, leads, samples)</c> in sample order.</param>
    /// <param name="classEmbeddings"><c>(C, D)</c>, e.g. from <see cref="ClassEmbeddings"/>.</param>
    /// <param name="disposeBatches">Dispose each batch after use (for loaders that create a fresh tensor per batch).</param>
    public static double[,] Scores(IZeroShotEncoder encoder, IEnumerable<Tensor> ecgBatches, Tensor classEmbeddings, bool disposeBatches = true)
    {
        using var cls = Normalize(classEmbeddings);
        var rows = new List<double[]>();
        long c = cls.shape[0];
        foreach (var batch in ecgBatches)
        {
            try
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var e = encoder.EncodeEcg(batch);
                if (e.dim() != 2 || e.shape[0] != batch.shape[0] || e.shape[1] != cls.shape[1])
                    throw new InvalidOperationException(
                        $"ECG encoder returned shape [{string.Join(",", e.shape)}] for a batch of {batch.shape[0]}; expected ({batch.shape[0]}, {cls.shape[1]})");
                var s = Normalize(e).matmul(cls.to(e.device).t()).cpu();   // (B, C)
                var flat = s.data<double>().ToArray();
                for (long i = 0; i < s.shape[0]; i++) rows.Add(flat.AsSpan((int)(i * c), (int)c).ToArray());
            }
            finally
            {
                if (disposeBatches) batch.Dispose();
            }
        }
        if (rows.Count == 0) throw new ArgumentException("no ECG batches");
        var m = new double[rows.Count, c];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < c; j++) m[i, j] = rows[i][j];
        return m;
    }

    /// <summary>Cosine scores <c>(N, C)</c> of precomputed embeddings <c>(N, D)</c> and <c>(C, D)</c> (normalised here).</summary>
    public static double[,] CosineScores(Tensor ecgEmbeddings, Tensor classEmbeddings)
    {
        if (ecgEmbeddings.dim() != 2 || classEmbeddings.dim() != 2 || ecgEmbeddings.shape[1] != classEmbeddings.shape[1])
            throw new ArgumentException(
                $"expected ECG embeddings (N, D) and class embeddings (C, D), got [{string.Join(",", ecgEmbeddings.shape)}] and [{string.Join(",", classEmbeddings.shape)}]");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var s = Normalize(ecgEmbeddings).matmul(Normalize(classEmbeddings).to(ecgEmbeddings.device).t()).cpu();
        var flat = s.data<double>().ToArray();
        int n = (int)s.shape[0], c = (int)s.shape[1];
        var m = new double[n, c];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(double));
        return m;
    }

    /// <summary>
    /// Metrics of zero-shot scores under the paper's protocol and, when validation scores and labels are
    /// given, the held-out protocol. Degenerate classes are excluded by name (see <see cref="MultiLabelMetrics"/>).
    /// </summary>
    public static ZeroShotResult Evaluate(double[,] scores, int[,] labels, IReadOnlyList<string> classNames,
        double[,]? validationScores = null, int[,]? validationLabels = null, string splitName = "test")
    {
        if ((validationScores is null) != (validationLabels is null))
            throw new ArgumentException("validation scores and labels go together");
        var paper = MultiLabelMetrics.Evaluate(scores, labels, classNames, splitName);
        var held = validationScores is null ? null
            : MultiLabelMetrics.EvaluateWithValidationThresholds(scores, labels, validationScores, validationLabels!, classNames, splitName);
        return new ZeroShotResult(paper, held);
    }

    // L2 normalisation along the last dimension in float64 (eps avoids NaN for an all-zero vector).
    private static Tensor Normalize(Tensor x) => nn.functional.normalize(x.to_type(ScalarType.Float64), p: 2, dim: -1, eps: 1e-12);
}
