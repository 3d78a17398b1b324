using System.Globalization;
using System.Runtime.InteropServices;
using Deri.Weights;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Text;

/// <summary>How one weight of the Hugging Face state dict was found in the ONNX graph.</summary>
/// <param name="HfName">The Hugging Face <c>BertModel</c> key, e.g. <c>encoder.layer.0.attention.self.query.weight</c>.</param>
/// <param name="OnnxName">The ONNX initializer it came from (an exporter-generated name such as <c>927</c> or <c>onnx::MatMul_788</c>).</param>
/// <param name="OnnxShape">The initializer's shape as stored, <c>[in, out]</c> for a <c>MatMul</c> operand.</param>
/// <param name="Transposed">Whether the initializer was transposed to the <c>[out, in]</c> of <c>nn.Linear.weight</c>.</param>
public sealed record OnnxWeightMapping(string HfName, string OnnxName, IReadOnlyList<long> OnnxShape, bool Transposed);

/// <summary>
/// A BERT read from an ONNX export: its config (from the graph's shapes and constants), its weights under Hugging Face
/// <c>BertModel</c> names (float32 CPU tensors, owned by this object), and what the graph takes and gives.
/// </summary>
public sealed class OnnxBert : IDisposable
{
    internal OnnxBert(BertConfig config, Dictionary<string, Tensor> tensors, IReadOnlyList<OnnxWeightMapping> matrices,
        IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string producer)
    {
        Config = config;
        Tensors = tensors;
        Matrices = matrices;
        Inputs = inputs;
        Outputs = outputs;
        Producer = producer;
    }

    /// <summary>The architecture read from the graph.</summary>
    public BertConfig Config { get; }

    /// <summary>The state dict, Hugging Face names → float32 tensors (the legacy <c>embeddings.position_ids</c> buffer left out).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>The unnamed weight matrices and the names they were given (6 per layer: query, key, value, attention output, intermediate, output).</summary>
    public IReadOnlyList<OnnxWeightMapping> Matrices { get; }

    /// <summary>Whether the export holds <c>pooler.dense.*</c>.</summary>
    public bool HasPooler => Tensors.ContainsKey("pooler.dense.weight");

    /// <summary>The graph's input names (e.g. <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>).</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>The graph's output names (<c>last_hidden_state</c> first; a pooler's output when exported).</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Producer and opset of the file, e.g. <c>pytorch 1.10, opset 13</c>.</summary>
    public string Producer { get; }

    /// <summary>A <see cref="BertModel"/> of <see cref="Config"/> holding these weights (strictly loaded).</summary>
    public BertModel CreateModel()
    {
        var model = new BertModel(Config, addPoolingLayer: HasPooler);
        try
        {
            StateDictLoader.Load(model, Tensors, source: "ONNX export");
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

/// <summary>
/// Reads a Hugging Face <c>BertModel</c> exported to ONNX by <c>torch.onnx.export</c> (as the sentence-transformers
/// exports all-MiniLM-L6-v2 and snowflake-arctic-embed-xs are) back into Hugging Face state-dict form.
/// Embeddings, biases and LayerNorm parameters keep their names in such an export; the exporter renames every
/// <c>nn.Linear</c> weight of the encoder, stored transposed as the <c>[in, out]</c> right operand of a <c>MatMul</c>.
/// Each of those feeds an <c>Add</c> with the layer's named bias, so the weight is named after that bias and transposed
/// back to <c>[out, in]</c>. The config comes from the tables' shapes (hidden, vocabulary, positions, token types,
/// feed-forward width, layers) and from the graph's constants: the LayerNorm epsilon added before its square root and the
/// attention scale √(head size) that the scores are divided by.
/// </summary>
public static class OnnxBertImporter
{
    private const int FloatType = (int)TensorProto.Types.DataType.Float;

    /// <summary>Parses an ONNX model from <paramref name="stream"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InputFormatException">The file is not ONNX, or not a BERT export this importer understands; the message says what is missing.</exception>
    public static OnnxBert Import(Stream stream, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new InputFormatException($"{source}: not an ONNX model ({e.Message})", e);
        }
        return Import(model, source);
    }

    /// <summary>Converts a parsed ONNX model (see <see cref="Import(Stream, string)"/>).</summary>
    public static OnnxBert Import(ModelProto model, string source)
    {
        var graph = model.Graph ?? throw new InputFormatException($"{source}: the ONNX model has no graph");
        var inits = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var o in node.Output) producers[o] = node;
            foreach (var i in node.Input)
            {
                if (!consumers.TryGetValue(i, out var list)) consumers[i] = list = [];
                list.Add(node);
            }
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var matrices = new List<OnnxWeightMapping>();
        var unmapped = new List<string>();
        try
        {
            foreach (var init in graph.Initializer)
            {
                if (init.Name == "embeddings.position_ids") continue; // the legacy int64 buffer, not a weight
                if (IsHfName(init.Name))
                {
                    bool transpose = init.Name == "pooler.dense.weight" && !GemmTransposesB(init.Name, consumers);
                    tensors[init.Name] = ToTensor(init, source, transpose);
                    continue;
                }
                if (init.Dims.Count != 2) continue; // exporter constants (shapes, scalars) are not weights
                string? bias = BiasAfterMatMul(init.Name, inits, consumers);
                if (bias is null)
                {
                    unmapped.Add($"{init.Name} [{string.Join(", ", init.Dims)}]");
                    continue;
                }
                string name = bias[..^".bias".Length] + ".weight";
                if (tensors.ContainsKey(name))
                    throw new InputFormatException($"{source}: two weight matrices map to {name} (second: initializer {init.Name})");
                tensors[name] = ToTensor(init, source, transpose: true);
                matrices.Add(new OnnxWeightMapping(name, init.Name, [.. init.Dims], Transposed: true));
            }
            if (unmapped.Count > 0)
                throw new InputFormatException(
                    $"{source}: {unmapped.Count} weight matrices could not be named (each should be the right operand of a MatMul " +
                    $"whose output goes into an Add with a named '….bias'): {string.Join(", ", unmapped)}");

            var config = ReadConfig(graph, tensors, producers, consumers, inits, source);
            int expected = 6 * config.NumHiddenLayers;
            if (matrices.Count != expected)
                throw new InputFormatException($"{source}: {matrices.Count} weight matrices mapped, expected {expected} (6 per layer × {config.NumHiddenLayers} layers)");
            string producer = $"{model.ProducerName} {model.ProducerVersion}, opset {string.Join("/", model.OpsetImport.Select(o => o.Version))}";
            return new OnnxBert(config, tensors, matrices, [.. graph.Input.Select(i => i.Name)], [.. graph.Output.Select(o => o.Name)], producer);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    private static bool IsHfName(string name) =>
        name.StartsWith("embeddings.", StringComparison.Ordinal) || name.StartsWith("encoder.", StringComparison.Ordinal) ||
        name.StartsWith("pooler.", StringComparison.Ordinal);

    /// <summary>The named bias added to <c>MatMul(x, init)</c>, or null when the pattern is not there.</summary>
    private static string? BiasAfterMatMul(string init, Dictionary<string, TensorProto> inits, Dictionary<string, List<NodeProto>> consumers)
    {
        if (!consumers.TryGetValue(init, out var users)) return null;
        foreach (var matmul in users.Where(n => n.OpType == "MatMul" && n.Input.Count == 2 && n.Input[1] == init))
        {
            if (!consumers.TryGetValue(matmul.Output[0], out var next)) continue;
            foreach (var add in next.Where(n => n.OpType == "Add"))
            {
                var bias = add.Input.FirstOrDefault(i => i != matmul.Output[0] && i.EndsWith(".bias", StringComparison.Ordinal) && inits.ContainsKey(i));
                if (bias is not null) return bias;
            }
        }
        return null;
    }

    /// <summary>Whether the named pooler weight is used by a <c>Gemm</c> with <c>transB = 1</c> (then it is already <c>[out, in]</c>).</summary>
    private static bool GemmTransposesB(string init, Dictionary<string, List<NodeProto>> consumers)
    {
        if (!consumers.TryGetValue(init, out var users)) return true;
        var gemm = users.FirstOrDefault(n => n.OpType == "Gemm" && n.Input.Count >= 2 && n.Input[1] == init);
        if (gemm is null) return true;
        return gemm.Attribute.FirstOrDefault(a => a.Name == "transB")?.I == 1;
    }

    private static BertConfig ReadConfig(GraphProto graph, Dictionary<string, Tensor> tensors, Dictionary<string, NodeProto> producers,
        Dictionary<string, List<NodeProto>> consumers, Dictionary<string, TensorProto> inits, string source)
    {
        long[] Shape(string name) => tensors.TryGetValue(name, out var t)
            ? t.shape
            : throw new InputFormatException($"{source}: the graph has no initializer {name} (not a Hugging Face BERT export)");
        var word = Shape("embeddings.word_embeddings.weight");
        int hidden = (int)word[1];
        int layers = 0;
        while (tensors.ContainsKey($"encoder.layer.{layers}.output.LayerNorm.weight")) layers++;
        if (layers == 0) throw new InputFormatException($"{source}: no encoder.layer.0.* initializers (not a Hugging Face BERT export)");

        // Attention scale: Softmax(Add(Div(MatMul(q, kᵀ), √d_head), mask)); the first Softmax is layer 0's.
        var softmax = graph.Node.FirstOrDefault(n => n.OpType == "Softmax")
            ?? throw new InputFormatException($"{source}: no Softmax node, so no attention to read the head count from");
        double scale = double.NaN;
        if (producers.TryGetValue(softmax.Input[0], out var add) && add.OpType == "Add")
            foreach (var i in add.Input)
                if (producers.TryGetValue(i, out var div) && div.OpType == "Div")
                    scale = Scalar(div.Input[1], producers, inits, source);
        if (double.IsNaN(scale))
            throw new InputFormatException($"{source}: the attention scores are not divided by a constant √(head size) before Softmax; cannot read num_attention_heads");
        int headSize = (int)Math.Round(scale * scale);
        if (headSize <= 0 || Math.Abs(scale * scale - headSize) > 1e-3 || hidden % headSize != 0)
            throw new InputFormatException($"{source}: attention scale {scale} is not √(a head size dividing {hidden})");

        // LayerNorm: Mul(Div(x − mean, Sqrt(Add(ReduceMean((x − mean)²), eps))), embeddings.LayerNorm.weight).
        double eps = double.NaN;
        var mul = consumers.GetValueOrDefault("embeddings.LayerNorm.weight")?.FirstOrDefault(n => n.OpType == "Mul");
        if (mul is not null)
        {
            string normed = mul.Input.First(i => i != "embeddings.LayerNorm.weight");
            if (producers.TryGetValue(normed, out var div) && div.OpType == "Div"
                && producers.TryGetValue(div.Input[1], out var sqrt) && sqrt.OpType == "Sqrt"
                && producers.TryGetValue(sqrt.Input[0], out var addEps) && addEps.OpType == "Add")
            {
                string? epsName = addEps.Input.FirstOrDefault(i => !producers.TryGetValue(i, out var p) || p.OpType == "Constant");
                if (epsName is not null) eps = Scalar(epsName, producers, inits, source);
            }
        }
        if (!(eps > 0))
            throw new InputFormatException($"{source}: the embeddings LayerNorm is not the decomposed form Div(x − mean, Sqrt(var + eps)); cannot read layer_norm_eps");

        var config = new BertConfig(
            HiddenSize: hidden,
            NumHiddenLayers: layers,
            NumAttentionHeads: hidden / headSize,
            IntermediateSize: (int)Shape("encoder.layer.0.intermediate.dense.bias")[0],
            MaxPositionEmbeddings: (int)Shape("embeddings.position_embeddings.weight")[0],
            VocabSize: (int)word[0],
            TypeVocabSize: (int)Shape("embeddings.token_type_embeddings.weight")[0],
            LayerNormEps: eps);
        config.Validate(source);
        return config;
    }

    /// <summary>The float value of a one-element constant (a <c>Constant</c> node's <c>value</c>, or an initializer).</summary>
    private static double Scalar(string name, Dictionary<string, NodeProto> producers, Dictionary<string, TensorProto> inits, string source)
    {
        TensorProto? t = inits.GetValueOrDefault(name);
        if (t is null && producers.TryGetValue(name, out var node) && node.OpType == "Constant")
            t = node.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
        if (t is null) throw new InputFormatException($"{source}: {name} is not a constant");
        var values = Floats(t, source);
        if (values.Length != 1) throw new InputFormatException($"{source}: constant {name} has {values.Length} elements, expected 1");
        // The float32's shortest decimal form: 1e-12 stays 1e-12 in config.json rather than 9.99999996e-13.
        return double.Parse(values[0].ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    private static float[] Floats(TensorProto t, string source)
    {
        if (t.DataType == (int)TensorProto.Types.DataType.Double)
            return t.RawData.Length > 0
                ? [.. MemoryMarshal.Cast<byte, double>(t.RawData.Span).ToArray().Select(d => (float)d)]
                : [.. t.DoubleData.Select(d => (float)d)];
        if (t.DataType != FloatType)
            throw new InputFormatException($"{source}: tensor {t.Name} has ONNX data type {t.DataType}, expected float32 (1)");
        if (t.ExternalData.Count > 0)
            throw new InputFormatException($"{source}: tensor {t.Name} is stored in an external file, which this importer does not read");
        if (t.RawData.Length > 0)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian");
            return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        }
        return [.. t.FloatData];
    }

    private static Tensor ToTensor(TensorProto t, string source, bool transpose)
    {
        var data = Floats(t, source);
        long[] dims = [.. t.Dims];
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length)
            throw new InputFormatException(string.Create(CultureInfo.InvariantCulture,
                $"{source}: tensor {t.Name} [{string.Join(", ", dims)}] holds {data.Length} values, expected {count}"));
        var tensor = torch.tensor(data, dims, ScalarType.Float32);
        if (!transpose) return tensor;
        if (dims.Length != 2) throw new InputFormatException($"{source}: tensor {t.Name} is not a matrix and cannot be transposed");
        using (tensor) return tensor.t().contiguous();
    }
}
