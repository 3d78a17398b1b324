using System.CommandLine;
using System.Globalization;
using Deri.Downstream;
using Deri.Evaluation;

namespace Deri.Cli.Commands;

/// <summary><c>deri probe</c>: linear probing of frozen features of one or more runs on one or more stores.</summary>
internal static class ProbeCommand
{
    public static Command Create()
    {
        var run = new Option<string[]>("--run")
        {
            Description = "Run folder(s); repeat to compare checkpoints (e.g. DERI, MERL and baselines) in one table", Required = true,
        };
        var checkpoint = DownstreamOptions.Checkpoint();
        var store = new Option<string[]>("--store") { Description = "Labelled store(s) with train, val and test splits; repeat for several", Required = true };
        var feature = new Option<string>("--feature")
        {
            Description = "mixed (DERI's feature), aligned (MERL's), global, or encoder (the pooled backbone feature map, the ECG-only " +
                          "baselines' one); auto: mixed for DERI runs, aligned for MERL runs, encoder for baselines",
            DefaultValueFactory = _ => "auto",
        };
        var ratios = new Option<string>("--ratios") { Description = "Training ratios in percent, comma-separated", DefaultValueFactory = _ => "1,10,100" };
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
        cmd.SetAction(result => CliErrors.Run(() =>
        {
            var kind = result.GetValue(feature) is "auto" ? (DownstreamFeature?)null : FeatureExtractor.Parse(result.GetValue(feature)!);
            if (kind == DownstreamFeature.ZeroShot) throw new ArgumentException("--feature: probing uses mixed, aligned, global or encoder features");
            var ratioList = ParseRatios(result.GetValue(ratios)!);
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            var options = new ProbeOptions(result.GetValue(run)!, result.GetValue(store)!, result.GetValue(checkpoint)!, kind, ratioList,
                new LinearProbeOptions { Epochs = result.GetValue(epochs), Seed = result.GetValue(seed), WarmupEpochs = Math.Min(5, result.GetValue(epochs) - 1) },
                result.GetValue(batch));
            var (results, table, files) = ProbeEvaluation.Run(options, dev, result.GetValue(output)!, DownstreamOptions.CommandLine(), Console.Error.WriteLine);
            string checkpoints = string.Join("; ", results.Select(x => x.Checkpoint).Distinct());
            Console.WriteLine(table.ToMarkdown(new RunProvenance(DownstreamOptions.CommandLine(), checkpoints)));
            Console.WriteLine($"tables: {string.Join(", ", files)}");
            return 0;
        }));
        return cmd;
    }

    private static List<double> ParseRatios(string text)
    {
        var list = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part.TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out double r) || !(r > 0 && r <= 100))
                throw new ArgumentException($"--ratios: '{part}' is not a percentage in (0, 100]");
            list.Add(r);
        }
        if (list.Count == 0) throw new ArgumentException("--ratios: no ratio given");
        return list;
    }
}
