using Deri.Training;
using TorchSharp;

namespace Deri.Baselines;

/// <summary>
/// An ECG-only method as the trainer sees it: the batch moves to the device, momentum networks update
/// (<see cref="EcgSslMethod.BeforeTrainStep"/>) before each training forward, then the method's loss terms.
/// </summary>
public sealed class SslPretrainingTask(EcgSslMethod method, torch.Device device) : IPretrainingTask<EcgBatch>
{
    /// <inheritdoc />
    public torch.nn.Module Module => method;

    /// <summary>The method being trained.</summary>
    public EcgSslMethod Method => method;

    /// <inheritdoc />
    public LossTerms Step(EcgBatch batch, bool train)
    {
        bool onDevice = batch.Ecg.device_type == device.type && (device.index < 0 || batch.Ecg.device_index == device.index);
        var ecg = onDevice ? batch.Ecg : batch.Ecg.to(device);
        if (train) method.BeforeTrainStep();
        return method.Losses(onDevice ? batch : batch with { Ecg = ecg });
    }
}
