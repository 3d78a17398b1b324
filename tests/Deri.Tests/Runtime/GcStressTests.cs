using System.Diagnostics;
using Deri.Tests.Baselines;
using Deri.Tests.Cli;
using Deri.Tests.Pretraining;

namespace Deri.Tests.Runtime;

/// <summary>
/// Builds <c>shared/tools/gcstress</c>, a startup hook whose thread runs <c>GC.Collect(); GC.WaitForPendingFinalizers()</c>
/// every 2 ms, so that an object whose only use is a raw handle in a native call (a TorchSharp Scalar nothing owns) is
/// finalised during that call almost every time instead of once in many runs.
/// </summary>
public sealed class GcStressHook : IDisposable
{
    public GcStressHook()
    {
        string source = Path.Combine(SharedData.Root, "tools", "gcstress");
        Root = Path.Combine(Path.GetTempPath(), $"deri-gcstress-{Guid.NewGuid():N}");
        string copy = Path.Combine(Root, "src");
        Directory.CreateDirectory(copy);
        // shared/ is read-only: build a copy.
        foreach (string f in Directory.GetFiles(source)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        string output = Path.Combine(Root, "bin");
        var psi = new ProcessStartInfo("dotnet", ["build", "-c", "Release", "-o", output, copy])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        string log = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        if (!p.WaitForExit(300_000) || p.ExitCode != 0) throw new InvalidOperationException($"building the gcstress hook failed:\n{log}");
        HookPath = Path.Combine(output, "gcstress.dll");
        Tiny = new TinyPretrainingData();
    }

    /// <summary>The built hook, for <c>DOTNET_STARTUP_HOOKS</c>.</summary>
    public string HookPath { get; }

    /// <summary>A tiny synthetic store and configs to train on.</summary>
    public TinyPretrainingData Tiny { get; }

    /// <summary>Temporary folder of the build.</summary>
    public string Root { get; }

    /// <summary>Runs <c>deri ARGS</c> under the hook.</summary>
    /// <remarks>The hook loops without pausing (<c>GCSTRESS_PAUSE_MS=0</c>): at its default 2 ms pause, tiny models survived
    /// even before the fix; at 0 ms the pre-fix build died in every configuration used below within about 10 s.</remarks>
    public CliRunner.Result Run(params string[] args) =>
        CliRunner.Run(args, timeoutSeconds: 600, environment: new Dictionary<string, string>
        {
            ["DOTNET_STARTUP_HOOKS"] = HookPath,
            ["GCSTRESS_PAUSE_MS"] = "0",
        });

    public void Dispose()
    {
        Tiny.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// The short form of the GC-stress check (the long form is <c>tools/gcstress/run.sh</c>): DERI training steps, DERI, MERL
/// and two baselines pretraining, report training, and the service answering requests, with the collector and finalizer
/// running all the time. Before every Scalar was owned (<c>Deri.Runtime.Scalars</c>, Deri's <c>AdamW</c>), the build at
/// fdf92d0 died within about 10 s in <c>bench train</c> ("For integral input tensors, argument alpha must not be a floating
/// point number", 2 of 2 runs), MERL ("Scalar.h:140") and TS-TCC pretraining with the settings below.
/// </summary>
[Trait("Category", "GcStress")]
public sealed class GcStressTests(GcStressHook hook) : IClassFixture<GcStressHook>
{
    // A ResNet18 of width 32 and batches of 16: with the tiny width-4 test model the native calls are too short for the
    // collector to land inside one, and the pre-fix build survived.
    private static readonly string[] Quick = ["--set", "trainer.batch_size=16", "--set", "network.ecg_base_width=32", "--set", "trainer.max_epochs=1", "--threads", "1"];

    private static void Ok(CliRunner.Result r, string what) =>
        Assert.True(r.ExitCode == 0, $"{what} under gcstress exited {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");

    [Fact]
    public void TrainingStepsSurviveTheCollector()
    {
        // DERI forward, loss, backward and AdamW on random data: batch-norm counters, residual sums, the optimizer.
        Ok(hook.Run(["bench", "train", "--batch", "8", "--length", "1000", "--steps", "20", "--warmup", "0", "--text-len", "32",
            "--no-reference", "--threads", "1"]), "bench train");
    }

    [Theory]
    [InlineData("deri")]
    [InlineData("merl")]
    [InlineData("tstcc")]
    [InlineData("astcl")]
    public void PretrainingSurvivesTheCollector(string method)
    {
        string config = hook.Tiny.WriteConfig("gc-" + method, method is "deri" or "merl" ? "" : BaselinePretrainTests.SmallSsl);
        string run = Path.Combine(hook.Tiny.Root, "gc-run-" + method);
        Ok(hook.Run(["pretrain", "--config", config, "--method", method, "--out", run, .. Quick]), $"pretrain --method {method}");
        Assert.True(File.Exists(Path.Combine(run, "last.ckpt")));
    }

    [Fact]
    public void ReportTrainingAndServingSurviveTheCollector()
    {
        string config = hook.Tiny.WriteConfig("gc-report-base");
        string pretrained = Path.Combine(hook.Tiny.Root, "gc-report-base-run");
        Ok(CliRunner.Run(["pretrain", "--config", config, "--out", pretrained, .. Quick]), "pretrain (without the hook)");

        string reportConfig = Path.Combine(hook.Tiny.Root, "gc-report.yaml");
        File.WriteAllText(reportConfig, $"""
            pretrained_run: {pretrained}
            checkpoint: last
            data_path: {hook.Tiny.StoreDir}
            small_decoder:
              n_layer: 1
              n_embd: 32
              n_head: 2
              dropout: 0.0
            trainer:
              batch_size: 8
              val_batch_size: 32
              max_epochs: 1
              checkpoint_every_steps: 0
              num_workers: 0
              seed: 3
            decoding:
              num_beams: 2
              max_new_tokens: 12
            """);
        string report = Path.Combine(hook.Tiny.Root, "gc-report-run");
        Ok(hook.Run(["report", "train", "--config", reportConfig, "--out", report, "--threads", "1"]), "report train");

        var serve = hook.Run(["bench", "serve", "--run", pretrained, "--report-model", report, "--store", hook.Tiny.StoreDir,
            "--requests", "24", "--concurrency", "4", "--threads", "1"]);
        Ok(serve, "bench serve"); // it exits 1 when any request failed
    }
}
