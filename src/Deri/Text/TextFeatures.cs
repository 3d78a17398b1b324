using static TorchSharp.torch;

namespace Deri.Text;

/// <summary>
/// Text-encoder outputs for a batch of B texts: <c>Pooled (B, H)</c>, <c>Hidden (B, L, H)</c> and
/// <c>Mask (B, L)</c> (int64, 1 = real token). The instance owns the tensors.
/// </summary>
public sealed class TextFeatures : IDisposable
{
    /// <summary>Wraps the three tensors, taking ownership.</summary>
    public TextFeatures(Tensor pooled, Tensor hidden, Tensor mask)
    {
        Pooled = pooled;
        Hidden = hidden;
        Mask = mask;
    }

    /// <summary>tanh-pooled <c>[CLS]</c> vector per text, <c>(B, H)</c>.</summary>
    public Tensor Pooled { get; }

    /// <summary>Last hidden states, <c>(B, L, H)</c>.</summary>
    public Tensor Hidden { get; }

    /// <summary>Attention mask, <c>(B, L)</c> int64.</summary>
    public Tensor Mask { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Pooled.Dispose();
        Hidden.Dispose();
        Mask.Dispose();
    }
}

/// <summary>Anything that turns texts into <see cref="TextFeatures"/> (a text encoder, or a cache in front of one).</summary>
public interface ITextFeatureSource
{
    /// <summary>H, the width of <c>pooled</c> and of each <c>hidden</c> row.</summary>
    int OutputDim { get; }

    /// <summary>L, the number of token positions of <c>hidden</c>.</summary>
    int MaxLength { get; }

    /// <summary>What the features depend on (model weights, pooling, length, lower-casing); a feature store records it and is read only by a source with the same identity.</summary>
    string Identity { get; }

    /// <summary>Encodes <paramref name="texts"/>; the tensors are on <paramref name="device"/> and owned by the caller.</summary>
    TextFeatures Encode(IReadOnlyList<string> texts, Device device);
}
