using Deri.Tests.Text;
using Deri.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Deri.Tests.Weights;

public class StateDictLoaderTests
{
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc;
        private readonly LayerNorm norm;

        public Net() : base(nameof(Net))
        {
            fc = nn.Linear(3, 2);
            norm = nn.LayerNorm(2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => norm.forward(fc.forward(x));
    }

    private static Dictionary<string, Tensor> Full() => new()
    {
        ["fc.weight"] = torch.ones(2, 3),
        ["fc.bias"] = torch.full(2, 2.0f),
        ["norm.weight"] = torch.full(2, 3.0f),
        ["norm.bias"] = torch.full(2, 4.0f),
    };

    private static float Value(nn.Module m, string name) =>
        m.named_parameters().First(p => p.name == name).parameter.flatten()[0].item<float>();

    [Fact]
    public void ExactDictLoadsEveryKey()
    {
        using var net = new Net();
        var report = StateDictLoader.Load(net, Full(), strict: true);
        Assert.True(report.IsExact);
        Assert.Equal(4, report.Loaded.Count);
        Assert.Equal(4.0f, Value(net, "norm.bias"));
    }

    [Fact]
    public void StrictLoadListsMissingUnexpectedAndMismatchedKeysAndCopiesNothing()
    {
        using var net = new Net();
        var dict = Full();
        dict.Remove("norm.bias");
        dict["head.weight"] = torch.zeros(1);
        dict["fc.weight"] = torch.ones(4, 3);
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(net, dict, strict: true, source: "ckpt.safetensors"));
        Assert.Equal(["norm.bias"], e.Report.Missing);
        Assert.Equal(["head.weight"], e.Report.Unexpected);
        Assert.Equal("fc.weight", Assert.Single(e.Report.Mismatched).Key);
        Assert.Equal([2L, 3L], e.Report.Mismatched[0].Expected);
        Assert.Equal([4L, 3L], e.Report.Mismatched[0].Found);
        Assert.Contains("ckpt.safetensors", e.Message);
        Assert.Contains("missing: norm.bias", e.Message);
        Assert.Contains("unexpected: head.weight", e.Message);
        Assert.NotEqual(3.0f, Value(net, "norm.weight"));
    }

    [Fact]
    public void ALoadIsStrictUnlessTheCallerOptsOut()
    {
        using var net = new Net();
        // A checkpoint whose names match nothing: by default an error that lists every module key left without a value.
        var renamed = Full().ToDictionary(kv => "model." + kv.Key, kv => kv.Value);
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictLoader.Load(net, renamed, source: "other.safetensors"));
        Assert.Empty(e.Report.Loaded);
        Assert.Equal(net.named_parameters().Select(p => p.name).Concat(net.named_buffers().Select(b => b.name)).Distinct().Order(StringComparer.Ordinal),
            e.Report.Missing);
        foreach (var key in e.Report.Missing) Assert.Contains(key, e.Message);
        Assert.StartsWith("other.safetensors: ", e.Message);
        Assert.NotEqual(3.0f, Value(net, "norm.weight"));
    }

    [Fact]
    public void LenientLoadCopiesWhatFitsAndReports()
    {
        using var net = new Net();
        var dict = Full();
        dict.Remove("norm.bias");
        dict["fc.weight"] = torch.ones(4, 3);
        var report = StateDictLoader.Load(net, dict, strict: false);
        Assert.False(report.IsExact);
        Assert.Equal(3.0f, Value(net, "norm.weight"));
        Assert.NotEqual(1.0f, Value(net, "fc.weight"));
        Assert.Equal(["norm.bias"], report.Missing);
    }

    [Fact]
    public void BertPrefixAndIgnoredKeysAreTolerated()
    {
        using var net = new Net();
        var dict = Full().ToDictionary(kv => "bert." + kv.Key, kv => kv.Value);
        dict["bert.embeddings.position_ids"] = torch.arange(4);
        var report = StateDictLoader.Load(net, dict, strict: true, ignore: ["embeddings.position_ids"]);
        Assert.True(report.IsExact);
        Assert.Equal(["bert.embeddings.position_ids"], report.Ignored);
        Assert.Equal(2.0f, Value(net, "fc.bias"));
    }

    [Fact]
    public void SaveWritesTheStateDictThatLoadsBack()
    {
        using var dir = new TempDir();
        using var a = new Net();
        using var b = new Net();
        StateDictLoader.Load(a, Full(), strict: true);
        string path = dir.File("net.safetensors");
        StateDictLoader.Save(a, path);
        var report = StateDictLoader.Load(b, SafeTensors.Load(path), strict: true, source: path);
        Assert.Equal(4, report.Loaded.Count);
        using var x = torch.randn(5, 3);
        Assert.True(a.forward(x).allclose(b.forward(x), rtol: 0, atol: 0));
    }
}
