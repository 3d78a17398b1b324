using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Deri.Synthetic;

namespace Deri.Cli.Commands;

/// <summary><c>deri synth</c>: writes a synthetic 12-lead ECG data set with reports in the MIMIC-IV-ECG layout.</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var n = new Option<int>("--n") { Description = "Number of records", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Data-set seed (record i depends only on seed and i)", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output folder (created; must not exist or be empty unless --force)", Required = true };
        var noise = new Option<string>("--noise") { Description = "Noise level: none, low, medium or high", DefaultValueFactory = _ => "medium" };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = one per core)", DefaultValueFactory = _ => 0 };
        var rate = new Option<double>("--rate") { Description = "Sampling rate in Hz", DefaultValueFactory = _ => 500 };
        var seconds = new Option<double>("--seconds") { Description = "Record length in seconds", DefaultValueFactory = _ => 10 };
        var force = new Option<bool>("--force") { Description = "Replace an existing output folder holding an earlier synthetic data set" };
        var start = new Option<int>("--start") { Description = "Index of the first record (a held-out split: same seed, records from e.g. 100000 on)", DefaultValueFactory = _ => 0 };
        var statements = new Option<string>("--statements")
        {
            Description = "conditions (the 16 built-in conditions, the default) or ptbxl (each record takes the statement set of a real PTB-XL record "
                + "of --statement-folds; all 71 statements rendered; needs --scp-statements and --scp-records)",
            DefaultValueFactory = _ => "conditions",
        };
        var scpStatements = new Option<string?>("--scp-statements") { Description = "ptbxl mode: PTB-XL's scp_statements.csv (e.g. ../shared/data/ptbxl/scp_statements.csv)" };
        var scpRecords = new Option<string?>("--scp-records") { Description = "ptbxl mode: a PTB-XL metadata CSV with scp_codes and strat_fold (ptbxl_database.csv or ptbxl_reports.csv)" };
        var statementFolds = new Option<string>("--statement-folds")
        {
            Description = "ptbxl mode: folds whose statement sets are drawn, e.g. 1-7 (default; leaves the evaluation folds 8-10 out) or 1-6 for an outer fold 7",
            DefaultValueFactory = _ => "1-7",
        };
        var composed = new Option<double>("--composed-fraction")
        {
            Description = "ptbxl mode: fraction of reports in PTB-XL's English statement wording (as data prepare --report composed); the rest are machine statements",
            DefaultValueFactory = _ => 0.5,
        };
        var cmd = new Command("synth", "Write synthetic 12-lead ECGs with paired machine reports, labels and zero-shot prompts (MIMIC-IV-ECG layout)")
        {
            n, seed, output, noise, threads, rate, seconds, force, start, statements, scpStatements, scpRecords, statementFolds, composed,
        };
        cmd.Validators.Add(r =>
        {
            string mode = r.GetValue(statements) ?? "conditions";
            if (mode is not ("conditions" or "ptbxl")) { r.AddError($"--statements must be conditions or ptbxl, got '{mode}'"); return; }
            if (mode == "ptbxl" && (r.GetValue(scpStatements) is null || r.GetValue(scpRecords) is null))
                r.AddError("--statements ptbxl needs --scp-statements (scp_statements.csv) and --scp-records (ptbxl_database.csv or ptbxl_reports.csv)");
            if (mode == "conditions" && (r.GetValue(scpStatements) is not null || r.GetValue(scpRecords) is not null))
                r.AddError("--scp-statements and --scp-records apply to --statements ptbxl only");
            if (r.GetValue(composed) is var f && !(f >= 0 && f <= 1)) r.AddError($"--composed-fraction must be in [0, 1], got {f}");
            try
            {
                PtbXlStatementSource.ParseFolds(r.GetValue(statementFolds) ?? "1-7");
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var config = new SyntheticEcgConfig(result.GetValue(seed), result.GetValue(rate), result.GetValue(seconds),
                SyntheticEcgConfig.ParseNoise(result.GetValue(noise)!));
            PtbXlStatementSource? source = result.GetValue(statements) == "ptbxl"
                ? PtbXlStatementSource.Load(result.GetValue(scpStatements)!, result.GetValue(scpRecords)!, PtbXlStatementSource.ParseFolds(result.GetValue(statementFolds)!))
                : null;
            var options = new SyntheticDatasetOptions(result.GetValue(output)!, result.GetValue(n), config, result.GetValue(threads), result.GetValue(force), result.GetValue(start),
                source, result.GetValue(composed));
            var summary = SyntheticDatasetWriter.Write(options);
            foreach (string f in summary.Failed) stderr.WriteLine($"failed record {f}");
            var json = new Dictionary<string, object>
            {
                ["out"] = summary.OutputDirectory,
                ["records"] = summary.Records,
                ["failed"] = summary.Failed.Count,
                ["seconds"] = Math.Round(summary.Seconds, 3),
                ["records_per_second"] = Math.Round(summary.Records / Math.Max(summary.Seconds, 1e-9), 1),
                ["seed"] = config.Seed,
                ["noise"] = config.Noise.ToString().ToLower(CultureInfo.InvariantCulture),
            };
            if (source is not null)
            {
                json["statements"] = "ptbxl";
                json["statement_folds"] = string.Join(",", source.Folds);
                json["statement_sets"] = source.Count;
            }
            stdout.WriteLine(JsonSerializer.Serialize(json));
            return summary.Failed.Count == 0 ? 0 : CliErrors.BadInput;
        });
        return cmd;
    }
}
