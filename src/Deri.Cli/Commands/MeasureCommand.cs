using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Deri.Measurements;
using Deri.Signals;
using Deri.Synthetic;
using Deri.Workflows;

namespace Deri.Cli.Commands;

/// <summary><c>deri measure</c>: heart rate, PR, QRS, QT/QTc and frontal axes of records; <c>deri validate measurements</c>: their validation.</summary>
internal static class MeasureCommand
{
    private static readonly string[] Columns =
    [
        DeviceMeasurementKeys.HeartRate, DeviceMeasurementKeys.Rr, DeviceMeasurementKeys.Pr, DeviceMeasurementKeys.Qrs,
        DeviceMeasurementKeys.Qt, DeviceMeasurementKeys.QtcBazett, DeviceMeasurementKeys.QtcFridericia,
        DeviceMeasurementKeys.PAxis, DeviceMeasurementKeys.QrsAxis, DeviceMeasurementKeys.TAxis,
    ];

    public static Command Create()
    {
        var records = new Argument<string[]>("records")
        {
            Description = "Records: X.hea, X (WFDB record name), X.dat, X.mat (CinC with header, or CPSC2018 MAT v5)",
            Arity = ArgumentArity.OneOrMore,
        };
        var format = new Option<string>("--format") { Description = "csv (one row per record) or json (one object per line)", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "json");
        var from = new Option<double>("--from") { Description = "Measure from this many seconds into each record", DefaultValueFactory = _ => 0 };
        var beats = new Option<bool>("--beats") { Description = "With --format json: include the median beat of every lead with its fiducial points" };
        var cmd = new Command("measure",
            "Heart rate, RR, PR, QRS, QT, QTc (Bazett, Fridericia) and frontal P/QRS/T axes of 12-lead records (median beats, src/Deri/Measurements/README.md); unreadable records are listed on stderr and skipped")
        {
            records, format, from, beats,
        };
        cmd.SetAction(result =>
        {
            double start = result.GetValue(from);
            if (!(start >= 0) || !double.IsFinite(start)) throw new CliUsageException($"--from must be a non-negative number of seconds, got {start}");
            bool json = result.GetValue(format) == "json";
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            int done = 0, failed = 0;
            foreach (string path in result.GetValue(records)!)
            {
                EcgMeasurements m;
                try
                {
                    m = EcgMeasurer.Measure(RecordReader.Read(path), start);
                }
                catch (Exception e) when (e is EcgFormatException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"skipped: {e.Message}");
                    failed++;
                    continue;
                }
                // The CSV header comes with the first row, so a run that measured nothing prints nothing on stdout.
                if (!json && done == 0) stdout.WriteLine("record," + string.Join(",", Columns) + ",beats,notes");
                stdout.WriteLine(json ? JsonLine(path, m, result.GetValue(beats)) : CsvLine(path, m));
                done++;
            }
            if (done == 0)
            {
                stderr.WriteLine($"error: none of the {failed} records could be measured");
                return CliErrors.BadInput;
            }
            if (failed > 0) stderr.WriteLine($"{failed} of {failed + done} records skipped");
            return 0;
        });
        return cmd;
    }

    private static string CsvLine(string path, EcgMeasurements m)
    {
        var values = Values(m);
        var sb = new StringBuilder(Csv(path));
        foreach (string c in Columns) sb.Append(',').Append(values[c] is { } v ? v.ToString("0.#", CultureInfo.InvariantCulture) : "");
        sb.Append(',').Append(m.Beats.ToString(CultureInfo.InvariantCulture)).Append(',').Append(Csv(string.Join("; ", m.Notes)));
        return sb.ToString();
    }

    private static string JsonLine(string path, EcgMeasurements m, bool withBeats) =>
        JsonSerializer.Serialize(new Dictionary<string, object?> { ["record"] = path, ["measurements"] = withBeats ? m : m with { MedianBeats = [] } });

    /// <summary>The measurement values by <see cref="DeviceMeasurementKeys"/> name.</summary>
    private static Dictionary<string, double?> Values(EcgMeasurements m) => new()
    {
        [DeviceMeasurementKeys.HeartRate] = m.HeartRateBpm, [DeviceMeasurementKeys.Rr] = m.RrMs, [DeviceMeasurementKeys.Pr] = m.PrMs,
        [DeviceMeasurementKeys.Qrs] = m.QrsMs, [DeviceMeasurementKeys.Qt] = m.QtMs, [DeviceMeasurementKeys.QtcBazett] = m.QtcBazettMs,
        [DeviceMeasurementKeys.QtcFridericia] = m.QtcFridericiaMs, [DeviceMeasurementKeys.PAxis] = m.PAxisDeg,
        [DeviceMeasurementKeys.QrsAxis] = m.QrsAxisDeg, [DeviceMeasurementKeys.TAxis] = m.TAxisDeg,
    };

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    /// <summary><c>deri validate measurements</c>: the validation tables of <c>docs/RESULTS.md</c> §5 as JSON lines.</summary>
    public static Command CreateValidate() => CommandGroup.Create("validate",
        "Validation of Deri's own algorithms against known truths and labels", CreateEval());

    private static Command CreateEval()
    {
        var synthetic = new Option<int>("--synthetic") { Description = "Synthetic records per rate (0: none)", DefaultValueFactory = _ => 500 };
        var rates = OptionRules.IntList("--rates", "Sampling rates of the synthetic records (Hz)");
        var noise = new Option<string>("--noise") { Description = "Noise of the synthetic records: none, low, medium, high", DefaultValueFactory = _ => "medium" };
        var seed = new Option<long>("--seed") { Description = "Seed of the synthetic records", DefaultValueFactory = _ => 0 };
        var ptbxl = OptionRules.StringList("--ptbxl", "PTB-XL folders (ptbxl_database.csv with scp_codes and strat_fold), e.g. ../shared/data/ptbxl,../shared/data/ptbxl-zscore");
        var workers = new Option<int>("--workers") { Description = "Records measured in parallel", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("measurements",
            "Validation of `deri measure`: error distributions on synthetic records with known intervals, and per PTB-XL fold the AUC of each measurement for the label it defines (JSON lines)")
        {
            synthetic, rates, noise, seed, ptbxl, workers,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            int n = result.GetValue(synthetic), w = Math.Max(1, result.GetValue(workers));
            NoiseLevel level;
            try { level = SyntheticEcgConfig.ParseNoise(result.GetValue(noise)!); }
            catch (ArgumentException e) { throw new CliUsageException(e.Message); }
            var opts = new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
            var rs = result.GetValue(rates) is { Length: > 0 } given ? given : [100, 250, 257, 360, 500, 1000];
            if (n > 0)
                foreach (int rate in rs)
                {
                    var (errors, pr) = MeasurementValidation.Synthetic(n, rate, level, result.GetValue(seed), w);
                    foreach (var e in errors) stdout.WriteLine(JsonSerializer.Serialize(new { table = "synthetic_error", row = e }, opts));
                    stdout.WriteLine(JsonSerializer.Serialize(new { table = "synthetic_pr_absent", row = pr }, opts));
                }
            foreach (string root in result.GetValue(ptbxl) ?? [])
            {
                string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)));
                int refused = 0;
                var rows = MeasurementValidation.PtbXl(root, name, w, msg => { refused++; stderr.WriteLine($"skipped: {msg}"); });
                foreach (var r in rows) stdout.WriteLine(JsonSerializer.Serialize(new { table = "ptbxl_label", row = r }, opts));
                if (refused > 0) stderr.WriteLine($"{name}: {refused} records could not be measured");
            }
            return 0;
        });
        return cmd;
    }
}
