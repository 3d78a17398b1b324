using System.CommandLine;
using Deri.Downstream;
using Deri.Interop;
using Deri.Pretraining;

namespace Deri.Cli.Commands;

/// <summary><c>deri embed</c>: frozen embeddings of a store's records as CSV.</summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Run folder made by `deri pretrain` or `deri demo`", Required = true };
        var checkpoint = DownstreamOptions.Checkpoint();
        var store = new Option<string>("--store") { Description = "Prepared store (`deri data prepare`)", Required = true };
        var split = new Option<string>("--split") { Description = "all, train, val or test", DefaultValueFactory = _ => "all" };
        var feature = new Option<string>("--feature")
        {
            Description = "mixed (DERI's probe feature), aligned (MERL's), global, zeroshot (the embedding compared with class prompts), " +
                          "or encoder (the pooled backbone feature map; the only one of ECG-only baselines); " +
                          "auto: mixed for DERI runs, aligned for MERL runs, encoder for baselines",
            DefaultValueFactory = _ => "auto",
        };
        var output = new Option<string>("--output", "-o") { Description = "CSV file: id, split, labels (';'-joined), e0..e{D-1}", Required = true };
        var batch = DownstreamOptions.BatchSize();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("embed", "Write frozen ECG embeddings of a store's records (with id, split and labels) to a CSV file " +
            "(DERI and MERL runs through the batch-norm-folded inference path)")
        {
            run, checkpoint, store, split, feature, output, batch, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            string featureText = result.GetValue(feature)!;
            DownstreamFeature? chosen = featureText == "auto" ? null : FeatureExtractor.Parse(featureText);
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            using var r = PretrainedRun.Load(result.GetValue(run)!, result.GetValue(checkpoint)!, dev);
            var kind = chosen ?? FeatureExtractor.DefaultFor(r);
            string path = result.GetValue(output)!;
            var (n, d, skipped, _) = RunEmbedding.Export(r, result.GetValue(store)!, result.GetValue(split)!, kind, path, result.GetValue(batch));
            if (skipped.Count > 0) stderr.WriteLine($"{skipped.Count} records left out (non-finite feature): {string.Join(", ", skipped)}");
            stdout.WriteLine($"{n} records × {d} {FeatureExtractor.Name(kind)} features ({r.CheckpointPath}) → {Path.GetFullPath(path)}");
            return 0;
        });
        return cmd;
    }
}
