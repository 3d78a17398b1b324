using System.Diagnostics;
using Deri.Config;
using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.Generation;
using Deri.Pretraining;
using Deri.Synthetic;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Deri.Tests.Generation;

public sealed class ZzExperiment(ITestOutputHelper output)
{
    [Fact]
    public void Run()
    {
        string root = "/tmp/rgexp";
        int n = int.Parse(Environment.GetEnvironmentVariable("EXP_N") ?? "400");
        string data = Path.Combine(root, $"data{n}"), store = Path.Combine(root, $"store{n}"), pre = Path.Combine(root, $"pre{n}_" + (Environment.GetEnvironmentVariable("EXP_PE") ?? "1"));
        var sw = Stopwatch.StartNew();
        if (!EcgStore.Exists(store))
        {
            SyntheticDatasetWriter.Write(new SyntheticDatasetOptions(data, n, new SyntheticEcgConfig(Seed: 11)));
            var dataset = MimicIvEcgDataset.Load(data, new MimicOptions { ValFraction = 0.1, TestFraction = 0.15, Seed = 1 });
            EcgStoreBuilder.Build(dataset, store, new StoreBuildOptions { Preprocess = PreprocessConfig.Default with { TargetRate = 100, TargetLength = 1000 } });
        }
        output.WriteLine($"data {sw.Elapsed.TotalSeconds:F1}");
        if (!File.Exists(Path.Combine(pre, "last.ckpt")))
        {
            var cfg = DeriConfig.Parse($"""
            network:
              ecg_model: resnet18
              ecg_base_width: 8
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
              data_path: {store}
              seq_length: 1000
              sampling_rate: 100
            trainer:
              batch_size: 32
              val_batch_size: 64
              max_epochs: {Environment.GetEnvironmentVariable("EXP_PE") ?? "1"}
              checkpoint_every_steps: 0
              num_workers: 0
              seed: 5
              log_every_steps: 50
              text_compute_on_longest: true
            zeroshot:
              prompt_dict: {Path.Combine(data, SyntheticPrompts.FileName)}
            """, "x");
            Pretrainer.Run(cfg, pre, CPU, progress: TinyReportData.Silent, log: _ => { });
        }
        output.WriteLine($"pretrain {sw.Elapsed.TotalSeconds:F1}");
        string rd = Path.Combine(root, "rep" + Guid.NewGuid().ToString("N")[..6]);
        File.WriteAllText(rd + ".yaml", $"""
            pretrained_run: {pre}
            checkpoint: last
            data_path: {store}
            small_decoder:
              n_layer: 2
              n_embd: 64
              n_head: 2
              dropout: 0.0
            trainer:
              batch_size: 16
              val_batch_size: 64
              max_epochs: 4
              checkpoint_every_steps: 0
              num_workers: 0
              seed: 3
              log_every_steps: 50
            optimizer:
              params:
                lr: 0.002
            decoding:
              num_beams: 1
              max_new_tokens: 40
            """);
        var sets = (Environment.GetEnvironmentVariable("EXP_SET") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries);
        var config = ReportConfig.Load(rd + ".yaml", sets);
        ReportTrainer.Run(config, rd, CPU, progress: TinyReportData.Silent, log: output.WriteLine);
        output.WriteLine($"report {sw.Elapsed.TotalSeconds:F1}");
        foreach (var l in File.ReadLines(Path.Combine(rd, "train", "metrics.jsonl")).Where(l => l.Contains("\"val\""))) output.WriteLine(l);
        using var run = ReportRun.Open(rd, "best", CPU);
        using var s = EcgStore.Open(store);
        var reports = ReportGeneration.FromStore(run, s, "test", run.Config.Decoding.ToOptions(), 64);
        int right = reports.Count(r => ReportEndToEndTests.Rhythm(r.Report) is { } g && g == ReportEndToEndTests.Rhythm(r.Reference!));
        output.WriteLine($"right {right}/{reports.Count}; gen {sw.Elapsed.TotalSeconds:F1}");
        foreach (var g in reports.GroupBy(r => ReportEndToEndTests.Rhythm(r.Reference!) + " -> " + ReportEndToEndTests.Rhythm(r.Report))) output.WriteLine($"{g.Key}: {g.Count()}");
    }
}
