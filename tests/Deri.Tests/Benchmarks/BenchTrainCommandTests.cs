using System.CommandLine;
using System.Text.Json;
using Deri.Cli.Commands;
using Deri.Benchmarks;
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
        var root = new RootCommand { BenchTrainCommand.Create() };
        var output = new StringWriter();
        var config = new InvocationConfiguration { Output = output };
        var saved = Console.Out;
        Console.SetOut(output);
        int code;
        try
        {
            code = root.Parse(["train", "--batch", "2", "--steps", "1", "--warmup", "0", "--length", "200", "--text-len", "8", "--device", "cpu"])
                .Invoke(config);
        }
        finally { Console.SetOut(saved); }
        Assert.Equal(0, code);
        var line = output.ToString().Trim();
        Assert.DoesNotContain('\n', line);
        using var doc = JsonDocument.Parse(line);
        Assert.True(doc.RootElement.GetProperty("samples_per_s").GetDouble() > 0);
        Assert.Equal(2, doc.RootElement.GetProperty("batch").GetInt32());
        Assert.Equal("resnet18", doc.RootElement.GetProperty("ecg_model").GetString());
    }
}
