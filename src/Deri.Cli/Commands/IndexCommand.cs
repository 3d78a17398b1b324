using System.CommandLine;
using System.Text.Json;
using Deri.Pretraining;
using Deri.Retrieval;

namespace Deri.Cli.Commands;

/// <summary><c>deri index build</c> and <c>deri index eval</c>: retrieval indexes of ECG–report pairs.</summary>
internal static class IndexCommand
{
    public static Command Create() => CommandGroup.Create("index", "Retrieval indexes: ECG and report embeddings of a store in the zero-shot space",
        CreateBuild(), CreateEval());

    private static Command CreateBuild()
    {
        var run = new Option<string>("--run") { Description = "DERI or MERL run folder (`deri pretrain`, `deri demo`)", Required = true };
        var checkpoint = DownstreamOptions.Checkpoint();
        var store = new Option<string>("--store") { Description = "Prepared store with reports (`deri data prepare`)", Required = true };
        var split = new Option<string>("--split") { Description = "Split to index: all, train, val or test", DefaultValueFactory = _ => "all" };
        var output = new Option<string>("--out", "-o") { Description = "Index folder (index.json, ecg.f32, report.f32); replaced atomically when it is an index", Required = true };
        var batch = DownstreamOptions.BatchSize();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("build", "Embed a store's ECGs and reports (the space zero-shot uses) into a memory-mapped retrieval index")
        {
            run, checkpoint, store, split, output, batch, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            using var r = PretrainedRun.Load(result.GetValue(run)!, result.GetValue(checkpoint)!, dev);
            string path = result.GetValue(output)!;
            var m = RetrievalIndexBuilder.Build(r, new IndexBuildOptions(result.GetValue(store)!, result.GetValue(split)!, result.GetValue(batch)),
                path, stderr.WriteLine);
            if (m.Skipped.Count > 0) stderr.WriteLine($"{m.Skipped.Count} records left out (non-finite embedding): {string.Join(", ", m.Skipped)}");
            stdout.WriteLine($"{m.Entries.Count} pairs × {m.Dim} ({r.CheckpointPath}) → {Path.GetFullPath(path)}");
            return 0;
        });
        return cmd;
    }

    private static Command CreateEval()
    {
        var index = new Option<string>("--index") { Description = "Index folder (`deri index build`)", Required = true };
        var ks = OptionRules.IntList("--k", "Cut-offs k of Recall@k and the label-match rate (default 1,5,10)");
        var cmd = new Command("eval",
            "Recall@k of ECG → report and report → ECG retrieval inside an index (correct = the query's own pair) and the label-match rate of the top k, as JSON")
        {
            index, ks,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            using var idx = RetrievalIndex.Open(result.GetValue(index)!);
            var m = RetrievalEvaluation.Evaluate(idx, result.GetValue(ks) is { Length: > 0 } given ? given : [1, 5, 10]);
            stdout.WriteLine(JsonSerializer.Serialize(m, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }
}
