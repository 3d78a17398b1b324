using System.CommandLine;
using Deri.Data.Store;
using Deri.Generation;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary><c>deri report generate</c>: reports for a store split or raw record files, written as CSV or JSONL.</summary>
internal static class ReportGenerateCommand
{
    public static Option<string> Model() => new("--model") { Description = "Report run folder (made by `deri report train`)", Required = true };

    public static Option<string> Checkpoint() => new("--checkpoint") { Description = "best, last or a checkpoint path", DefaultValueFactory = _ => "best" };

    public static Option<int?> Beams() => new("--beams") { Description = "Beam width (default: the run's decoding.num_beams)" };

    public static Option<int?> MaxNewTokens() => new("--max-new-tokens") { Description = "Most generated tokens (default: the run's decoding.max_new_tokens)" };

    public static Option<double?> Guidance() => new("--guidance")
    {
        Description = "Classifier-free guidance scale (default: the run's decoding.guidance_scale; needs a run trained with memory_dropout > 0)",
    };

    public static Option<int> Batch() => new("--batch") { Description = "Records per generation batch", DefaultValueFactory = _ => 32 };

    public static Generation.Decoder.DecodingOptions Decoding(ParseResult result, ReportRun run, Option<int?> beams, Option<int?> maxNew,
        Option<double?> guidance)
    {
        var d = run.Config.Decoding;
        d = d with
        {
            NumBeams = result.GetValue(beams) ?? d.NumBeams, MaxNewTokens = result.GetValue(maxNew) ?? d.MaxNewTokens,
            GuidanceScale = result.GetValue(guidance) ?? d.GuidanceScale,
        };
        if (d.GuidanceScale > 0 && run.Config.MemoryDropout <= 0)
            throw new CliUsageException($"--guidance {d.GuidanceScale}: the run {run.Directory} was trained without memory_dropout, so it has no unconditional report prior to guide against");
        var options = d.ToOptions();
        options.Validate(run.Model.Generator.Decoder.Config.NPositions);
        return options;
    }

    public static Command Create()
    {
        var model = Model();
        var checkpoint = Checkpoint();
        var store = new Option<string?>("--store") { Description = "Prepared store whose split is generated (with --split)" };
        var split = new Option<string>("--split") { Description = "Split of --store: train, val or test", DefaultValueFactory = _ => "test" };
        var records = OptionRules.StringList("--records", "Raw record files (e.g. WFDB .hea), preprocessed like the run's training store");
        var output = new Option<string>("--out", "-o") { Description = "Output file: .csv or .jsonl", Required = true };
        var beams = Beams();
        var maxNew = MaxNewTokens();
        var guidance = Guidance();
        var batch = Batch();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("generate", "Generate reports for a store split (--store, --split) or for record files (--records)")
        {
            model, checkpoint, store, split, records, output, beams, maxNew, guidance, batch, device, threads,
        };
        OptionRules.OneOf(cmd, store, "--store (with --split)", records, "--records");
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            string? storeDir = result.GetValue(store);
            var files = result.GetValue(records)!;
            if (storeDir is not null && !ReportGeneration.Splits.Contains(result.GetValue(split)!))
                throw new CliUsageException($"--split must be one of {string.Join(", ", ReportGeneration.Splits)}, got '{result.GetValue(split)}'");
            if (storeDir is not null && !EcgStore.Exists(storeDir)) throw new InputFileNotFoundException($"{storeDir}: no prepared store (no index.json)");
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            using var run = ReportRun.Open(result.GetValue(model)!, result.GetValue(checkpoint)!, dev);
            var options = Decoding(result, run, beams, maxNew, guidance);
            string outPath = result.GetValue(output)!;
            if (storeDir is not null)
            {
                using var s = EcgStore.Open(storeDir);
                var reports = ReportGeneration.FromStore(run, s, result.GetValue(split)!, options, result.GetValue(batch));
                ReportGeneration.Write(outPath, reports);
                stdout.WriteLine($"{reports.Count} reports → {outPath}");
                return 0;
            }
            string trainStore = run.Config.DataPath;
            if (!EcgStore.Exists(trainStore))
                throw new InputFileNotFoundException($"{trainStore}: the run's training store is gone; its index.json holds the preprocessing raw records need");
            Deri.Data.Preprocessing.PreprocessConfig preprocess;
            using (var ts = EcgStore.Open(trainStore)) preprocess = ts.Index.Preprocess;
            var r = ReportGeneration.FromRecords(run, files, preprocess, options, result.GetValue(batch));
            ReportGeneration.Write(outPath, r.Reports);
            stdout.WriteLine($"{r.Reports.Count} reports → {outPath}" + (r.Skipped.Count > 0 ? $"; {r.Skipped.Count} records skipped (listed on stderr)" : ""));
            foreach (var s in r.Skipped) stderr.WriteLine($"skipped {s.Path}: {s.Reason}");
            return 0;
        });
        return cmd;
    }
}
