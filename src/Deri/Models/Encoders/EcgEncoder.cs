using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Models.Encoders;

/// <summary>
/// An ECG backbone: <c>(B, leads, length)</c> → feature map <c>(B, OutputChannels, OutputLength(length))</c>.
/// </summary>
public abstract class EcgEncoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module with its TorchSharp name.</summary>
    protected EcgEncoder(string name) : base(name) { }

    /// <summary>Channels of the output feature map.</summary>
    public abstract long OutputChannels { get; }

    /// <summary>Time steps of the output feature map for an input of <paramref name="inputLength"/> samples.</summary>
    public abstract long OutputLength(long inputLength);
}
