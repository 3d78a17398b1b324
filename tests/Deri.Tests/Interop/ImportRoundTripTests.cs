using Deri.Models;
using Deri.Pretraining;
using Deri.Tests.Cli;
using Deri.Tests.Downstream;
using static TorchSharp.torch;

namespace Deri.Tests.Interop;

[Collection("downstream-run")]
public sealed class ImportRoundTripTests(DownstreamRunFixture f)
{
    [Fact]
    public void ASafetensorsExportImportsBackToTheSameEcgSide()
    {
        string dir = f.NewDir("roundtrip");
        CliRunner.Ok(["export", "--run", f.Run, "--out", Path.Combine(dir, "export")]);
        string run = Path.Combine(dir, "imported");
        CliRunner.Ok(["import", "--from", Path.Combine(dir, "export", "model.safetensors"), "--method", "deri",
            "--config", Path.Combine(f.Run, "config.yaml"), "--vocab", Path.Combine(f.Run, "text", "vocab.txt"), "--allow-missing", "text.", "--out", run]);

        using var original = PretrainedRun.Load(f.Run, "best", CPU);
        using var imported = PretrainedRun.Load(run, "best", CPU);
        var m = original.Module.Model;
        manual_seed(4);
        using var ecg = randn(3, m.Leads, m.InputLength);
        using var _ = no_grad();
        foreach (var kind in new[] { ProbeFeatureKind.Mixed, ProbeFeatureKind.Global })
        {
            using var a = m.ProbeFeature(ecg, kind);
            using var b = imported.Module.Model.ProbeFeature(ecg, kind);
            Assert.Equal(0f, (a - b).abs().max().item<float>());
        }
        var again = CliRunner.Run(["import", "--from", Path.Combine(dir, "export", "model.safetensors"), "--method", "deri",
            "--config", Path.Combine(f.Run, "config.yaml"), "--vocab", Path.Combine(f.Run, "text", "vocab.txt"), "--allow-missing", "text.", "--out", run]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("a run is already there", again.Stderr);
    }
}
