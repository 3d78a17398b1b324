using Deri.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Pretraining;

/// <summary>
/// A DERI/MERL pretraining module as zero-shot evaluation sees it: ECGs through the model's zero-shot
/// embedding, class prompts through the text encoder and <c>proj_t</c>.
/// </summary>
/// <param name="module">The pretraining module.</param>
/// <param name="device">Where the module lives.</param>
public sealed class DeriZeroShotModel(DeriPretrainingModule module, Device device) : IZeroShotModel
{
    /// <inheritdoc/>
    public nn.Module Module => module;

    /// <inheritdoc/>
    public Device Device => device;

    /// <inheritdoc/>
    public Tensor EncodeEcg(Tensor ecgBatch) => module.Model.ZeroShotEcgEmbedding(ecgBatch);

    /// <inheritdoc/>
    public Tensor EncodeTexts(IReadOnlyList<string> texts) => module.ClassEmbeddings(texts, device);
}
