using System.CommandLine;
using System.Text.Json;
using Deri.Pretraining;
using Deri.Retrieval;

namespace Deri.Cli.Commands;

/// <summary><c>deri search</c>: ECG → reports, ECG → ECGs or text → ECGs in a retrieval index.</summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var index = new Option<string>("--index") { Description = "Index folder (`deri index build`)", Required = true };
        var record = new Option<string?>("--record") { Description = "Query ECG record (WFDB .hea, CinC .mat with .hea, CPSC2018 .mat): finds similar reports and ECGs" };
        var text = new Option<string?>("--text") { Description = "Query text (a report or a finding): finds similar ECGs" };
        var k = new Option<int>("--k") { Description = "Results per list", DefaultValueFactory = _ => 10 };
        var run = new Option<string?>("--run") { Description = "Run folder to embed the query with (default: the run the index was built with)" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint (default: the one the index was built with)" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("search", "Search a retrieval index by cosine similarity (exact): ECG → reports and ECGs, or text → ECGs; JSON on stdout")
        {
            index, record, text, k, run, checkpoint, device, threads,
        };
        OptionRules.OneOf(cmd, record, "--record", text, "--text");
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            if (result.GetValue(k) <= 0) throw new CliUsageException($"--k must be positive, got {result.GetValue(k)}");
            using var idx = RetrievalIndex.Open(result.GetValue(index)!);
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            string runDir = result.GetValue(run) ?? idx.Manifest.Run;
            string ckpt = result.GetValue(checkpoint) ?? (result.GetValue(run) is null ? idx.Manifest.Checkpoint : "best");
            using var r = PretrainedRun.Load(runDir, ckpt, dev);
            var encoder = new PairEncoder(r);
            var res = result.GetValue(record) is { } path
                ? RetrievalSearch.ByRecord(idx, encoder, path, result.GetValue(k))
                : RetrievalSearch.ByText(idx, encoder, result.GetValue(text)!, result.GetValue(k));
            stdout.WriteLine(JsonSerializer.Serialize(res, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return 0;
        });
        return cmd;
    }
}
