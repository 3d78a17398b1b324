using System.Text.Json;
using System.Text.Json.Nodes;
using Deri.IO;

namespace Deri.Text;

/// <summary>
/// The architecture of a BERT encoder, with the field names of a Hugging Face <c>config.json</c>.
/// </summary>
/// <param name="HiddenSize">Width of every token vector (<c>hidden_size</c>); the encoder's output dimension.</param>
/// <param name="NumHiddenLayers">Transformer layers (<c>num_hidden_layers</c>).</param>
/// <param name="NumAttentionHeads">Attention heads per layer (<c>num_attention_heads</c>); must divide <paramref name="HiddenSize"/>.</param>
/// <param name="IntermediateSize">Width of the feed-forward layer (<c>intermediate_size</c>).</param>
/// <param name="MaxPositionEmbeddings">Rows of the absolute position table (<c>max_position_embeddings</c>).</param>
/// <param name="VocabSize">Rows of the word-embedding table (<c>vocab_size</c>).</param>
/// <param name="TypeVocabSize">Token types (<c>type_vocab_size</c>).</param>
/// <param name="LayerNormEps">LayerNorm epsilon (<c>layer_norm_eps</c>).</param>
/// <param name="HiddenDropoutProb">Dropout after embeddings and sub-layers (<c>hidden_dropout_prob</c>).</param>
/// <param name="AttentionProbsDropoutProb">Dropout on attention probabilities (<c>attention_probs_dropout_prob</c>).</param>
/// <param name="PadTokenId">Id of <c>[PAD]</c> (<c>pad_token_id</c>).</param>
public sealed record BertConfig(
    int HiddenSize = 768,
    int NumHiddenLayers = 12,
    int NumAttentionHeads = 12,
    int IntermediateSize = 3072,
    int MaxPositionEmbeddings = 512,
    int VocabSize = 30522,
    int TypeVocabSize = 2,
    double LayerNormEps = 1e-12,
    double HiddenDropoutProb = 0.1,
    double AttentionProbsDropoutProb = 0.1,
    int PadTokenId = 0)
{
    /// <summary>
    /// The small encoder trained jointly from scratch when no pretrained weights are given:
    /// hidden 256, 4 layers, 4 heads, feed-forward 2 × hidden, 256 positions (METHOD §2 item 5's
    /// token count). Its <c>pooled</c>/<c>hidden</c> are <paramref name="hiddenSize"/>-d, not
    /// BERT-base's 768: the DERI model's text width (<c>proj_t</c>'s input, D_t's output) follows
    /// <see cref="OutputDim"/>. Pass <c>hiddenSize: 768</c> for 768-d outputs at about 6× the cost.
    /// <paramref name="vocabSize"/> is the size of the vocabulary built from the training reports.
    /// </summary>
    public static BertConfig Small(int vocabSize, int hiddenSize = 256) => new(
        HiddenSize: hiddenSize, NumHiddenLayers: 4, NumAttentionHeads: 4, IntermediateSize: 2 * hiddenSize,
        MaxPositionEmbeddings: 256, VocabSize: vocabSize);

    /// <summary>Width of <c>pooled</c> and of every <c>hidden</c> token (= <see cref="HiddenSize"/>).</summary>
    public int OutputDim => HiddenSize;

    /// <summary>Checks every field; <paramref name="source"/> names the config in the message.</summary>
    /// <exception cref="InputFormatException">A field is out of range.</exception>
    public void Validate(string source = "BERT config")
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new InputFormatException($"{source}: {problem}");
        }
        Require(HiddenSize > 0, $"hidden_size must be positive, got {HiddenSize}");
        Require(NumHiddenLayers > 0, $"num_hidden_layers must be positive, got {NumHiddenLayers}");
        Require(NumAttentionHeads > 0 && HiddenSize % NumAttentionHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must be positive and divide hidden_size ({HiddenSize})");
        Require(IntermediateSize > 0, $"intermediate_size must be positive, got {IntermediateSize}");
        Require(MaxPositionEmbeddings > 0, $"max_position_embeddings must be positive, got {MaxPositionEmbeddings}");
        Require(VocabSize > 0, $"vocab_size must be positive, got {VocabSize}");
        Require(TypeVocabSize > 0, $"type_vocab_size must be positive, got {TypeVocabSize}");
        Require(LayerNormEps > 0 && double.IsFinite(LayerNormEps), $"layer_norm_eps must be positive, got {LayerNormEps}");
        Require(HiddenDropoutProb is >= 0 and < 1, $"hidden_dropout_prob must be in [0, 1), got {HiddenDropoutProb}");
        Require(AttentionProbsDropoutProb is >= 0 and < 1, $"attention_probs_dropout_prob must be in [0, 1), got {AttentionProbsDropoutProb}");
        Require(PadTokenId >= 0 && PadTokenId < VocabSize, $"pad_token_id {PadTokenId} is outside the vocabulary (size {VocabSize})");
    }

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c>. Missing fields take BERT-base defaults; other fields
    /// (architectures, model_type, …) are ignored. A <c>hidden_act</c> other than <c>gelu</c> or a
    /// <c>position_embedding_type</c> other than <c>absolute</c> is rejected, since this encoder
    /// implements exactly those.
    /// </summary>
    /// <exception cref="InputFormatException">The file is not JSON, a field has the wrong type, or a value is out of range.</exception>
    public static BertConfig Load(string path)
    {
        var json = Weights.HuggingFaceConfigJson.Read(path, "BERT config");
        var d = new BertConfig();
        if (json.Text("hidden_act") is { } act && act != "gelu")
            throw new InputFormatException($"{path}: hidden_act '{act}' is not supported (only 'gelu', the exact erf form)");
        if (json.Text("position_embedding_type") is { } pos && pos != "absolute")
            throw new InputFormatException($"{path}: position_embedding_type '{pos}' is not supported (only 'absolute')");
        var config = new BertConfig(
            HiddenSize: json.Int("hidden_size", d.HiddenSize),
            NumHiddenLayers: json.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads: json.Int("num_attention_heads", d.NumAttentionHeads),
            IntermediateSize: json.Int("intermediate_size", d.IntermediateSize),
            MaxPositionEmbeddings: json.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            VocabSize: json.Int("vocab_size", d.VocabSize),
            TypeVocabSize: json.Int("type_vocab_size", d.TypeVocabSize),
            LayerNormEps: json.Real("layer_norm_eps", d.LayerNormEps),
            HiddenDropoutProb: json.Real("hidden_dropout_prob", d.HiddenDropoutProb),
            AttentionProbsDropoutProb: json.Real("attention_probs_dropout_prob", d.AttentionProbsDropoutProb),
            PadTokenId: json.Int("pad_token_id", d.PadTokenId));
        config.Validate(path);
        return config;
    }

    /// <summary>Writes this config as a Hugging Face style <c>config.json</c> (atomically).</summary>
    public void Save(string path)
    {
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"),
            ["model_type"] = "bert",
            ["hidden_act"] = "gelu",
            ["position_embedding_type"] = "absolute",
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["vocab_size"] = VocabSize,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["pad_token_id"] = PadTokenId,
        };
        IO.AtomicFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
