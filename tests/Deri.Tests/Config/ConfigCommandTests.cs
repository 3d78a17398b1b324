using Deri.Config;
using Deri.Tests.Cli;

namespace Deri.Tests.Config;

/// <summary><c>deri config</c> from the command line.</summary>
public sealed class ConfigCommandTests
{
    [Fact]
    public void PrintsTheResolvedConfigWithOverrides()
    {
        string yaml = CliRunner.Ok("config", "--set", "trainer.batch_size=64", "--set", "optimizer.params.lr=2e-4");
        var c = DeriConfig.Parse(yaml, "stdout");
        Assert.Equal(64, c.Trainer.BatchSize);
        Assert.Equal(2e-4, c.Optimizer.Params.Lr);
        Assert.Equal(50, c.Trainer.MaxEpochs);
    }

    [Fact]
    public void SavesTheConfigAndReportsBadKeys()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"deri-config-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string input = Path.Combine(dir, "in.yaml");
            File.WriteAllText(input, "trainer:\n  max_epochs: 3\n");
            string output = Path.Combine(dir, "out.yaml");
            CliRunner.Ok("config", "--config", input, "--out", output);
            Assert.Equal(3, DeriConfig.Load(output).Trainer.MaxEpochs);

            File.WriteAllText(input, "trainer:\n  max_epoch: 3\n");
            var r = CliRunner.Run(["config", "--config", input]);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"{input}:2:3: unknown key 'trainer.max_epoch'", r.Stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
