using Deri.Config;

namespace Deri.Tests.Config;

/// <summary>Loading, overriding, checking and saving the pretraining config.</summary>
public sealed class DeriConfigTests
{
    private const string ReleaseStyle = """
        network:
          ecg_model: resnet18
          num_leads: 12
          text_model: ncbi/MedCPT-Query-Encoder
          projection_head:
            mlp_hidden_size: 256
            projection_size: 256

        dataset:
          dataset_name: 'mimic'
          data_path: 'your_path/' # add your image file path here

        # params for trainer
        trainer:
          batch_size: 128
          val_batch_size: 64
          checkpoint_interval: 50
          max_epochs: 50
          num_workers: 8

        optimizer:
          params:
            lr: 1.0e-3
            weight_decay: 1.0e-8

        zeroshot:
          prompt_type: 'CKEPE'
          prompt_dict: '/data/CKEPE_prompt.json'
          batch_size: 256
          num_workers: 8
          meta_data_path: '/data/finetune'
          meta_split_path: '/data/finetune/data_split'
          test_sets:
            ptbxl_super_class:
              data_path: 'ptbxl'
              split_path: 'ptbxl/super_class/ptbxl_super_class_test.csv'
            icbeb:
              data_path: 'icbeb2018/records500'
              split_path: 'icbeb/icbeb_test.csv'
        """;

    private static string TempFile(string text)
    {
        string path = Path.Combine(Path.GetTempPath(), $"deri-config-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void DefaultsAreTheReleaseTrainingRecipe()
    {
        var c = DeriConfig.Load(null);
        Assert.Equal(512, c.Trainer.BatchSize);
        Assert.Equal(50, c.Trainer.MaxEpochs);
        Assert.Equal(1e-3, c.Optimizer.Params.Lr);
        Assert.Equal(1e-8, c.Optimizer.Params.WeightDecay);
        Assert.Equal(5000, c.Optimizer.Scheduler.T0);
        Assert.Equal(1, c.Optimizer.Scheduler.TMult);
        Assert.Equal(1e-8, c.Optimizer.Scheduler.EtaMin);
        Assert.Equal(0.0, c.Trainer.GradClipNorm);
        Assert.Equal(0.0, c.Trainer.LossWeights["rec_text"]);
        Assert.Equal(4, c.Trainer.LossWeights.Values.Count(w => w == 1.0));
        Assert.Equal(0.02, c.Dataset.ValRatio);
        Assert.Empty(c.Zeroshot.ValSets);
        Assert.Empty(c.Zeroshot.TestSets);
        Assert.Equal(256, c.Network.ProjectionHead.ProjectionSize);
    }

    [Fact]
    public void ReadsTheReleaseKeysAndKeepsDefaultsForMissingOnes()
    {
        string path = TempFile(ReleaseStyle);
        try
        {
            var c = DeriConfig.Load(path);
            Assert.Equal("resnet18", c.Network.EcgModel);
            Assert.Equal(Path.Combine(Path.GetDirectoryName(path)!, "your_path/"), c.Dataset.DataPath);   // relative to the file
            Assert.Equal((128, 64, 50, 8), (c.Trainer.BatchSize, c.Trainer.ValBatchSize, c.Trainer.CheckpointInterval, c.Trainer.NumWorkers));
            Assert.Equal(1e-3, c.Optimizer.Params.Lr);
            Assert.Equal(5000, c.Optimizer.Scheduler.T0);
            Assert.Equal(["ptbxl_super_class", "icbeb"], c.Zeroshot.TestSets.Keys);
            Assert.Equal("icbeb/icbeb_test.csv", c.Zeroshot.TestSets["icbeb"].SplitPath);
            Assert.Equal("/data/finetune", c.Zeroshot.MetaDataPath);
            Assert.Empty(c.Zeroshot.ValSets);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnUnknownKeyIsAnErrorNamingKeyFileAndLine()
    {
        string path = TempFile("trainer:\n  batch_size: 4\n  batch_sise: 8\n");
        try
        {
            var ex = Assert.Throws<ConfigException>(() => DeriConfig.Load(path));
            Assert.StartsWith($"{path}:3:", ex.Message);
            Assert.Contains("unknown key 'trainer.batch_sise'", ex.Message);
            Assert.Contains("batch_size", ex.Message);

            ex = Assert.Throws<ConfigException>(() => DeriConfig.Parse("trainers:\n  batch_size: 4\n", "x.yaml"));
            Assert.Contains("x.yaml:1:1: unknown key 'trainers' in the top level", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AWrongTypeIsAnErrorNamingTheKeyAndTheExpectedType()
    {
        var ex = Assert.Throws<ConfigException>(() => DeriConfig.Parse("optimizer:\n  params:\n    lr: fast\n", "c.yaml"));
        Assert.Equal("c.yaml:3:9: 'optimizer.params.lr' needs a number, found 'fast'", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Parse("trainer: 5\n", "c.yaml"));
        Assert.Contains("'trainer' is a section", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Parse("trainer:\n  max_epochs: [1, 2]\n", "c.yaml"));
        Assert.Contains("'trainer.max_epochs' needs an integer, found a list", ex.Message);
    }

    [Fact]
    public void DuplicateKeysAndMalformedYamlAreErrors()
    {
        var ex = Assert.Throws<ConfigException>(() => DeriConfig.Parse("trainer:\n  batch_size: 4\n  batch_size: 8\n", "d.yaml"));
        Assert.Contains("d.yaml", ex.Message);
        Assert.Contains("batch_size", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Parse("trainer:\n  batch_size: [4\n", "m.yaml"));
        Assert.StartsWith("m.yaml:", ex.Message);
        Assert.Contains("not valid YAML", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Load("/nonexistent/deri.yaml"));
        Assert.Contains("/nonexistent/deri.yaml: cannot read", ex.Message);
    }

    [Fact]
    public void OutOfRangeValuesAreAllReportedTogether()
    {
        var ex = Assert.Throws<ConfigException>(() =>
            DeriConfig.Parse("trainer:\n  batch_size: 0\noptimizer:\n  params:\n    lr: -1\n", "r.yaml"));
        Assert.Contains("r.yaml: invalid config", ex.Message);
        Assert.Contains("trainer.batch_size = 0: must be positive", ex.Message);
        Assert.Contains("optimizer.params.lr = -1: must be positive", ex.Message);
    }

    [Fact]
    public void OverridesSetNestedValuesWithTypeChecks()
    {
        var c = DeriConfig.Parse("trainer:\n  batch_size: 32\n", "o.yaml",
        [
            "trainer.batch_size=64", "optimizer.params.lr=5e-4", "optimizer.scheduler.t_0=100",
            "trainer.loss_weights.rec_text=0.5", "zeroshot.test_sets={icbeb: {data_path: x, split_path: y.csv}}",
            "optimizer.params.betas=[0.8, 0.99]", "network.projection_head.projection_size=128",
        ]);
        Assert.Equal(64, c.Trainer.BatchSize);
        Assert.Equal(5e-4, c.Optimizer.Params.Lr);
        Assert.Equal(100, c.Optimizer.Scheduler.T0);
        Assert.Equal(0.5, c.Trainer.LossWeights["rec_text"]);
        Assert.Equal(1.0, c.Trainer.LossWeights["cma"]);
        Assert.Equal("y.csv", Assert.Single(c.Zeroshot.TestSets).Value.SplitPath);
        Assert.Equal([0.8, 0.99], c.Optimizer.Params.Betas);
        Assert.Equal(128, c.Network.ProjectionHead.ProjectionSize);
        Assert.Equal(256, c.Network.ProjectionHead.MlpHiddenSize);
    }

    [Fact]
    public void BadOverridesAreErrorsNamingTheOverride()
    {
        var ex = Assert.Throws<ConfigException>(() => DeriConfig.Load(null, ["trainer.batchsize=3"]));
        Assert.StartsWith("--set trainer.batchsize=3: unknown key 'trainer.batchsize'", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Load(null, ["trainer.batch_size=abc"]));
        Assert.Equal("--set trainer.batch_size=abc: 'trainer.batch_size' needs an integer, found 'abc'", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Load(null, ["trainer.batch_size"]));
        Assert.Contains("expected KEY.PATH=VALUE", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Load(null, ["trainer.batch_size.x=1"]));
        Assert.Equal("--set trainer.batch_size.x=1: 'trainer.batch_size' needs an integer, found a mapping", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Parse("trainer:\n  batch_size: 4\n", "f.yaml", ["trainer.batch_size.x=1"]));
        Assert.Contains("'trainer.batch_size' is a value, not a section", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Load(null, ["trainer.max_epochs=0"]));
        Assert.Contains("trainer.max_epochs = 0: must be positive", ex.Message);
        ex = Assert.Throws<ConfigException>(() => DeriConfig.Load(null, ["trainer.seed="]));
        Assert.Contains("no value", ex.Message);
    }

    [Fact]
    public void SavedYamlReadsBackToTheSameConfig()
    {
        var c = DeriConfig.Load(null, ["trainer.batch_size=48", "optimizer.params.weight_decay=1e-8", "dataset.data_path=a 'quoted' path"]);
        string yaml = c.ToYaml();
        Assert.Contains("batch_size: 48", yaml);
        // Floats keep a mantissa dot so YAML 1.1 readers (PyYAML) read them as floats too.
        Assert.Contains("weight_decay: 1.0e-08", yaml);
        Assert.Contains("t_0: 5000", yaml);
        Assert.DoesNotContain("...", yaml);
        var back = DeriConfig.Parse(yaml, "saved.yaml");
        Assert.Equal(yaml, back.ToYaml());
        Assert.Equal("a 'quoted' path", back.Dataset.DataPath);

        string path = Path.Combine(Path.GetTempPath(), $"deri-saved-{Guid.NewGuid():N}.yaml");
        try
        {
            c.Save(path);
            Assert.Equal(yaml, File.ReadAllText(path));
            Assert.Equal(48, DeriConfig.Load(path).Trainer.BatchSize);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnEmptySectionKeepsItsDefaults()
    {
        var c = DeriConfig.Parse("trainer:\n  # all commented out\noptimizer:\n  params:\n    lr: 0.01\n", "e.yaml");
        Assert.Equal(512, c.Trainer.BatchSize);
        Assert.Equal(0.01, c.Optimizer.Params.Lr);
        Assert.Equal(1e-8, c.Optimizer.Params.WeightDecay);
    }

    [Theory]
    [InlineData("BatchSize", "batch_size")]
    [InlineData("T0", "t_0")]
    [InlineData("EcgModel", "ecg_model")]
    [InlineData("MLPHiddenSize", "mlp_hidden_size")]
    public void PropertyNamesBecomeSnakeCaseKeys(string property, string key) => Assert.Equal(key, ConfigLoader.SnakeCase(property));
}
