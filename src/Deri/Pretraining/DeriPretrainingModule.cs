using Deri.Losses;
using Deri.Models;
using Deri.Training;
using Deri.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Pretraining;

/// <summary>
/// Everything that pretraining optimises and checkpoints: the DERI (or MERL) model, its loss and, when it
/// is trained jointly, the text encoder's BERT. A frozen pretrained text encoder is not a submodule: its
/// weights never change, so checkpoints leave it out and it is loaded again from its folder.
/// State-dict keys: <c>deri.*</c> (the model) and <c>text.*</c> (a trainable BERT, Hugging Face names).
/// </summary>
public sealed class DeriPretrainingModule : nn.Module
{
    private readonly DeriModel deri;
    private readonly DeriLoss loss;
    private readonly BertModel? text;
    private readonly ITextFeatureSource features;

    /// <summary>Wraps a model, its loss and the text encoder it learns from.</summary>
    public DeriPretrainingModule(DeriModel model, DeriLoss loss, TextEncoder textEncoder) : base("deri_pretraining")
    {
        if (model.TextDim != textEncoder.OutputDim)
            throw new Deri.Config.ConfigException(
                $"network.feature_dim = {model.TextDim} but the text encoder produces {textEncoder.OutputDim}-d features; set network.feature_dim = {textEncoder.OutputDim}");
        if (model.TextLength != textEncoder.MaxLength)
            throw new Deri.Config.ConfigException(
                $"network.text_max_length = {model.TextLength} but the text encoder pads to {textEncoder.MaxLength} tokens");
        deri = model;
        this.loss = loss;
        TextEncoder = textEncoder;
        text = textEncoder.Frozen ? null : textEncoder.Model;
        // A frozen encoder's output depends only on the text: encode each distinct report once and reuse it.
        // With compute-on-longest the padding rows are zeros anyway, so only real-token rows are kept.
        features = textEncoder.Frozen
            ? new TextFeatureCache(textEncoder, new TextFeatureCacheOptions(FullHidden: !textEncoder.ComputeOnLongest))
            : textEncoder;
        RegisterComponents();
    }

    /// <summary>The ECG–text model.</summary>
    public DeriModel Model => deri;

    /// <summary>Distinct texts encoded so far by the frozen encoder's cache (0 when the encoder is trained).</summary>
    public long CachedTexts => features is TextFeatureCache c ? c.Count : 0;

    /// <summary>The text encoder (frozen or trained jointly).</summary>
    public TextEncoder TextEncoder { get; }

    /// <summary>
    /// The loss terms of one batch: text features of the reports, the model's forward, then every term.
    /// ecg (B, leads, L); the terms are scalars.
    /// </summary>
    public LossTerms Losses(Tensor ecg, IReadOnlyList<string> reports)
    {
        using var encoded = features.Encode(reports, ecg.device);
        using var output = deri.forward(ecg, encoded.Pooled, encoded.Hidden);
        return loss.forward(output, encoded.Pooled);
    }

    /// <summary>Zero-shot class embeddings of prompt texts, <c>(C, d)</c>; call in eval mode under no_grad.</summary>
    public Tensor ClassEmbeddings(IReadOnlyList<string> prompts, Device device)
    {
        using var encoded = features.Encode(prompts, device);
        return deri.TextClassEmbedding(encoded.Pooled);
    }
}
