using Deri.Synthetic;

namespace Deri.Tests.Pretraining;

/// <summary>A tiny synthetic store and a tiny DERI config, made once for the pretraining tests.</summary>
public sealed class TinyPretrainingData : IDisposable
{
    public TinyPretrainingData()
    {
        Root = Path.Combine(Path.GetTempPath(), $"deri-pretrain-{Guid.NewGuid():N}");
        DataDir = Path.Combine(Root, "data");
        StoreDir = Path.Combine(Root, "store");
        SyntheticStores.Make(DataDir, StoreDir, records: 120, seed: 3, testFraction: 0.2);
    }

    public string Root { get; }

    public string DataDir { get; }

    public string StoreDir { get; }

    public string Prompts => Path.Combine(DataDir, SyntheticPrompts.FileName);

    /// <summary>A DERI small enough to train a step in tens of milliseconds; <paramref name="extra"/> is appended YAML.</summary>
    public string WriteConfig(string name, string extra = "")
    {
        string path = Path.Combine(Root, name + ".yaml");
        File.WriteAllText(path, $"""
            network:
              ecg_model: resnet18
              text_model: scratch
              ecg_base_width: 4
              feature_dim: 32
              text_max_length: 24
              pool_heads: 2
              rme_heads: 2
              projection_head:
                mlp_hidden_size: 32
                projection_size: 32
              decoder:
                heads: 2
                head_dim: 16
            dataset:
              data_path: {StoreDir}
              seq_length: 1000
              sampling_rate: 100
            trainer:
              batch_size: 4
              val_batch_size: 16
              max_epochs: 2
              checkpoint_every_steps: 3
              num_workers: 0
              seed: 5
              log_every_steps: 1
              text_compute_on_longest: true
            zeroshot:
              prompt_dict: {Prompts}
            {extra}
            """);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root)) Directory.Delete(Root, true);
    }
}
