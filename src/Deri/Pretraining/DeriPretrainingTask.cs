using Deri.Training;
using TorchSharp;

namespace Deri.Pretraining;

/// <summary>The DERI objective as the trainer sees it: one batch in, the named loss terms out.</summary>
public sealed class DeriPretrainingTask(DeriPretrainingModule module, torch.Device device) : IPretrainingTask<PairBatch>
{
    /// <inheritdoc />
    public torch.nn.Module Module => module;

    /// <inheritdoc />
    public LossTerms Step(PairBatch batch, bool train)
    {
        var ecg = OnDevice(batch.Ecg, device) ? batch.Ecg : batch.Ecg.to(device);
        // The terms live in the trainer's dispose scope for this step; the trainer weights them with
        // trainer.loss_weights, from which the model's loss weights were built.
        return module.Losses(ecg, batch.Reports);
    }

    // Device has no value equality: compare type and index.
    internal static bool OnDevice(torch.Tensor t, torch.Device device) =>
        t.device_type == device.type && (device.index < 0 || t.device_index == device.index);
}
