using Deri.Pretraining;
using Deri.Tests.Cli;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Pretraining;

/// <summary><c>trainer.init_from</c>: a run starts from another run's weights, and a missing or unfitting checkpoint is an error.</summary>
[Collection("torch-global-generator")]
public sealed class InitFromTests(TinyPretrainingData data) : IClassFixture<TinyPretrainingData>
{
    [Fact]
    public void TheWeightsOfACheckpointOrARunFolderAreLoaded()
    {
        string dir = Path.Combine(data.Root, "init-unit");
        Directory.CreateDirectory(dir);
        torch.random.manual_seed(1);
        using var source = torch.nn.Linear(6, 4);
        Checkpoint.Save(Path.Combine(dir, "best.ckpt"), new CheckpointInfo { GlobalStep = 7 }, source, null);
        foreach (string from in new[] { dir, Path.Combine(dir, "best.ckpt") })
        {
            torch.random.manual_seed(2);
            using var target = torch.nn.Linear(6, 4);
            Assert.False(target.weight!.allclose(source.weight!));
            var log = new List<string>();
            Pretrainer.InitFrom(from, target, log.Add);
            Assert.True(target.weight!.allclose(source.weight!, rtol: 0, atol: 0));
            Assert.True(target.bias!.allclose(source.bias!, rtol: 0, atol: 0));
            Assert.Contains("saved after 7 optimizer steps", Assert.Single(log));
        }
        using var untouched = torch.nn.Linear(6, 4);
        using var before = untouched.weight!.clone();
        Pretrainer.InitFrom("", untouched, _ => Assert.Fail("nothing is loaded for an empty init_from"));
        Assert.True(untouched.weight!.allclose(before, rtol: 0, atol: 0));

        using var wider = torch.nn.Linear(6, 5);
        var misfit = Assert.Throws<InputFormatException>(() => Pretrainer.InitFrom(dir, wider, _ => { }));
        Assert.Contains("does not fit", misfit.Message);
        string empty = Path.Combine(data.Root, "init-empty");
        Directory.CreateDirectory(empty);
        Assert.Contains("without best.ckpt", Assert.Throws<InputFileNotFoundException>(() => Pretrainer.InitFrom(empty, wider, _ => { })).Message);
        Assert.Contains("no such checkpoint", Assert.Throws<InputFileNotFoundException>(() => Pretrainer.InitFrom(empty + "/nope.ckpt", wider, _ => { })).Message);
    }

    [Fact]
    public void PretrainContinuesFromAnotherRunAndRefusesOneThatDoesNotFit()
    {
        string config = data.WriteConfig("init");
        string a = Path.Combine(data.Root, "init-a"), b = Path.Combine(data.Root, "init-b"), c = Path.Combine(data.Root, "init-c");
        CliRunner.Ok("pretrain", "--config", config, "--out", a, "--set", "trainer.max_epochs=1", "--threads", "1");
        // With a learning rate of 1e-30 a run's weights stay where they started: B starts from A's, the control C from
        // the seed's random weights, which A's epoch of training has moved away from.
        string[] still = ["--set", "trainer.max_epochs=1", "--set", "optimizer.params.lr=1e-30", "--set", "optimizer.scheduler.eta_min=0", "--threads", "1"];
        var continued = CliRunner.Run(["pretrain", "--config", config, "--out", b, "--set", $"trainer.init_from={a}", .. still]);
        Assert.Equal(0, continued.ExitCode);
        CliRunner.Ok(["pretrain", "--config", config, "--out", c, .. still]);
        Assert.Contains($"initial weights: {Path.Combine(a, "best.ckpt")}", continued.Stderr);
        var w = new Dictionary<string, Tensor>();
        foreach (var (name, run) in new[] { ("a", a), ("b", b), ("c", c) })
        {
            string export = Path.Combine(data.Root, "init-export-" + name);
            CliRunner.Ok("export", "--run", run, "--checkpoint", "last", "--out", export);
            var tensors = Deri.Weights.SafeTensors.Load(Path.Combine(export, "model.safetensors"));
            w[name] = tensors["proj_t.0.weight"];
            foreach (var (k, t) in tensors) if (k != "proj_t.0.weight") t.Dispose();
        }
        Assert.True(w["b"].allclose(w["a"], rtol: 0, atol: 1e-7), "B did not start from A's weights");
        Assert.False(w["c"].allclose(w["a"], rtol: 0, atol: 1e-4), "the control run should keep its random weights");
        foreach (var t in w.Values) t.Dispose();

        string d = Path.Combine(data.Root, "init-d");
        var misfit = CliRunner.Run(["pretrain", "--config", config, "--out", d, "--set", "network.ecg_base_width=8", "--set", $"trainer.init_from={a}",
            "--set", "trainer.max_epochs=1", "--threads", "1"]);
        Assert.Equal(1, misfit.ExitCode);
        Assert.Contains("does not fit", misfit.Stderr);
        var missing = CliRunner.Run(["pretrain", "--config", config, "--out", Path.Combine(data.Root, "init-e"), "--set", "trainer.init_from=/nonexistent/run",
            "--threads", "1"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("trainer.init_from: /nonexistent/run", missing.Stderr);
    }
}
