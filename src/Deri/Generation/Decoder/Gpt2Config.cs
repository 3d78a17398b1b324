using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.IO;

namespace Deri.Generation.Decoder;

/// <summary>
/// The architecture of a GPT-2 decoder, with the field names of a Hugging Face <c>config.json</c>.
/// </summary>
/// <param name="NEmbd">Width of every token vector (<c>n_embd</c>).</param>
/// <param name="NLayer">Transformer blocks (<c>n_layer</c>).</param>
/// <param name="NHead">Attention heads (<c>n_head</c>); must divide <paramref name="NEmbd"/>.</param>
/// <param name="NPositions">Rows of the position table (<c>n_positions</c>): the longest sequence.</param>
/// <param name="VocabSize">Rows of the token table (<c>vocab_size</c>).</param>
/// <param name="LayerNormEpsilon">LayerNorm epsilon (<c>layer_norm_epsilon</c>).</param>
/// <param name="AddCrossAttention">Whether every block attends to an encoder memory (<c>add_cross_attention</c>).</param>
/// <param name="NInner">Feed-forward width (<c>n_inner</c>); null means 4 × <paramref name="NEmbd"/>.</param>
/// <param name="EmbdPdrop">Dropout after the embeddings (<c>embd_pdrop</c>).</param>
/// <param name="AttnPdrop">Dropout on attention probabilities (<c>attn_pdrop</c>).</param>
/// <param name="ResidPdrop">Dropout on every residual branch (<c>resid_pdrop</c>).</param>
public sealed record Gpt2Config(
    int NEmbd = 768,
    int NLayer = 12,
    int NHead = 12,
    int NPositions = 1024,
    int VocabSize = 50257,
    double LayerNormEpsilon = 1e-5,
    bool AddCrossAttention = false,
    int? NInner = null,
    double EmbdPdrop = 0.1,
    double AttnPdrop = 0.1,
    double ResidPdrop = 0.1)
{
    /// <summary>DistilGPT2 (6 layers, 768-d, 12 heads) with cross-attention added, as METHOD §4 uses.</summary>
    public static Gpt2Config DistilGpt2WithCrossAttention(int vocabSize = 50257) =>
        new(NEmbd: 768, NLayer: 6, NHead: 12, NPositions: 1024, VocabSize: vocabSize, AddCrossAttention: true);

    /// <summary>The feed-forward width: <see cref="NInner"/> or 4 × <see cref="NEmbd"/>.</summary>
    public int InnerDim => NInner ?? 4 * NEmbd;

    /// <summary>Checks every field; <paramref name="source"/> names the config in the message.</summary>
    /// <exception cref="InputFormatException">A field is out of range.</exception>
    public void Validate(string source = "GPT-2 config")
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new InputFormatException($"{source}: {problem}");
        }
        Require(NEmbd > 0, $"n_embd must be positive, got {NEmbd}");
        Require(NLayer > 0, $"n_layer must be positive, got {NLayer}");
        Require(NHead > 0 && NEmbd % NHead == 0, $"n_head ({NHead}) must be positive and divide n_embd ({NEmbd})");
        Require(NPositions > 0, $"n_positions must be positive, got {NPositions}");
        Require(VocabSize > 0, $"vocab_size must be positive, got {VocabSize}");
        Require(LayerNormEpsilon > 0 && double.IsFinite(LayerNormEpsilon), $"layer_norm_epsilon must be positive, got {LayerNormEpsilon}");
        Require(NInner is null || NInner > 0, $"n_inner must be positive, got {NInner}");
        Require(EmbdPdrop is >= 0 and < 1, $"embd_pdrop must be in [0, 1), got {EmbdPdrop}");
        Require(AttnPdrop is >= 0 and < 1, $"attn_pdrop must be in [0, 1), got {AttnPdrop}");
        Require(ResidPdrop is >= 0 and < 1, $"resid_pdrop must be in [0, 1), got {ResidPdrop}");
    }

    /// <summary>
    /// Reads a Hugging Face GPT-2 <c>config.json</c>. Missing fields take GPT-2 small defaults; an
    /// <c>activation_function</c> other than <c>gelu_new</c> is rejected, since this decoder implements exactly that.
    /// </summary>
    /// <exception cref="InputFormatException">The file is not JSON, a field has the wrong type, or a value is out of range.</exception>
    public static Gpt2Config Load(string path)
    {
        var json = Weights.HuggingFaceConfigJson.Read(path, "GPT-2 config");
        var d = new Gpt2Config();
        if (json.Text("activation_function") is { } act && act != "gelu_new")
            throw new InputFormatException($"{path}: activation_function '{act}' is not supported (only 'gelu_new', the tanh approximation)");
        int? inner = json.Has("n_inner") ? json.Int("n_inner", 0) : null;
        var config = new Gpt2Config(
            NEmbd: json.Int("n_embd", d.NEmbd),
            NLayer: json.Int("n_layer", d.NLayer),
            NHead: json.Int("n_head", d.NHead),
            NPositions: json.Int("n_positions", d.NPositions),
            VocabSize: json.Int("vocab_size", d.VocabSize),
            LayerNormEpsilon: json.Real("layer_norm_epsilon", d.LayerNormEpsilon),
            AddCrossAttention: json.Flag("add_cross_attention", d.AddCrossAttention),
            NInner: inner,
            EmbdPdrop: json.Real("embd_pdrop", d.EmbdPdrop),
            AttnPdrop: json.Real("attn_pdrop", d.AttnPdrop),
            ResidPdrop: json.Real("resid_pdrop", d.ResidPdrop));
        config.Validate(path);
        return config;
    }
}
