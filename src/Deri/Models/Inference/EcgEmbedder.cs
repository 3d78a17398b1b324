using Deri.Runtime;
using Deri.Models.Encoders;
using Deri.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Inference;

/// <summary>Which ECG embedding an <see cref="EcgEmbedder"/> computes (the features of <see cref="DeriModel"/>).</summary>
public enum EcgEmbeddingKind
{
    /// <summary>DERI's probe feature: mean of the aligned tokens plus proj_t of the decoded text view (<see cref="ProbeFeatureKind.Mixed"/>).</summary>
    Mixed,
    /// <summary>Mean of the aligned tokens (<see cref="ProbeFeatureKind.Aligned"/>, MERL's probe feature).</summary>
    Aligned,
    /// <summary>Mean over time of the down-projected feature map (<see cref="ProbeFeatureKind.Global"/>).</summary>
    Global,
    /// <summary>The L2-normalised zero-shot embedding compared with class prompt embeddings (<see cref="DeriModel.ZeroShotEcgEmbedding"/>).</summary>
    ZeroShot,
    /// <summary>Mean over time of the ECG backbone's feature map.</summary>
    Encoder,
}

/// <summary>
/// Fast ECG embeddings of a DERI or MERL model for inference: eval mode, <c>torch.inference_mode</c> (no autograd
/// record at all), and for ResNet backbones every batch norm folded into its convolution (<see cref="FoldedResNet1d"/>).
/// ViT backbones have no batch norm and run as they are. The heads (down-projection, attention pooling, ECG→text
/// decoder, proj_t) are the model's own modules, borrowed: keep the model alive, and build a new embedder after
/// changing its weights. Results equal <see cref="DeriModel.ProbeFeature"/> / <see cref="DeriModel.ZeroShotEcgEmbedding"/>
/// in eval mode to float32 rounding.
/// </summary>
public sealed class EcgEmbedder : IDisposable
{
    private readonly DeriModel model;
    private readonly FoldedResNet1d? folded;
    private readonly Conv1d downconv;
    private readonly AttentionPool pool;
    private readonly Sequential projT;
    private readonly CrossModalDecoder? textDecoder, ecgDecoder;

    private EcgEmbedder(DeriModel model, EcgEmbeddingKind kind, FoldedResNet1d? folded)
    {
        this.model = model;
        Kind = kind;
        this.folded = folded;
        var children = model.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        downconv = (Conv1d)children["downconv"];
        pool = (AttentionPool)children["att_pool_head"];
        projT = (Sequential)children["proj_t"];
        textDecoder = children.GetValueOrDefault("text_decoder") as CrossModalDecoder;
        ecgDecoder = children.GetValueOrDefault("ecg_decoder") as CrossModalDecoder;
    }

    /// <summary>
    /// An embedder of <paramref name="model"/> (which it puts in eval mode). <paramref name="fold"/> folds a ResNet's
    /// batch norms; false runs the backbone's own eval-mode forward (the reference the folded path is tested against).
    /// </summary>
    /// <exception cref="ArgumentException">The mixed embedding of a MERL model (it has no ECG→text decoder).</exception>
    public static EcgEmbedder Create(DeriModel model, EcgEmbeddingKind kind, bool fold = true)
    {
        if (kind == EcgEmbeddingKind.Mixed && model.Method == PretrainingMethod.Merl)
            throw new ArgumentException("the mixed embedding needs DERI's ECG→text decoder; a MERL model offers aligned, global, zeroshot or encoder");
        model.eval();
        var folded = fold && model.Encoder is ResNet1d resnet ? FoldedResNet1d.Fold(resnet) : null;
        return new EcgEmbedder(model, kind, folded);
    }

    /// <summary>The embedding computed.</summary>
    public EcgEmbeddingKind Kind { get; }

    /// <summary>Whether the backbone's batch norms are folded (ResNet backbones with fold on).</summary>
    public bool IsFolded => folded is not null;

    /// <summary>Width D of an embedding.</summary>
    public long Dim => Kind == EcgEmbeddingKind.Encoder ? model.Encoder.OutputChannels : model.Width;

    /// <summary>Leads of an input record.</summary>
    public long Leads => model.Leads;

    /// <summary>Samples of an input record.</summary>
    public long InputLength => model.InputLength;

    /// <summary>The device of the model's weights.</summary>
    public Device Device => downconv.weight!.device;

    /// <summary>ecg <c>(B, leads, L)</c> on the model's device → embeddings <c>(B, D)</c>, computed in inference mode.</summary>
    /// <exception cref="ArgumentException">The input does not have the model's lead count and length.</exception>
    public Tensor Forward(Tensor ecg)
    {
        if (ecg.dim() != 3 || ecg.shape[1] != Leads || ecg.shape[2] != InputLength)
            throw new ArgumentException($"ECG: expected (B, {Leads}, {InputLength}), got ({string.Join(", ", ecg.shape)})");
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var map = folded is not null ? folded.Forward(ecg) : model.Encoder.forward(ecg);   // (B, C, L')
        if (Kind == EcgEmbeddingKind.Encoder) return map.mean([-1]).MoveToOuterDisposeScope();
        var f = downconv.forward(map);                                                     // F (B, d, n)
        if (Kind == EcgEmbeddingKind.Global) return f.mean([-1]).MoveToOuterDisposeScope();
        var tokens = pool.forward(f.transpose(1, 2));                                      // E (B, n, d)
        var mean = tokens.mean([1]);                                                       // (B, d)
        if (Kind == EcgEmbeddingKind.Aligned) return mean.MoveToOuterDisposeScope();
        var mixed = mean;
        if (model.Method == PretrainingMethod.Deri)
        {
            // [E; sep] with D_e's separator (as DeriModel), (B, n+1, d) → D_t mean (B, text dim) → proj_t (B, d).
            long b = tokens.shape[0], d = tokens.shape[2];
            var withSep = cat([tokens, ecgDecoder!.SepToken.view(1, 1, d).expand(b, 1, d)], 1);
            mixed = mean.add(projT.forward(textDecoder!.ForwardMean(withSep)), Scalars.One);
        }
        var result = Kind == EcgEmbeddingKind.ZeroShot ? functional.normalize(mixed, dim: -1) : mixed;
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Embeddings of <paramref name="ecg"/> <c>(B, leads, L)</c> as B float arrays of length D.</summary>
    public float[][] Embed(Tensor ecg)
    {
        using var scope = NewDisposeScope();
        var e = Forward(ecg.to(Device)).to_type(ScalarType.Float32).cpu().contiguous();
        var flat = e.data<float>().ToArray();
        int d = (int)e.shape[1];
        return Enumerable.Range(0, (int)e.shape[0]).Select(i => flat.AsSpan(i * d, d).ToArray()).ToArray();
    }

    /// <summary>
    /// Embeddings of <paramref name="count"/> preprocessed records stored row-major in <paramref name="signals"/>
    /// (<c>count × leads × length</c> floats, the layout of the store's records).
    /// </summary>
    /// <exception cref="ArgumentException">The span's length is not count × leads × length.</exception>
    public float[][] Embed(ReadOnlySpan<float> signals, int count)
    {
        long expected = count * Leads * InputLength;
        if (count <= 0 || signals.Length != expected)
            throw new ArgumentException($"expected {count} records × {Leads} leads × {InputLength} samples = {expected} floats, got {signals.Length}");
        using var ecg = torch.tensor(signals.ToArray(), [count, Leads, InputLength], ScalarType.Float32);
        return Embed(ecg);
    }

    /// <summary>Releases the folded tensors (the model stays with its owner).</summary>
    public void Dispose() => folded?.Dispose();
}
