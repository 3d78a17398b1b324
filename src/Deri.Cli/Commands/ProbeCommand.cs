using System.CommandLine;
using Deri.Downstream;
using Deri.Evaluation;

namespace Deri.Cli.Commands;

/// <summary><c>deri probe</c>: linear probing of frozen features of one or more runs on one or more stores.</summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var run = OptionRules.StringList("--run", "Run folder(s), to compare checkpoints (e.g. DERI, MERL and baselines) in one table", required: true);
        var checkpoint = DownstreamOptions.Checkpoint();
        var store = OptionRules.StringList("--store", "Labelled store(s) with train, val and test splits", required: true);
        var feature = new Option<string>("--feature")
        {
            Description = "mixed (DERI's feature), aligned (MERL's), global, or encoder (the pooled backbone feature map, the ECG-only " +
                          "baselines' one); auto: mixed for DERI runs, aligned for MERL runs, encoder for baselines",
            DefaultValueFactory = _ => "auto",
        };
        var ratios = OptionRules.PercentList("--ratios", "Training ratios in percent (default 1,10,100)", [1, 10, 100]);
        var epochs = new Option<int>("--epochs") { Description = "Probe training epochs", DefaultValueFactory = _ => 100 };
        var seed = new Option<long>("--seed") { Description = "Seed of the training subsets, initialisation and shuffling", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--out", "-o") { Description = "Folder for the probe table (Markdown, CSV, JSON)", DefaultValueFactory = _ => "runs/probe" };
        var batch = DownstreamOptions.BatchSize();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("probe",
            "Linear probing (METHOD §4) of frozen features: features of each store's train/val/test computed once, one probe per ratio, " +
            "one table of test macro AUC over stores × runs × ratios")
        {
            run, checkpoint, store, feature, ratios, epochs, seed, output, batch, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var kind = result.GetValue(feature) is "auto" ? (DownstreamFeature?)null : FeatureExtractor.Parse(result.GetValue(feature)!);
            if (kind == DownstreamFeature.ZeroShot) throw new CliUsageException("--feature: probing uses mixed, aligned, global or encoder features");
            var ratioList = result.GetValue(ratios)!.ToList();
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            var options = new ProbeOptions(result.GetValue(run)!, result.GetValue(store)!, result.GetValue(checkpoint)!, kind, ratioList,
                new LinearProbeOptions { Epochs = result.GetValue(epochs), Seed = result.GetValue(seed), WarmupEpochs = Math.Min(5, result.GetValue(epochs) - 1) },
                result.GetValue(batch));
            var (results, table, files) = ProbeEvaluation.Run(options, dev, result.GetValue(output)!, DownstreamOptions.CommandLine(), stderr.WriteLine);
            string checkpoints = string.Join("; ", results.Select(x => x.Checkpoint).Distinct());
            stdout.WriteLine(table.ToMarkdown(new RunProvenance(DownstreamOptions.CommandLine(), checkpoints)));
            stdout.WriteLine($"tables: {string.Join(", ", files)}");
            return 0;
        });
        return cmd;
    }
}
