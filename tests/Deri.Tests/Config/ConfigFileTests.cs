using Deri.Config;
using Deri.Generation;
using Deri.Tests.Cli;

namespace Deri.Tests.Config;

/// <summary>How a config file is read: YAML syntax errors name the file and position; relative paths follow the file.</summary>
public sealed class ConfigFileTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), $"deri-config-file-{Guid.NewGuid():N}");

    public ConfigFileTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Malformed YAML: an unclosed flow list followed by another key makes YamlDotNet's scanner throw InvalidOperationException.</summary>
    public static TheoryData<string, int> Malformed => new()
    {
        { "trainer:\n  batch_size: [1\nnetwork:\n  num_leads: 2\n", 3 },
        { "trainer:\n  batch_size: [1\n", 3 },
        { "trainer: {batch_size: 1\n", 2 },
        { "network:\n  method: 'deri\n", 2 },
        { "trainer:\n\tbatch_size: 1\n", 1 },
        { "trainer:\n  batch_size: 1\n    max_epochs: 2\n", 3 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void AYamlSyntaxErrorIsAConfigErrorNamingTheFileAndLine(string yaml, int line)
    {
        string path = Write("bad.yaml", yaml);
        var e = Assert.Throws<ConfigException>(() => DeriConfig.Load(path));
        Assert.StartsWith($"{path}:{line}:", e.Message);
        Assert.Contains("not valid YAML", e.Message);
        var r = Assert.Throws<ConfigException>(() => ReportConfig.Load(path));
        Assert.StartsWith($"{path}:{line}:", r.Message);
    }

    [Fact]
    public void AnUnclosedListInAnOverrideIsAConfigError()
    {
        var e = Assert.Throws<ConfigException>(() => DeriConfig.Load(null, ["trainer.loss_weights={cma: [1\numa: 2}"]));
        Assert.StartsWith("--set trainer.loss_weights=", e.Message);
    }

    [Theory]
    [InlineData("config")]
    [InlineData("pretrain")]
    [InlineData("report train")]
    public void TheCommandsThatReadAConfigReportASyntaxErrorInOneLine(string command)
    {
        string path = Write("bad.yaml", "trainer:\n  batch_size: [1\nnetwork:\n  num_leads: 2\n");
        var r = CliRunner.Run([.. command.Split(' '), "--config", path, .. command == "config" ? Array.Empty<string>() : ["--out", Path.Combine(dir, "run")]]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"{path}:3:1: not valid YAML", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Operation is not valid", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "run")));
    }

    [Fact]
    public void RelativePathsInAFileResolveAgainstTheFilesFolder()
    {
        string configs = Path.Combine(dir, "configs");
        Directory.CreateDirectory(Path.Combine(configs, "bert"));
        string path = Write("configs/pretrain.yaml", """
            network:
              text_model: bert
            dataset:
              data_path: ../stores/ptbxl
            zeroshot:
              prompt_dict: prompts/p.json
              meta_data_path: /abs/data
            """);
        var c = DeriConfig.Load(path);
        Assert.Equal(Path.GetFullPath(Path.Combine(dir, "stores", "ptbxl")), c.Dataset.DataPath);
        Assert.Equal(Path.Combine(configs, "prompts", "p.json"), c.Zeroshot.PromptDict);
        Assert.Equal(Path.Combine(configs, "bert"), c.Network.TextModel);     // a folder next to the config
        Assert.Equal("/abs/data", c.Zeroshot.MetaDataPath);                   // absolute paths stay
        Assert.Equal("splits", c.Zeroshot.MetaSplitPath);                     // defaults stay relative to the working folder

        // A text model that is no folder next to the config is a model name, kept as written.
        Assert.Equal("ncbi/MedCPT-Query-Encoder", DeriConfig.Load(Write("configs/name.yaml", "network:\n  text_model: ncbi/MedCPT-Query-Encoder\n")).Network.TextModel);

        // --set values are relative to the working folder, even when they replace a file value.
        var set = DeriConfig.Load(path, ["dataset.data_path=stores/x"]);
        Assert.Equal("stores/x", set.Dataset.DataPath);

        // A run's recorded config is read as written.
        Assert.Equal("../stores/ptbxl", DeriConfig.LoadRecorded(path).Dataset.DataPath);
    }

    [Fact]
    public void RelativePathsInAReportConfigResolveAgainstItsFolder()
    {
        string path = Write("configs/report.yaml", "pretrained_run: ../runs/deri\ndata_path: store\ndecoder: gpt2\ncheckpoint: best\n");
        var c = ReportConfig.Load(path);
        string configs = Path.Combine(dir, "configs");
        Assert.Equal(Path.Combine(dir, "runs", "deri"), c.PretrainedRun);
        Assert.Equal(Path.Combine(configs, "store"), c.DataPath);
        Assert.Equal(Path.Combine(configs, "gpt2"), c.Decoder);
        Assert.Equal("best", c.Checkpoint);
    }

    [Fact]
    public void ConfigPrintsHowRelativePathsAreRead()
    {
        string path = Write("configs/pretrain.yaml", "dataset:\n  data_path: store\n");
        string yaml = CliRunner.Ok("config", "--config", path);
        Assert.StartsWith("# Relative paths in a config file resolve against the folder of that file", yaml);
        Assert.Equal(Path.Combine(dir, "configs", "store"), DeriConfig.Parse(yaml, "stdout").Dataset.DataPath);
    }
}
