using static TorchSharp.torch;

namespace Deri.Pretraining;

/// <summary>One batch of ECG–report pairs: signals <c>(B, leads, L)</c> and the B report texts.</summary>
/// <param name="Ecg">Preprocessed signals, <c>(B, leads, L)</c> float32, in torch-allocated memory.</param>
/// <param name="Reports">The report of each record, in batch order.</param>
public sealed record PairBatch(Tensor Ecg, IReadOnlyList<string> Reports) : IDisposable
{
    /// <summary>Releases the signal tensor.</summary>
    public void Dispose() => Ecg.Dispose();
}
