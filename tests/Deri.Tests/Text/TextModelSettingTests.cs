using Deri.Config;
using Deri.Pretraining;
using Deri.Tests.Pretraining;
using Deri.Text;
using Deri.Training;
using TorchSharp;

namespace Deri.Tests.Text;

/// <summary><c>network.text_model</c> names a local BERT folder or <c>scratch</c>; anything else is an error, never a fallback.</summary>
public sealed class TextModelSettingTests
{
    [Fact]
    public void ScratchAndACompleteFolderResolveAndAnythingElseIsAnErrorNamingThePath()
    {
        Assert.Equal("scratch", TextModelSetting.Resolve("scratch"));
        // Built-in pretrained models resolve to their names (they ship inside Deri); other spellings are folder names.
        Assert.Equal("minilm", TextModelSetting.Resolve("minilm"));
        Assert.Equal("arcticxs", TextModelSetting.Resolve("arcticxs"));
        Assert.Throws<InputFileNotFoundException>(() => TextModelSetting.Resolve("MiniLM"));
        string folder = TextFixtures.File("hf_tiny");
        string resolved = TextModelSetting.Resolve(Path.Combine(folder, "..", "hf_tiny"));
        Assert.Equal(Path.GetFullPath(folder), resolved);
        Assert.Equal(resolved, TextModelSetting.Resolve(resolved));

        var hub = Assert.Throws<InputFileNotFoundException>(() => TextModelSetting.Resolve("ncbi/MedCPT-Query-Encoder"));
        Assert.Contains("network.text_model: 'ncbi/MedCPT-Query-Encoder' is not a folder", hub.Message);
        Assert.Contains(Path.GetFullPath("ncbi/MedCPT-Query-Encoder"), hub.Message);
        Assert.Contains("'scratch'", hub.Message);
        Assert.Throws<InputFileNotFoundException>(() => TextModelSetting.Resolve(folder + "x"));
        Assert.Throws<InputFileNotFoundException>(() => TextModelSetting.Resolve("Scratch"));
        Assert.Throws<ConfigException>(() => TextModelSetting.Resolve(" "));

        using var dir = new TempDir();
        System.IO.File.Copy(TextFixtures.File("hf_tiny", "config.json"), dir.File("config.json"));
        System.IO.File.WriteAllBytes(dir.File("pytorch_model.bin"), [0x80, 0x02]);
        var incomplete = Assert.Throws<InputFileNotFoundException>(() => TextModelSetting.Resolve(dir.Path));
        Assert.Contains($"{dir.Path} is not a Hugging Face BERT folder: model.safetensors, vocab.txt not found", incomplete.Message);
        Assert.Contains(HuggingFaceBert.ConvertCommand, incomplete.Message);
    }
}

/// <summary>Pretraining builds the text encoder its config names, and records what it used.</summary>
[Collection("torch-global-generator")]
public sealed class PretrainingTextModelTests(TinyPretrainingData data) : IClassFixture<TinyPretrainingData>
{
    private DeriConfig Config(string name, params string[] overrides) =>
        DeriConfig.Load(data.WriteConfig(name), ["trainer.max_epochs=1", "trainer.checkpoint_every_steps=0", .. overrides]);

    private static string RecordedTextModel(string run) => DeriConfig.Load(Path.Combine(run, "config.yaml")).Network.TextModel;

    [Fact]
    public void ATextModelThatIsNotAFolderStopsTheRunBeforeAnythingIsTrained()
    {
        foreach (string value in new[] { "ncbi/MedCPT-Query-Encoder", TextFixtures.File("hf_tinyy") })
        {
            string run = Path.Combine(data.Root, "no-text-" + Guid.NewGuid().ToString("N"));
            var e = Assert.Throws<InputFileNotFoundException>(() =>
                Pretrainer.Run(Config("typo", $"network.text_model={value}"), run, torch.CPU, progress: new PlainProgress(TextWriter.Null, 100), log: _ => { }));
            Assert.Contains($"network.text_model: '{value}' is not a folder", e.Message);
            Assert.False(File.Exists(Path.Combine(run, "config.yaml")));
            Assert.False(File.Exists(Path.Combine(run, Pretrainer.TextFolder, "vocab.txt")));
        }
        // The config's default is the release's hub name: a run that does not choose fails the same way.
        Assert.Equal("ncbi/MedCPT-Query-Encoder", new NetworkConfig().TextModel);
    }

    [Fact]
    public void TheRecordedConfigSaysScratchOrTheFolderThatWasUsed()
    {
        string scratch = Path.Combine(data.Root, "text-scratch");
        Pretrainer.Run(Config("scratch"), scratch, torch.CPU, progress: new PlainProgress(TextWriter.Null, 100), log: _ => { });
        Assert.Equal("scratch", RecordedTextModel(scratch));
        Assert.True(File.Exists(Path.Combine(scratch, Pretrainer.TextFolder, "vocab.txt")));

        string folder = Path.Combine(TextFixtures.File("hf_tiny"), "..", "hf_tiny");
        string pretrained = Path.Combine(data.Root, "text-folder");
        var logged = new List<string>();
        Pretrainer.Run(Config("folder", $"network.text_model={folder}", "network.text_max_length=16"), pretrained, torch.CPU,
            progress: new PlainProgress(TextWriter.Null, 100), log: logged.Add);
        Assert.Equal(Path.GetFullPath(folder), RecordedTextModel(pretrained));
        Assert.Contains(logged, l => l.StartsWith($"text encoder: pretrained {Path.GetFullPath(folder)} (frozen", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(pretrained, Pretrainer.TextFolder, "vocab.txt")));
        using var reopened = PretrainedRun.Load(pretrained, "last", torch.CPU);
        Assert.True(reopened.Module.TextEncoder.Frozen);
    }
}
