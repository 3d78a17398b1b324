using System.Text.Json.Nodes;
using Deri.Interop.Import;
using Deri.Models;
using Deri.Pretraining;
using Deri.Tests.Cli;
using static TorchSharp.torch;

namespace Deri.Tests.Interop;

/// <summary>
/// Imports the fixture of tools/interop/make_merl_fixture.py: a randomly initialised ECG side with the MERL release's
/// layout and key names (ResNet18-1D of stem width 16, saved as torch.save({'epoch', 'state_dict'}) with 'module.'),
/// and compares the imported run's features on three PTB-XL records with PyTorch's.
/// </summary>
public sealed class ImportTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "interop");
    private static string Checkpoint => Path.Combine(Fixtures, "merl_resnet18_w16.pt");

    private static string WriteConfig(string dir, int width = 16)
    {
        string path = Path.Combine(dir, "merl_w16.yaml");
        File.WriteAllText(path, $"""
            network:
              method: merl
              ecg_model: resnet18
              ecg_base_width: {width}
              downconv_stride: 1
              pool_heads: 4
              text_model: scratch
              feature_dim: 32
              text_max_length: 16
              projection_head:
                mlp_hidden_size: 64
                projection_size: 32
            dataset:
              seq_length: 5000
              sampling_rate: 500
            """);
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "sinus", "rhythm", "normal", "ecg"]);
        return path;
    }

    private static string[] ImportArgs(string dir, string config, string output, params string[] extra) =>
        ["import", "--from", Checkpoint, "--method", "merl", "--config", config, "--vocab", Path.Combine(dir, "vocab.txt"), "--out", output, .. extra];

    [Fact]
    public void ReaderUnwrapsTheStateDictAndTheDataParallelPrefix()
    {
        using var sd = TorchCheckpointReader.Read(Checkpoint);
        Assert.Equal(["state_dict"], sd.Container);
        Assert.Equal("module.", sd.StrippedPrefix);
        Assert.Equal([16, 12, 7], sd.Tensors["ecg_encoder.conv1.weight"].shape);
        Assert.Contains("ecg_encoder.layer2.0.shortcut.0.weight", sd.Tensors.Keys);
        Assert.True(CheckpointImporter.HasMerlReleasePool(sd.Tensors.Keys));
    }

    [Fact]
    public void KeysOfTheReleasesMapExplicitly()
    {
        Assert.Equal("ecg_encoder.layer3.0.downsample.1.running_var", CheckpointImporter.MapKey("ecg_encoder.layer3.0.shortcut.1.running_var", false));
        Assert.Equal("ecg_encoder.layer1.0.conv1.weight", CheckpointImporter.MapKey("ecg_encoder.layer1.0.conv1.weight", false));
        Assert.Null(CheckpointImporter.MapKey("att_pool_head.mhsa.in_proj_weight", true));
        Assert.Equal("att_pool_head.mha.in_proj_weight", CheckpointImporter.MapKey("att_pool_head.mha.in_proj_weight", false));
    }

    [Fact]
    public void ImportedRunGivesPyTorchsFeaturesOnRealRecords()
    {
        string dir = Directory.CreateTempSubdirectory("deri-import-").FullName;
        try
        {
            string config = WriteConfig(dir), run = Path.Combine(dir, "run");
            string stdout = CliRunner.Ok(ImportArgs(dir, config, run, "--allow-missing", "att_pool_head.,text."));
            Assert.Contains("→ " + run, stdout);
            var report = JsonNode.Parse(File.ReadAllText(Path.Combine(run, CheckpointImporter.ReportFile)))!;
            var unexpected = report["unexpected"]!.AsArray().Select(x => (string)x!).ToList();
            Assert.Contains("ecg_encoder.linear.weight", unexpected);
            Assert.Contains("att_pool_head.cls_token", unexpected);
            Assert.Equal("ecg_encoder.layer2.0.downsample.0.weight", (string?)report["renamed"]!["ecg_encoder.layer2.0.shortcut.0.weight"]);
            Assert.All(report["missing_allowed"]!.AsArray(), k => Assert.Matches("^(att_pool_head|text)\\.", (string)k!));

            // PyTorch's input is the records preprocessed in the fixture script; Deri's own preprocessing must give the same.
            using var expected = TorchCheckpointReader.Read(Path.Combine(Fixtures, "merl_resnet18_w16_expected.pt"));
            float[] ours = RealRecords.Load();
            float[] theirs = expected.Tensors["input"].data<float>().ToArray();
            Assert.Equal(theirs.Length, ours.Length);
            Assert.True(ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max() <= 1e-5, "Deri's preprocessing differs from the fixture's input");

            using var loaded = PretrainedRun.Load(run, "best", CPU);
            var model = loaded.Module.Model;
            using var ecg = tensor(ours, [3, 12, 5000]);
            using var _ = no_grad();
            using var global = model.ProbeFeature(ecg, ProbeFeatureKind.Global);
            using var encoder = model.Encoder.forward(ecg).mean([-1]);
            double dGlobal = (global - expected.Tensors["global_feature"]).abs().max().item<float>();
            double dEncoder = (encoder - expected.Tensors["encoder"]).abs().max().item<float>();
            Assert.True(dGlobal <= 1e-5, $"global feature: max |Deri − PyTorch| = {dGlobal}");
            Assert.True(dEncoder <= 1e-5, $"encoder feature: max |Deri − PyTorch| = {dEncoder}");
            Assert.True(expected.Tensors["global_feature"].abs().max().item<float>() > 1e-3);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void MissingKeysAndShapeMismatchesAreRefusedByName()
    {
        string dir = Directory.CreateTempSubdirectory("deri-import-").FullName;
        try
        {
            string config = WriteConfig(dir);
            var missing = CliRunner.Run(ImportArgs(dir, config, Path.Combine(dir, "a")));
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("att_pool_head.sep_token", missing.Stderr);
            Assert.Contains("--allow-missing", missing.Stderr);

            string narrow = WriteConfig(Directory.CreateDirectory(Path.Combine(dir, "w8")).FullName, width: 8);
            var shape = CliRunner.Run(ImportArgs(Path.Combine(dir, "w8"), narrow, Path.Combine(dir, "b"), "--allow-missing", "att_pool_head.,text."));
            Assert.Equal(1, shape.ExitCode);
            Assert.Contains("ecg_encoder.conv1.weight: module [8, 12, 7], checkpoint [16, 12, 7]", shape.Stderr);
            Assert.False(Directory.Exists(Path.Combine(dir, "b")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
