using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Training;

/// <summary>
/// Training or validation records that can be loaded in batches by index. The trainer decides the
/// order (a seeded permutation per epoch) and disposes each batch after its step.
/// </summary>
/// <typeparam name="TBatch">What the model's step consumes (signals, tokens, …).</typeparam>
/// <remarks>
/// With <c>trainer.num_workers</c> ≥ 1, <see cref="Load"/> runs on background threads, up to that many
/// batches ahead and possibly concurrently: it must be thread-safe and must not draw from the torch
/// default generator (draw randomness in the model step instead, whose generator state checkpoints keep).
/// For bitwise-reproducible runs, batch tensors must own torch-allocated memory (copy, e.g.
/// <c>tensor(array).clone()</c>, rather than wrap a managed array): MKL's matrix products depend on
/// the alignment of their inputs, and managed arrays land at arbitrary addresses.
/// </remarks>
public interface ITrainingData<out TBatch> where TBatch : IDisposable
{
    /// <summary>Number of records.</summary>
    int Count { get; }

    /// <summary>Loads the records at <paramref name="indices"/> (each in 0..Count−1) as one batch.</summary>
    TBatch Load(ReadOnlySpan<int> indices);
}

/// <summary>
/// A model with its pretraining objective: one call computes the named loss terms of a batch. The
/// trainer weights and sums the terms (<c>trainer.loss_weights</c>), back-propagates, and steps the
/// optimizer over the trainable parameters of <see cref="Module"/>.
/// </summary>
/// <typeparam name="TBatch">The batch type of the data.</typeparam>
public interface IPretrainingTask<in TBatch>
{
    /// <summary>The module whose trainable parameters (<c>requires_grad</c>) are optimised and whose state is checkpointed.</summary>
    nn.Module Module { get; }

    /// <summary>
    /// Computes the loss terms of <paramref name="batch"/>. <paramref name="train"/> is false during
    /// validation (the trainer has set eval mode and disabled gradients). Runs inside the trainer's
    /// dispose scope for the step, so intermediate tensors need no disposal.
    /// </summary>
    LossTerms Step(TBatch batch, bool train);
}

/// <summary>Scores of one per-epoch evaluation and the value that selects the best checkpoint (higher is better).</summary>
/// <param name="Scores">Named scores, e.g. the zero-shot AUC of each validation set.</param>
/// <param name="SelectionMetric">Name of the selection value, e.g. <c>mean_zeroshot_auc</c>.</param>
/// <param name="Selection">The value compared across epochs; higher is better.</param>
/// <param name="SelectedOn">The data the selection value was computed on, for the log (e.g. the validation splits).</param>
public sealed record EpochEvaluation(
    IReadOnlyDictionary<string, double> Scores, string SelectionMetric, double Selection, string SelectedOn);

/// <summary>An evaluation run at each epoch end (e.g. zero-shot AUC on the validation splits).</summary>
public interface IEpochEvaluator
{
    /// <summary>Evaluates the current model after <paramref name="epoch"/> (0-based). The trainer has set eval mode.</summary>
    EpochEvaluation Evaluate(int epoch);
}
