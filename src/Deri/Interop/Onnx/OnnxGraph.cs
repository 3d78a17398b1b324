using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Interop.Onnx;

/// <summary>
/// A small builder of an ONNX graph (opset 17) over the ONNX protobuf classes: float32 initializers from tensors,
/// int64 constants, nodes with generated output names, and the composite layers Deri's ECG side is made of
/// (linear, layer norm, GELU, SiLU, multi-head self-attention, the separator framing of the attention poolings).
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The opset the nodes are written for (LayerNormalization needs 17; ReduceMean still takes axes as an attribute).</summary>
    public const long Opset = 17;

    private readonly GraphProto graph = new();
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private int next;

    /// <summary>Starts a graph named <paramref name="name"/>.</summary>
    public OnnxGraph(string name) => graph.Name = name;

    /// <summary>Adds a float32 input of <paramref name="shape"/>; a null entry is a symbolic dimension named by <paramref name="symbols"/>.</summary>
    public string Input(string name, long?[] shape, params string[] symbols)
    {
        graph.Input.Add(ValueInfo(name, shape, symbols));
        names.Add(name);
        return name;
    }

    /// <summary>Marks <paramref name="value"/> as a float32 graph output of <paramref name="shape"/>, renamed to <paramref name="name"/>.</summary>
    public void Output(string value, string name, long?[] shape, params string[] symbols)
    {
        Op("Identity", [value], name);
        graph.Output.Add(ValueInfo(name, shape, symbols));
    }

    /// <summary>A float32 initializer holding <paramref name="tensor"/>'s values (copied, CPU).</summary>
    public string Weight(string name, Tensor tensor)
    {
        using var t = tensor.detach().to_type(ScalarType.Float32).cpu().contiguous();
        var values = t.data<float>().ToArray();
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(t.shape);
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>An int64 initializer of <paramref name="values"/>: a 1-D tensor, or a scalar when <paramref name="scalar"/>.</summary>
    public string Ints(string name, long[] values, bool scalar = false)
    {
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Int64 };
        if (!scalar) proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>A float32 scalar initializer.</summary>
    public string Scalar(string name, float value)
    {
        var proto = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        proto.FloatData.Add(value);
        graph.Initializer.Add(proto);
        return proto.Name;
    }

    /// <summary>Adds a node; returns its (single) output name, <paramref name="output"/> or a generated one.</summary>
    public string Op(string opType, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        string name = output ?? Unique(opType.ToLowerInvariant());
        if (output is not null) names.Add(output);
        var node = new NodeProto { OpType = opType, Name = "n" + graph.Node.Count + "_" + opType };
        node.Input.AddRange(inputs);
        node.Output.Add(name);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return name;
    }

    /// <summary>An integer attribute.</summary>
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>An integer-list attribute.</summary>
    public static AttributeProto IntList(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A float attribute.</summary>
    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>x (…, in) → x·Wᵀ + b with W (out, in) and b (out) (the bias is optional).</summary>
    public string Linear(string x, string prefix, Tensor weight, Tensor? bias)
    {
        using var wt = weight.detach().t();
        string y = Op("MatMul", [x, Weight(prefix + ".weight_t", wt)]);
        return bias is null ? y : Op("Add", [y, Weight(prefix + ".bias", bias)]);
    }

    /// <summary>Layer norm over the last axis.</summary>
    public string LayerNorm(string x, string prefix, Tensor weight, Tensor bias, double eps) =>
        Op("LayerNormalization", [x, Weight(prefix + ".weight", weight), Weight(prefix + ".bias", bias)], null,
            Int("axis", -1), Float("epsilon", (float)eps));

    /// <summary>Exact GELU, 0.5·x·(1 + erf(x/√2)), as torch's default.</summary>
    public string Gelu(string x)
    {
        var e = Op("Erf", [Op("Div", [x, Scalar("sqrt2", MathF.Sqrt(2f))])]);
        return Op("Mul", [Op("Mul", [x, Scalar("half", 0.5f)]), Op("Add", [e, Scalar("one", 1f)])]);
    }

    /// <summary>SiLU, x·σ(x).</summary>
    public string Silu(string x) => Op("Mul", [x, Op("Sigmoid", [x])]);

    /// <summary>
    /// Multi-head self-attention with a fused input projection: x (B, n, E) → x·W_qkvᵀ + b (B, n, 3·h·d) → q, k, v
    /// (B, h, n, d) → softmax(q·kᵀ/√d)·v → (B, n, h·d) → output projection (B, n, E).
    /// </summary>
    public string Attention(string x, string prefix, Tensor qkvWeight, Tensor qkvBias, Tensor projWeight, Tensor projBias, long heads, long headDim)
    {
        string qkv = Linear(x, prefix + ".qkv", qkvWeight, qkvBias);
        string split = Op("Reshape", [qkv, Ints(prefix + ".qkv_shape", [0, 0, 3, heads, headDim])]);     // (B, n, 3, h, d)
        string perm = Op("Transpose", [split], null, IntList("perm", 2, 0, 3, 1, 4));                 // (3, B, h, n, d)
        string Part(long i) => Op("Gather", [perm, Ints(prefix + ".part" + i, [i], scalar: true)], null, Int("axis", 0));
        string q = Op("Mul", [Part(0), Scalar(prefix + ".scale", (float)(1.0 / Math.Sqrt(headDim)))]);
        string kT = Op("Transpose", [Part(1)], null, IntList("perm", 0, 1, 3, 2));                     // (B, h, d, n)
        string weights = Op("Softmax", [Op("MatMul", [q, kT])], null, Int("axis", -1));               // (B, h, n, n)
        string a = Op("Transpose", [Op("MatMul", [weights, Part(2)])], null, IntList("perm", 0, 2, 1, 3));  // (B, n, h, d)
        string merged = Op("Reshape", [a, Ints(prefix + ".merge_shape", [0, 0, heads * headDim])]);
        return Linear(merged, prefix + ".proj", projWeight, projBias);
    }

    /// <summary>
    /// [first; x + middle; last] along the token axis, with <paramref name="first"/> and <paramref name="last"/> (1, 1, d)
    /// constants repeated over the batch of <paramref name="batch"/> (a 1-element int64 shape): x (B, n, d) → (B, n+2, d).
    /// </summary>
    public string Frame(string x, string prefix, string batch, Tensor first, Tensor middle, Tensor last)
    {
        long d = first.shape[2];
        string shape = Op("Concat", [batch, Ints(prefix + ".row_shape", [1, d])], null, Int("axis", 0));
        string head = Op("Expand", [Weight(prefix + ".first", first), shape]);
        string tail = Op("Expand", [Weight(prefix + ".last", last), shape]);
        string body = Op("Add", [x, Weight(prefix + ".positions", middle)]);
        return Op("Concat", [head, body, tail], null, Int("axis", 1));
    }

    /// <summary>x (B, n, d) → [x; c] with the (1, 1, d) constant <paramref name="c"/> repeated over the batch: (B, n+1, d).</summary>
    public string Append(string x, string prefix, string batch, Tensor c)
    {
        string shape = Op("Concat", [batch, Ints(prefix + ".row_shape", [1, c.shape[2]])], null, Int("axis", 0));
        return Op("Concat", [x, Op("Expand", [Weight(prefix, c), shape])], null, Int("axis", 1));
    }

    /// <summary>Tokens [start, end) of axis 1.</summary>
    public string SliceTokens(string x, string prefix, long start, long end) =>
        Op("Slice", [x, Ints(prefix + ".starts", [start]), Ints(prefix + ".ends", [end]), Ints(prefix + ".axes", [1])]);

    /// <summary>Mean over <paramref name="axis"/>, dropping it.</summary>
    public string Mean(string x, long axis) => Op("ReduceMean", [x], null, IntList("axes", axis), Int("keepdims", 0));

    /// <summary>x / max(‖x‖₂, 1e−12) over the last axis, as torch's <c>normalize</c>.</summary>
    public string L2Normalize(string x)
    {
        string norm = Op("ReduceL2", [x], null, IntList("axes", -1), Int("keepdims", 1));
        return Op("Div", [x, Op("Max", [norm, Scalar("norm_eps", 1e-12f)])]);
    }

    /// <summary>The model: this graph with the opset import and producer.</summary>
    public ModelProto ToModel(string producerVersion)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "deri", ProducerVersion = producerVersion, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private string Unique(string stem)
    {
        string name = stem;
        while (!names.Add(name)) name = stem + "_" + next++;
        return name;
    }

    private static ValueInfoProto ValueInfo(string name, long?[] shape, string[] symbols)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto() };
        int s = 0;
        foreach (long? dim in shape)
            tensor.Shape.Dim.Add(dim is long v ? new TensorShapeProto.Types.Dimension { DimValue = v }
                : new TensorShapeProto.Types.Dimension { DimParam = symbols[s++] });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
