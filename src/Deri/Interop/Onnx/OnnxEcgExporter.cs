using Deri.Runtime;
using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Models.Inference;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Interop.Onnx;

/// <summary>
/// Writes the ECG side of a DERI or MERL model as an ONNX graph: input <c>ecg</c> <c>(batch, leads, L)</c> float32 →
/// output <c>embedding</c> <c>(batch, d)</c>, the L2-normalised zero-shot embedding (<see cref="DeriModel.ZeroShotEcgEmbedding"/>)
/// that is compared with class prompt embeddings and used for retrieval. A ResNet's batch norms are folded into its
/// convolutions (<see cref="FoldedResNet1d"/>); the batch axis is symbolic.
/// </summary>
public static class OnnxEcgExporter
{
    /// <summary>The graph's input name.</summary>
    public const string InputName = "ecg";

    /// <summary>The ONNX opset of the graph.</summary>
    public const long Opset = OnnxGraph.Opset;

    /// <summary>The graph's output name.</summary>
    public const string OutputName = "embedding";

    /// <summary>Builds the graph of <paramref name="model"/>, whose architecture <paramref name="network"/> describes.</summary>
    /// <exception cref="ArgumentException">The encoder is of a kind the exporter does not know, or the config does not match the model.</exception>
    public static ModelProto Build(DeriModel model, NetworkConfig network)
    {
        var p = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in model.named_parameters()) p[name] = t;
        foreach (var (name, t) in model.named_buffers()) p.TryAdd(name, t);
        Tensor P(string key) => p.TryGetValue(key, out var t) ? t
            : throw new ArgumentException($"ONNX export: the model has no tensor '{key}' (is network.* the model's config?)");
        var layerNorms = model.named_modules().Where(m => m.module is LayerNorm)
            .ToDictionary(m => m.name, m => ((LayerNorm)m.module).eps, StringComparer.Ordinal);

        var g = new OnnxGraph("deri_ecg_" + model.Method.ToString().ToLowerInvariant());
        string x = g.Input(InputName, [null, model.Leads, model.InputLength], "batch");
        string batch = g.Op("Slice", [g.Op("Shape", [x]), g.Ints("batch.start", [0]), g.Ints("batch.end", [1])]);   // (1) int64

        string LayerNorm(string input, string prefix) =>
            g.LayerNorm(input, prefix, P(prefix + ".weight"), P(prefix + ".bias"), layerNorms[prefix]);
        string Linear(string input, string prefix) => g.Linear(input, prefix, P(prefix + ".weight"), p.GetValueOrDefault(prefix + ".bias"));
        string Block(string input, string prefix, long heads, long headDim, bool gated)
        {
            string a = g.Attention(LayerNorm(input, prefix + ".norm1"), prefix + ".attn", P(prefix + ".attn.qkv.weight"),
                P(prefix + ".attn.qkv.bias"), P(prefix + ".attn.proj.weight"), P(prefix + ".attn.proj.bias"), heads, headDim);
            string y = g.Op("Add", [input, a]);
            string n = LayerNorm(y, prefix + ".norm2");
            string m = gated ? GatedMlp(n, prefix + ".mlp", mean: false)
                : Linear(g.Gelu(Linear(n, prefix + ".mlp.fc1")), prefix + ".mlp.fc2");
            return g.Op("Add", [y, m]);
        }
        string GatedMlp(string input, string prefix, bool mean)
        {
            string gate = g.Op("Mul", [g.Silu(Linear(input, prefix + ".fc1")), Linear(input, prefix + ".fc3")]);
            return Linear(mean ? g.Mean(gate, 1) : gate, prefix + ".fc2");
        }
        (Tensor First, Tensor Middle, Tensor Last) Framing(Tensor sep, Tensor positions, long n)
        {
            long d = sep.shape[0];
            var s = sep.detach().view(1, 1, d);
            return (s.add(positions.narrow(1, 0, 1), Scalars.One), positions.narrow(1, 1, n), s.add(positions.narrow(1, n + 1, 1), Scalars.One));
        }

        using var scope = NewDisposeScope();
        using var _ = no_grad();

        // Backbone: (B, leads, L) → (B, C, L').
        string map = model.Encoder switch
        {
            ResNet1d resnet => ResNet(g, resnet, x),
            VisionTransformer1d => Vit(),
            var other => throw new ArgumentException($"ONNX export: the {other.GetType().Name} backbone is not supported"),
        };
        string Vit()
        {
            var patchWeight = P("ecg_encoder.to_patch_embedding.weight");                  // (w, leads, patch)
            long patch = patchWeight.shape[2], width = patchWeight.shape[0];
            long heads = VitHeads(network.EcgModel, width);
            string y = g.Op("Conv", [x, g.Weight("ecg_encoder.to_patch_embedding.weight", patchWeight), g.Weight("ecg_encoder.to_patch_embedding.bias", P("ecg_encoder.to_patch_embedding.bias"))],
                null, OnnxGraph.IntList("kernel_shape", patch), OnnxGraph.IntList("strides", patch));
            y = g.Op("Add", [g.Op("Transpose", [y], null, OnnxGraph.IntList("perm", 0, 2, 1)), g.Weight("ecg_encoder.pos_embedding", P("ecg_encoder.pos_embedding"))]);
            for (int i = 0; p.ContainsKey($"ecg_encoder.blocks.{i}.norm1.weight"); i++)
                y = Block(y, $"ecg_encoder.blocks.{i}", heads, width / heads, gated: false);
            return g.Op("Transpose", [LayerNorm(y, "ecg_encoder.norm")], null, OnnxGraph.IntList("perm", 0, 2, 1));
        }

        // Down-projection F (B, d, n), attention pooling E (B, n, d).
        var downconv = (Conv1d)model.named_children().Single(c => c.name == "downconv").module;   // weight (d, C, 1)
        string f = g.Op("Conv", [map, g.Weight("downconv.weight", P("downconv.weight")), g.Weight("downconv.bias", P("downconv.bias"))], null,
            OnnxGraph.IntList("kernel_shape", 1), OnnxGraph.IntList("strides", downconv.stride![0]));
        long tokens = model.Tokens, d = model.Width;
        var (first, middle, last) = Framing(P("att_pool_head.sep_token"), P("att_pool_head.positional_embedding"), tokens);
        string framed = g.Frame(g.Op("Transpose", [f], null, OnnxGraph.IntList("perm", 0, 2, 1)), "att_pool_head", batch, first, middle, last);
        string attended = g.Attention(framed, "att_pool_head.mha", P("att_pool_head.mha.in_proj_weight"), P("att_pool_head.mha.in_proj_bias"),
            P("att_pool_head.mha.out_proj.weight"), P("att_pool_head.mha.out_proj.bias"), network.PoolHeads, d / network.PoolHeads);
        string e = g.SliceTokens(attended, "att_pool_head.tokens", 1, tokens + 1);
        string feature = g.Mean(e, 1);                                                     // (B, d)

        if (model.Method == PretrainingMethod.Deri)
        {
            // mean(E) + proj_t(mean(D_t([E; sep_e]))) with E not normalised (METHOD §4).
            string withSep = g.Append(e, "ecg_decoder.sep_token", batch, P("ecg_decoder.sep_token").detach().view(1, 1, d));
            long n = tokens + 1;
            var (tf, tm, tl) = Framing(P("text_decoder.sep_token"), P("text_decoder.pos_embedding"), n);
            string y = g.Frame(GatedMlp(withSep, "text_decoder.input_mlp", mean: false), "text_decoder", batch, tf, tm, tl);
            var dec = network.Decoder;
            for (int i = 0; p.ContainsKey($"text_decoder.blocks.{i}.norm1.weight"); i++)
                y = Block(y, $"text_decoder.blocks.{i}", dec.Heads, dec.HeadDim, gated: true);
            string body = LayerNorm(g.SliceTokens(y, "text_decoder.tokens", 1, n + 1), "text_decoder.norm");
            string decoded = GatedMlp(body, "text_decoder.output_mlp", mean: true);         // (B, text dim)
            string projected = Linear(g.Gelu(Linear(decoded, "proj_t.0")), "proj_t.2");      // (B, d)
            feature = g.Op("Add", [feature, projected]);
        }
        g.Output(g.L2Normalize(feature), OutputName, [null, d], "batch");
        return g.ToModel(typeof(OnnxEcgExporter).Assembly.GetName().Version?.ToString(3) ?? "0");
    }

    // The folded ResNet as Conv/Relu/Add nodes: (B, leads, L) → (B, C, ⌈L/16⌉).
    private static string ResNet(OnnxGraph g, ResNet1d resnet, string x)
    {
        using var folded = FoldedResNet1d.Fold(resnet);
        string Conv(string input, FoldedConv c, string name) => g.Op("Conv", [input, g.Weight(name + ".weight", c.Weight), g.Weight(name + ".bias", c.Bias)], null,
            OnnxGraph.IntList("kernel_shape", c.Weight.shape[2]), OnnxGraph.IntList("strides", c.Stride), OnnxGraph.IntList("pads", c.Padding, c.Padding));
        string y = g.Op("Relu", [Conv(x, folded.Stem, "ecg_encoder.conv1")]);
        foreach (var block in folded.Blocks)
        {
            string h = y;
            for (int i = 0; i < block.Convs.Count; i++)
            {
                h = Conv(h, block.Convs[i], $"ecg_encoder.{block.Name}.conv{i + 1}");
                if (i < block.Convs.Count - 1) h = g.Op("Relu", [h]);
            }
            string shortcut = block.Downsample is { } down ? Conv(y, down, $"ecg_encoder.{block.Name}.downsample") : y;
            y = g.Op("Relu", [g.Op("Add", [h, shortcut])]);
        }
        return y;
    }

    // Heads of the ViT sizes ModelFactory builds (tiny 192/3, small 384/6, middle 512/8, base 768/12).
    private static long VitHeads(string ecgModel, long width) => (ecgModel, width) switch
    {
        ("vit_tiny", 192) => 3,
        ("vit_small", 384) => 6,
        ("vit_middle", 512) => 8,
        ("vit_base", 768) => 12,
        _ => throw new ArgumentException($"ONNX export: network.ecg_model = '{ecgModel}' does not match a ViT of width {width}"),
    };
}
