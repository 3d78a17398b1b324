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
        var cmd = new Command("synth", "Write synthetic 12-lead ECGs with paired machine reports, labels and zero-shot prompts (MIMIC-IV-ECG layout)")
        {
            n, seed, output, noise, threads, rate, seconds, force, start,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var config = new SyntheticEcgConfig(result.GetValue(seed), result.GetValue(rate), result.GetValue(seconds),
                SyntheticEcgConfig.ParseNoise(result.GetValue(noise)!));
            var options = new SyntheticDatasetOptions(result.GetValue(output)!, result.GetValue(n), config, result.GetValue(threads), result.GetValue(force), result.GetValue(start));
            var summary = SyntheticDatasetWriter.Write(options);
            foreach (string f in summary.Failed) stderr.WriteLine($"failed record {f}");
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["out"] = summary.OutputDirectory,
                ["records"] = summary.Records,
                ["failed"] = summary.Failed.Count,
                ["seconds"] = Math.Round(summary.Seconds, 3),
                ["records_per_second"] = Math.Round(summary.Records / Math.Max(summary.Seconds, 1e-9), 1),
                ["seed"] = config.Seed,
                ["noise"] = config.Noise.ToString().ToLower(CultureInfo.InvariantCulture),
            }));
            return summary.Failed.Count == 0 ? 0 : CliErrors.BadInput;
        });
        return cmd;
    }
}
