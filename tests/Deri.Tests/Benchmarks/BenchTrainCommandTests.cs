using System.Text.Json;
using Deri.Benchmarks;
using Deri.Tests.Cli;
using static TorchSharp.torch;

namespace Deri.Tests.Benchmarks;

public class BenchTrainCommandTests
{
    [Fact]
    public void BenchmarkRunsFullStepsAndReportsThroughput()
    {
        var r = TrainStepBenchmark.Run(new TrainBenchOptions(Batch: 2, Steps: 1, Warmup: 1, Length: 200, TextLength: 8), CPU);
        Assert.Equal(5, r.Tokens);
        Assert.True(r.SamplesPerSecond > 0);
        Assert.True(double.IsFinite(r.Loss) && r.Loss > 0);
        Assert.InRange(r.ParamsMillions, 8.8, 8.9); // the release-size ResNet18 model (8.9 M at 200 samples, 8 text tokens)
    }

    [Fact]
    public void CommandPrintsOneJsonLine()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(["bench", "train", "--batch", "2", "--steps", "1", "--warmup", "0",
            "--length", "200", "--text-len", "8", "--device", "cpu", "--no-reference"]);
        Assert.True(code == 0, stderr);
        var line = stdout.Trim();
        Assert.DoesNotContain('\n', line);
        using var doc = JsonDocument.Parse(line);
        Assert.True(doc.RootElement.GetProperty("samples_per_s").GetDouble() > 0);
        Assert.Equal(2, doc.RootElement.GetProperty("batch").GetInt32());
        Assert.Equal("resnet18", doc.RootElement.GetProperty("ecg_model").GetString());
    }

    [Fact]
    public void ProfileTimesEveryPartAndCountsTheConvolutionWork()
    {
        var options = new TrainBenchOptions(Batch: 2, Steps: 1, Warmup: 0, Length: 400, TextLength: 8);
        var p = TrainStepProfile.Run(options, CPU, repeats: 1);
        string[] parts = ["ecg_encoder.stem", "ecg_encoder.layer1", "ecg_encoder.layer2", "ecg_encoder.layer3", "ecg_encoder.layer4",
            "downconv", "att_pool_head", "rme_pool1", "rme_pool2", "ecg_decoder", "text_decoder"];
        foreach (string part in parts) Assert.Contains(p.Rows, r => r.Kind == "part" && r.Name == part);
        Assert.All(p.Rows, r => Assert.True(r.ForwardMs > 0 && r.BackwardMs >= 0 && r.ForwardGflop > 0, r.Name));

        // ResNet18: the stem, 16 k3 convolutions and 3 strided 1×1 shortcuts, grouped by shape.
        var ops = p.Rows.Where(r => r.Kind == "op").ToList();
        Assert.Equal(20, ops.Sum(r => r.Count));
        // The stem by hand 2 · B · 64 out · 200 out samples · 12 in · 7 taps.
        Assert.Equal(2.0 * 2 * 64 * 200 * 12 * 7 / 1e9, p.Rows.Single(r => r.Name == "ecg_encoder.stem").ForwardGflop, 9);
        // Every convolution of the stages is counted once, whether summed per stage or per shape.
        double stages = p.Rows.Where(r => r.Name.StartsWith("ecg_encoder.", StringComparison.Ordinal)).Sum(r => r.ForwardGflop);
        Assert.Equal(stages, ops.Sum(r => r.ForwardGflop), 9);
        Assert.True(p.MatmulGflops > 0);
        Assert.True(p.StepForwardGflop > stages);
    }

    [Fact]
    public void TheReferenceIsFoundInAParentAndItsNumberIsRead()
    {
        string root = Directory.CreateTempSubdirectory("deri-ref").FullName;
        try
        {
            string bench = Directory.CreateDirectory(Path.Combine(root, "shared", "bench")).FullName;
            string script = Path.Combine(bench, "deri_reference.py");
            // Run by /bin/sh in this test: it ignores the benchmark's arguments and prints what the real script prints.
            File.WriteAllText(script, "echo '{\"impl\": \"pytorch-test\", \"samples_per_s\": 2.5}'\n");
            string deep = Directory.CreateDirectory(Path.Combine(root, "repo", "src")).FullName;
            Assert.Equal(script, PyTorchReference.Find(null, deep));
            if (!File.Exists("/" + PyTorchReference.RelativePath)) Assert.Null(PyTorchReference.Find(null, "/"));
            Assert.Equal("/x/ref.py", PyTorchReference.Find("/x/ref.py", deep));

            var options = new TrainBenchOptions();
            var r = PyTorchReference.Run(script, options, 2, TimeSpan.FromSeconds(30), ["/nonexistent/python3", "/bin/false", "/bin/sh"]);
            Assert.Equal(2.5, r.SamplesPerSecond);
            Assert.Equal("pytorch-test", r.Implementation);

            var failed = PyTorchReference.Run(script, options, 2, TimeSpan.FromSeconds(30), ["/nonexistent/python3", "/bin/false"]);
            Assert.Null(failed.SamplesPerSecond);
            Assert.Contains("/nonexistent/python3: could not be started", failed.Problem);
            Assert.Contains("/bin/false:", failed.Problem);
            Assert.Contains("no such file", PyTorchReference.Run(Path.Combine(root, "missing.py"), options, 2, TimeSpan.FromSeconds(5), ["/bin/sh"]).Problem);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ANamedReferenceThatCannotRunIsAnError()
    {
        var (code, stdout, stderr) = CommandTreeTests.RunInProcess(["bench", "train", "--batch", "2", "--steps", "1", "--warmup", "0",
            "--length", "200", "--text-len", "8", "--device", "cpu", "--reference", "/nonexistent/deri_reference.py"]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains("/nonexistent/deri_reference.py: no such file", stderr);
    }
}
