using System.Text.Json.Nodes;
using Deri.Tests.Cli;

namespace Deri.Tests.Models.Inference;

public sealed class BenchEmbedCommandTests
{
    [Fact]
    public void PrintsOneJsonLineWithEveryModeAndBatch()
    {
        string stdout = CliRunner.Ok(["bench", "embed", "--length", "200", "--batches", "1,2", "--iters", "1", "--warmup", "0", "--threads", "1", "--device", "cpu"]);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        var o = JsonNode.Parse(lines[0])!;
        Assert.Equal("embed", (string?)o["bench"]);
        Assert.Equal(200, (int)o["length"]!);
        var rows = o["results"]!.AsArray();
        Assert.Equal(6, rows.Count);
        Assert.Equal(["train_forward", "eval_no_grad", "folded_inference"], rows.Take(3).Select(r => (string)r!["mode"]!));
        Assert.Equal([1, 1, 1, 2, 2, 2], rows.Select(r => (int)r!["batch"]!));
        Assert.All(rows, r => Assert.True((double)r!["records_per_s"]! > 0));
    }
}
