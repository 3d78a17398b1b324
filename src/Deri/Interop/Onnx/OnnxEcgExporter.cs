using Deri.Runtime;
using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Models.Inference;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Deri.IO;

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
        var w = new GraphWriter(model);
        var g = w.Graph;
        string x = g.Input(InputName, [null, model.Leads, model.InputLength], "batch");
        w.Batch = g.Op("Slice", [g.Op("Shape", [x]), g.Ints("batch.start", [0]), g.Ints("batch.end", [1])]);   // (1) int64

        using var scope = NewDisposeScope();
        using var _ = no_grad();

        // Backbone: (B, leads, L) → (B, C, L').
        string map = model.Encoder switch
        {
            ResNet1d resnet => ResNet(g, resnet, x),
            VisionTransformer1d vit => w.Vit(x, vit.Heads),
            var other => throw new InputValueException($"ONNX export: the {other.GetType().Name} backbone is not supported"),
        };
        var (e, feature) = w.AttentionPooling(map, network);
        // DERI adds proj_t(mean(D_t([E; sep_e]))) with E not normalised (METHOD §4); MERL's embedding is mean(E) alone.
        if (model.Method == PretrainingMethod.Deri) feature = g.Op("Add", [feature, w.DecodedText(e, network)]);
        g.Output(g.L2Normalize(feature), OutputName, [null, model.Width], "batch");
        return g.ToModel(typeof(OnnxEcgExporter).Assembly.GetName().Version?.ToString(3) ?? "0");
    }

    /// <summary>The graph being written with the model's tensors by their state-dict names, and the layers that use them.</summary>
    private sealed class GraphWriter
    {
        private readonly Dictionary<string, Tensor> p = new(StringComparer.Ordinal);
        private readonly Dictionary<string, double> layerNorms;
        private readonly DeriModel model;

        public GraphWriter(DeriModel model)
        {
            this.model = model;
            foreach (var (name, t) in model.named_parameters()) p[name] = t;
            foreach (var (name, t) in model.named_buffers()) p.TryAdd(name, t);
            layerNorms = model.named_modules().Where(m => m.module is LayerNorm)
                .ToDictionary(m => m.name, m => ((LayerNorm)m.module).eps, StringComparer.Ordinal);
            Graph = new OnnxGraph("deri_ecg_" + model.Method.ToString().ToLowerInvariant());
        }

        public OnnxGraph Graph { get; }

        /// <summary>The batch size as a (1) int64 node, for broadcasting learned tokens.</summary>
        public string Batch { get; set; } = "";

        public Tensor P(string key) => p.TryGetValue(key, out var t) ? t
            : throw new ArgumentException($"ONNX export: the model has no tensor '{key}' (is network.* the model's config?)");

        private string LayerNorm(string input, string prefix) =>
            Graph.LayerNorm(input, prefix, P(prefix + ".weight"), P(prefix + ".bias"), layerNorms[prefix]);

        private string Linear(string input, string prefix) => Graph.Linear(input, prefix, P(prefix + ".weight"), p.GetValueOrDefault(prefix + ".bias"));

        private string Block(string input, string prefix, long heads, long headDim, bool gated)
        {
            string a = Graph.Attention(LayerNorm(input, prefix + ".norm1"), prefix + ".attn", P(prefix + ".attn.qkv.weight"),
                P(prefix + ".attn.qkv.bias"), P(prefix + ".attn.proj.weight"), P(prefix + ".attn.proj.bias"), heads, headDim);
            string y = Graph.Op("Add", [input, a]);
            string n = LayerNorm(y, prefix + ".norm2");
            string m = gated ? GatedMlp(n, prefix + ".mlp", mean: false)
                : Linear(Graph.Gelu(Linear(n, prefix + ".mlp.fc1")), prefix + ".mlp.fc2");
            return Graph.Op("Add", [y, m]);
        }

        private string GatedMlp(string input, string prefix, bool mean)
        {
            string gate = Graph.Op("Mul", [Graph.Silu(Linear(input, prefix + ".fc1")), Linear(input, prefix + ".fc3")]);
            return Linear(mean ? Graph.Mean(gate, 1) : gate, prefix + ".fc2");
        }

        private static (Tensor First, Tensor Middle, Tensor Last) Framing(Tensor sep, Tensor positions, long n)
        {
            long d = sep.shape[0];
            var s = sep.detach().view(1, 1, d);
            return (s.add(positions.narrow(1, 0, 1), Scalars.One), positions.narrow(1, 1, n), s.add(positions.narrow(1, n + 1, 1), Scalars.One));
        }

        /// <summary>The ViT backbone: (B, leads, L) → (B, width, L/patch).</summary>
        public string Vit(string x, long heads)
        {
            var patchWeight = P("ecg_encoder.to_patch_embedding.weight");                  // (w, leads, patch)
            long patch = patchWeight.shape[2], width = patchWeight.shape[0];
            string y = Graph.Op("Conv", [x, Graph.Weight("ecg_encoder.to_patch_embedding.weight", patchWeight), Graph.Weight("ecg_encoder.to_patch_embedding.bias", P("ecg_encoder.to_patch_embedding.bias"))],
                null, OnnxGraph.IntList("kernel_shape", patch), OnnxGraph.IntList("strides", patch));
            y = Graph.Op("Add", [Graph.Op("Transpose", [y], null, OnnxGraph.IntList("perm", 0, 2, 1)), Graph.Weight("ecg_encoder.pos_embedding", P("ecg_encoder.pos_embedding"))]);
            for (int i = 0; p.ContainsKey($"ecg_encoder.blocks.{i}.norm1.weight"); i++)
                y = Block(y, $"ecg_encoder.blocks.{i}", heads, width / heads, gated: false);
            return Graph.Op("Transpose", [LayerNorm(y, "ecg_encoder.norm")], null, OnnxGraph.IntList("perm", 0, 2, 1));
        }

        /// <summary>Down-projection F (B, d, n) and attention pooling: the tokens E (B, n, d) and their mean (B, d).</summary>
        public (string Tokens, string Mean) AttentionPooling(string map, NetworkConfig network)
        {
            var downconv = (Conv1d)model.named_children().Single(c => c.name == "downconv").module;   // weight (d, C, 1)
            string f = Graph.Op("Conv", [map, Graph.Weight("downconv.weight", P("downconv.weight")), Graph.Weight("downconv.bias", P("downconv.bias"))], null,
                OnnxGraph.IntList("kernel_shape", 1), OnnxGraph.IntList("strides", downconv.stride![0]));
            long tokens = model.Tokens, d = model.Width;
            var (first, middle, last) = Framing(P("att_pool_head.sep_token"), P("att_pool_head.positional_embedding"), tokens);
            string framed = Graph.Frame(Graph.Op("Transpose", [f], null, OnnxGraph.IntList("perm", 0, 2, 1)), "att_pool_head", Batch, first, middle, last);
            string attended = Graph.Attention(framed, "att_pool_head.mha", P("att_pool_head.mha.in_proj_weight"), P("att_pool_head.mha.in_proj_bias"),
                P("att_pool_head.mha.out_proj.weight"), P("att_pool_head.mha.out_proj.bias"), network.PoolHeads, d / network.PoolHeads);
            string e = Graph.SliceTokens(attended, "att_pool_head.tokens", 1, tokens + 1);
            return (e, Graph.Mean(e, 1));
        }

        /// <summary>DERI's ECG→text decoder on the pooled tokens E: proj_t(mean(D_t([E; sep_e]))), (B, d).</summary>
        public string DecodedText(string e, NetworkConfig network)
        {
            long d = model.Width;
            string withSep = Graph.Append(e, "ecg_decoder.sep_token", Batch, P("ecg_decoder.sep_token").detach().view(1, 1, d));
            long n = model.Tokens + 1;
            var (tf, tm, tl) = Framing(P("text_decoder.sep_token"), P("text_decoder.pos_embedding"), n);
            string y = Graph.Frame(GatedMlp(withSep, "text_decoder.input_mlp", mean: false), "text_decoder", Batch, tf, tm, tl);
            var dec = network.Decoder;
            for (int i = 0; p.ContainsKey($"text_decoder.blocks.{i}.norm1.weight"); i++)
                y = Block(y, $"text_decoder.blocks.{i}", dec.Heads, dec.HeadDim, gated: true);
            string body = LayerNorm(Graph.SliceTokens(y, "text_decoder.tokens", 1, n + 1), "text_decoder.norm");
            string decoded = GatedMlp(body, "text_decoder.output_mlp", mean: true);         // (B, text dim)
            return Linear(Graph.Gelu(Linear(decoded, "proj_t.0")), "proj_t.2");               // (B, d)
        }
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
}
