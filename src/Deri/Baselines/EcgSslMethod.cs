using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Baselines;

/// <summary>One batch of ECG-only pretraining data.</summary>
/// <param name="Ecg">Preprocessed signals <c>(B, leads, L)</c>, float32, in torch-allocated memory.</param>
/// <param name="Patients">The patient of each record when the dataset names one (CLOCS pairs records of a patient), else null.</param>
public sealed record EcgBatch(Tensor Ecg, IReadOnlyList<string?> Patients) : IDisposable
{
    /// <summary>Releases the signal tensor.</summary>
    public void Dispose() => Ecg.Dispose();
}

/// <summary>
/// An ECG-only self-supervised pretraining method of the paper's baselines (SimCLR, BYOL, BarlowTwins, MoCo-v3,
/// SimSiam, TS-TCC, CLOCS, ASTCL, CRT, ST-MEM): a module that owns its ECG encoder, its heads and any auxiliary
/// networks (momentum encoders, predictors, decoders), and computes its objective as named loss terms.
/// Everything it registers is optimised (when <c>requires_grad</c>) and checkpointed by the shared trainer.
/// </summary>
/// <remarks>
/// Randomness (augmentations, masks, crops) must be drawn from the torch default generator inside
/// <see cref="Losses"/>: the trainer checkpoints that generator, so a resumed run repeats the same draws.
/// </remarks>
public abstract class EcgSslMethod : nn.Module
{
    /// <summary>Creates the module with its TorchSharp name (the method's name).</summary>
    protected EcgSslMethod(string name) : base(name) { }

    /// <summary>
    /// The loss terms <see cref="Losses"/> returns and their default weights in the trainer's weighted sum
    /// (used unless <c>trainer.loss_weights</c> names the terms itself).
    /// </summary>
    public abstract IReadOnlyDictionary<string, double> DefaultLossWeights { get; }

    /// <summary>Width D of <see cref="Represent"/>'s output.</summary>
    public abstract long RepresentationDim { get; }

    /// <summary>
    /// The objective's named scalar loss terms for one batch. Called in train mode with gradients on, and in eval
    /// mode under <c>no_grad</c> for validation losses; runs inside the trainer's dispose scope for the step.
    /// </summary>
    public abstract LossTerms Losses(EcgBatch batch);

    /// <summary>
    /// The representation that linear probing and t-SNE use: ECG <c>(B, leads, L)</c> → <c>(B, D)</c>, computed by
    /// the encoder the method trains (e.g. the global average of the backbone's feature map). Called in eval mode under no_grad.
    /// </summary>
    public abstract Tensor Represent(Tensor ecg);

    /// <summary>
    /// Called once before every training step's forward pass, with the weights the previous optimizer step produced:
    /// momentum (EMA) encoders update here. Doing it before rather than after the step gives the same sequence of
    /// target weights (the first call sees identical online and target weights) and needs no hook in the trainer.
    /// </summary>
    public virtual void BeforeTrainStep() { }
}
