using System.Text.Json;

namespace Deri.Tests.Cli;

public class InfoCommandTests
{
    [Fact]
    public void InfoPrintsVersionsThreadsAndDevices()
    {
        string o = CliRunner.Ok("info", "--threads", "1");
        Assert.Contains("LibTorch    2.10.0", o);
        Assert.Contains("TorchSharp  0.107.0", o);
        Assert.Contains("Threads     1 intra-op", o);
        Assert.Contains("Devices     cpu", o);
    }

    [Fact]
    public void InfoJsonIsMachineReadable()
    {
        using var doc = JsonDocument.Parse(CliRunner.Ok("info", "--json", "--device", "cpu", "--threads", "2"));
        Assert.Equal("2.10.0", doc.RootElement.GetProperty("libtorch").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("threads").GetInt32());
        Assert.Equal("cpu", doc.RootElement.GetProperty("selected_device").GetString());
    }

    [Fact]
    public void VersionAndHelp()
    {
        Assert.Equal("0.1.0", CliRunner.Ok("--version").Trim());
        string help = CliRunner.Ok("--help");
        Assert.Contains("info", help);
        Assert.Contains("Usage:", help);
    }

    [Fact]
    public void BadDeviceIsAClearError()
    {
        var r = CliRunner.Run(["info", "--device", "tpu"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("unknown device 'tpu'", r.Stderr + r.Stdout);
    }
}
