using System.Text.Json.Nodes;
using Deri.Tests.Text;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Weights;

public class SafeTensorsTests
{
    [Fact]
    public void ReadsEveryDtypeWrittenByPython()
    {
        var tensors = SafeTensors.Load(TextFixtures.File("dtypes.safetensors"), out var metadata);
        Assert.Equal("make_bert_fixture.py", metadata["made_by"]);
        var expected = JsonNode.Parse(System.IO.File.ReadAllText(TextFixtures.File("dtypes_expected.json")))!.AsObject();
        Assert.Equal(expected.Count, tensors.Count);
        var types = new Dictionary<string, ScalarType>
        {
            ["f32"] = ScalarType.Float32, ["f16"] = ScalarType.Float16, ["bf16"] = ScalarType.BFloat16, ["f64"] = ScalarType.Float64,
            ["i64"] = ScalarType.Int64, ["i32"] = ScalarType.Int32, ["i16"] = ScalarType.Int16, ["i8"] = ScalarType.Int8,
            ["u8"] = ScalarType.Byte, ["bool"] = ScalarType.Bool, ["scalar"] = ScalarType.Float32, ["empty"] = ScalarType.Float32,
        };
        foreach (var (name, node) in expected)
        {
            var t = tensors[name];
            Assert.Equal(types[name], t.dtype);
            Assert.Equal(node!["shape"]!.AsArray().Select(x => (long)x!), t.shape);
            if (name == "i64")
            {
                Assert.Equal(node["values"]!.AsArray().Select(x => (long)x!), t.data<long>().ToArray());
                continue;
            }
            var want = node["values"]!.AsArray().Select(x => (double)x!).ToArray();
            var got = t.to(ScalarType.Float64).flatten().data<double>().ToArray();
            Assert.Equal(want, got);
        }
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void RoundTripsEveryDtypeWithMetadata()
    {
        using var dir = new TempDir();
        var source = new Dictionary<string, Tensor>
        {
            ["a.f32"] = torch.randn(3, 4),
            ["b.f16"] = torch.randn(5).to(ScalarType.Float16),
            ["c.bf16"] = torch.randn(2, 2, 2).to(ScalarType.BFloat16),
            ["d.f64"] = torch.randn(7, dtype: ScalarType.Float64),
            ["e.i64"] = torch.tensor(new long[] { long.MinValue, -1, long.MaxValue }),
            ["f.i32"] = torch.tensor(new[] { int.MinValue, 0, int.MaxValue }),
            ["g.u8"] = torch.tensor(new byte[] { 0, 128, 255 }),
            ["h.bool"] = torch.tensor(new[] { true, false }),
            ["i.empty"] = torch.zeros(0, 3),
        };
        string path = dir.File("all.safetensors");
        SafeTensors.Save(path, source, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "x" });
        var header = SafeTensors.ReadHeader(path);
        Assert.Equal(0, header.DataStart % 8);
        Assert.Equal(source.Keys.OrderBy(k => k, StringComparer.Ordinal), header.Entries.Select(e => e.Name));
        var loaded = SafeTensors.Load(path, out var metadata);
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal("x", metadata["note"]);
        foreach (var (name, t) in source)
        {
            Assert.Equal(t.dtype, loaded[name].dtype);
            Assert.Equal(t.shape, loaded[name].shape);
            Assert.Equal(t.bytes.ToArray(), loaded[name].bytes.ToArray());
        }
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), Deri.IO.AtomicFile.IsTemporary);
    }

    [Fact]
    public void AFailedSaveNamesTheTargetAndLeavesNoTemporaryFile()
    {
        using var dir = new TempDir();
        string path = dir.File("w.safetensors");
        using var old = torch.ones(2);
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = old });
        // A target that cannot be replaced (a folder of that name) is reported under its own name, not a temporary file's.
        string blocked = dir.File("blocked.safetensors");
        Directory.CreateDirectory(blocked);
        var e = Assert.ThrowsAny<OutputPathException>(() => SafeTensors.Save(blocked, new Dictionary<string, Tensor> { ["w"] = old }));
        Assert.StartsWith(blocked, e.Message);
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    private static string WriteBytes(TempDir dir, byte[] bytes)
    {
        string path = dir.File("bad.safetensors");
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Build(string json, int dataBytes)
    {
        var header = System.Text.Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BitConverter.GetBytes((ulong)header.Length).CopyTo(bytes, 0);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    [Fact]
    public void TruncatedDataIsReportedWithTheFileName()
    {
        using var dir = new TempDir();
        var good = System.IO.File.ReadAllBytes(TextFixtures.File("bert_tiny.safetensors"));
        string path = WriteBytes(dir, good[..^100]);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("huge-header")]
    [InlineData("bad-json")]
    [InlineData("bad-dtype")]
    [InlineData("size-mismatch")]
    [InlineData("gap")]
    [InlineData("trailing")]
    public void CorruptFilesGiveClearErrors(string kind)
    {
        using var dir = new TempDir();
        byte[] bytes = kind switch
        {
            "short" => [1, 2, 3],
            "huge-header" => BitConverter.GetBytes(ulong.MaxValue / 2).Concat(new byte[16]).ToArray(),
            "bad-json" => Build("{\"a\": [1, 2", 0),
            "bad-dtype" => Build("{\"a\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
            "size-mismatch" => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4),
            "gap" => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
            "trailing" => Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12),
            _ => throw new ArgumentException(kind),
        };
        string path = WriteBytes(dir, bytes);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path));
        Assert.StartsWith(path + ": not a valid safetensors file", e.Message);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        var e = Assert.Throws<InputFileNotFoundException>(() => SafeTensors.Load("/nonexistent/x.safetensors"));
        Assert.Contains("/nonexistent/x.safetensors", e.Message);
    }
}
