using System.CommandLine;
using Deri.IO;
using Deri.Serving;

namespace Deri.Cli.Commands;

/// <summary>
/// <c>deri analyze RECORD…</c>: the analysis of <c>POST /api/v1/analyze</c> for files on disk, in-process (the same
/// <see cref="InferenceService"/>, no HTTP), one result per record as text, JSON Lines or FHIR Bundles (NDJSON).
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var records = new Argument<string[]>("records")
        {
            Description = "Record files: a WFDB .hea (its .dat found beside it), a CinC .mat or .hea (the other beside it), a CPSC2018 .mat, or a CSV of samples in mV (with --rate)",
            Arity = ArgumentArity.OneOrMore,
        };
        var run = new Option<string?>("--run") { Description = "DERI or MERL run folder, or a model bundle (`deri model build`; default: models/deri-ptbxl, see `deri model info`)" };
        var checkpoint = DownstreamOptions.Checkpoint();
        var reportModel = new Option<string?>("--report-model") { Description = "Report-generation run (`deri report train`): adds a generated report" };
        var index = new Option<string?>("--index") { Description = "Retrieval index (`deri index build`): adds the most similar cases (json format)" };
        var store = new Option<string?>("--store") { Description = "Store whose preprocessing and validation thresholds to use (default: the index's store, else the run's dataset.data_path)" };
        var prompts = new Option<string?>("--prompts") { Description = "Prompt file (default: the run's zeroshot.prompt_dict)" };
        var format = new Option<string>("--format")
        {
            Description = "text (a short reading per record), json (one analysis object per line, as the API answers) or fhir (one HL7 FHIR R4 Bundle per line, NDJSON)",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "fhir");
        var output = new Option<string?>("--out", "-o") { Description = "Write the results to this file (atomically) instead of stdout" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --out file instead of refusing" };
        var rate = new Option<string?>("--rate") { Description = "Sampling rate (Hz) of CSV records" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("analyze", "Analyse ECG record files as `deri serve` does (zero-shot findings, report, measurements) and print one result per record; unreadable files are listed on stderr and skipped")
        {
            records, run, checkpoint, reportModel, index, store, prompts, format, output, overwrite, rate, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            string? outPath = result.GetValue(output);
            if (outPath is not null && File.Exists(outPath) && !result.GetValue(overwrite))
                throw new CliUsageException($"--out {outPath} exists: give --overwrite to replace it, or another file");
            var fmt = result.GetValue(format) switch
            {
                "json" => AnalysisFormat.Json,
                "fhir" => AnalysisFormat.Fhir,
                _ => AnalysisFormat.Text,
            };
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            using var service = new InferenceService(new ServiceOptions
            {
                Run = ModelCommand.RunOrDefault(result.GetValue(run)),
                Checkpoint = result.GetValue(checkpoint)!,
                ReportModel = result.GetValue(reportModel),
                Index = result.GetValue(index),
                Store = result.GetValue(store),
                Prompts = result.GetValue(prompts),
                Device = dev,
            }, stderr.WriteLine);
            var lines = new List<string>();
            var summary = RecordAnalysis.Run(service, result.GetValue(records)!, result.GetValue(rate), fmt,
                outPath is null ? line => stdout.WriteLine(line) : lines.Add,
                (path, problem) => stderr.WriteLine($"skipped {path}: {problem}"));
            if (summary.Analysed == 0)
                throw new InputFormatException($"none of the {summary.Skipped} records could be analysed (each is listed above)");
            if (outPath is not null)
            {
                AtomicFile.WriteAllLines(outPath, lines);
                stdout.WriteLine($"{summary.Analysed} records analysed ({summary.Skipped} skipped) -> {outPath}");
            }
            else if (summary.Skipped > 0)
                stderr.WriteLine($"{summary.Analysed} records analysed, {summary.Skipped} skipped");
            return 0;
        });
        return cmd;
    }
}
