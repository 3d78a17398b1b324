using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Deri.IO;
using Deri.Signals;

namespace Deri.Cli.Commands;

/// <summary><c>deri data</c>: look at ECG records (<c>inspect</c>, <c>export</c>, <c>plot</c>) and prepare datasets (<c>prepare</c>).</summary>
public static class DataCommand
{
    /// <summary>Builds the <c>data</c> group: inspect, export, plot and prepare.</summary>
    public static Command Create() => CommandGroup.Create("data",
        "Read ECG records (WFDB .hea/.dat/.mat, CinC MAT v4, CPSC2018 MAT v5, DICOM waveform .dcm, HL7 aECG and GE MUSE .xml, EDF/BDF): inspect, export, plot; prepare a dataset into a store",
        Inspect(), Export(), Plot(), DataPrepareCommand.Create(), DataPrepareCommand.CreateReports());

    private static Argument<string> RecordArgument() => new("record")
    {
        Description = "Record path: X.hea, X (WFDB record name), X.dat, X.mat (CinC with header, or CPSC2018 MAT v5), X.dcm (DICOM ECG), X.xml (HL7 aECG, GE MUSE), X.edf/X.bdf",
    };

    private static Option<double?> WindowOption() => new("--window-from")
    {
        Description = $"Start (s) of the {Deri.Signals.Clinical.EdfReader.WindowSeconds:0} s window read from an EDF/BDF recording longer than {Deri.Signals.Clinical.EdfReader.MaxWholeSeconds:0} s (default 0; shorter records are read whole)",
    };

    private static string KindName(string path) => RecordReader.Resolve(path).Kind switch
    {
        RecordReader.Kind.Wfdb => "wfdb",
        RecordReader.Kind.Cpsc2018 => "cpsc2018-matv5",
        RecordReader.Kind.Dicom => "dicom",
        RecordReader.Kind.Aecg => "aecg",
        RecordReader.Kind.Muse => "muse-xml",
        _ => "edf",
    };

    private static Command Inspect()
    {
        var record = RecordArgument();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var window = WindowOption();
        var cmd = new Command("inspect", "Print a record's header fields and per-lead statistics (physical units) with checksum status; the device's measurements and statements where the file has them")
        {
            record, json, window,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            string path = result.GetValue(record)!;
            var r = RecordReader.Read(path, new RecordReadOptions { FromSeconds = result.GetValue(window) });
            string kind = KindName(path);
            var stats = SignalStatistics.Compute(r);
            var h = r.Header;
            var files = h?.Signals.GroupBy(s => s.FileName)
                .Select(g => new { file = g.Key, format = g.First().Format, byte_offset = g.First().ByteOffset, signals = g.Count() }).ToArray();
            int ok = stats.Count(s => s.ChecksumOk == true), bad = stats.Count(s => s.ChecksumOk == false);
            if (result.GetValue(json))
            {
                var o = new Dictionary<string, object?>
                {
                    ["record"] = r.Id,
                    ["source"] = r.SourcePath,
                    ["kind"] = kind,
                    ["sampling_rate"] = r.SamplingRate,
                    ["samples"] = r.Samples,
                    ["duration_s"] = r.Samples / r.SamplingRate,
                    ["channels"] = r.Channels,
                    ["base_time"] = h?.BaseTime?.ToString("c", CultureInfo.InvariantCulture),
                    ["base_date"] = h?.BaseDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["age"] = r.Age,
                    ["sex"] = r.Sex,
                    ["diagnoses"] = r.Diagnoses,
                    ["comments"] = r.Comments,
                    ["files"] = files,
                    ["missing_samples"] = r.MissingSamples,
                    ["derived_leads"] = r.DerivedLeads,
                    ["device_measurements"] = r.DeviceMeasurements,
                    ["device_statements"] = r.DeviceStatements,
                    ["median_beat"] = r.StoredMedianBeat is { } mb ? new { samples = mb.Samples, sampling_rate = mb.SamplingRate } : null,
                    ["checksums_ok"] = ok,
                    ["checksums_bad"] = bad,
                    ["leads"] = stats.Select((s, c) => new Dictionary<string, object?>
                    {
                        ["name"] = s.Lead, ["units"] = s.Units, ["gain"] = r.Gain[c], ["baseline"] = r.Baseline[c],
                        ["min"] = Finite(s.Min), ["max"] = Finite(s.Max), ["mean"] = Finite(s.Mean), ["std"] = Finite(s.Std),
                        ["missing"] = s.Missing,
                        ["checksum"] = s.ChecksumOk switch { true => "ok", false => "bad", null => null },
                    }).ToArray(),
                };
                stdout.WriteLine(JsonSerializer.Serialize(o));
                return 0;
            }
            var w = stdout;
            w.WriteLine($"Record      {r.Id}");
            w.WriteLine($"Source      {r.SourcePath} ({kind})");
            w.WriteLine($"Sampling    {r.SamplingRate.ToString(CultureInfo.InvariantCulture)} Hz");
            w.WriteLine($"Samples     {r.Samples} ({(r.Samples / r.SamplingRate).ToString("0.###", CultureInfo.InvariantCulture)} s)");
            w.WriteLine($"Channels    {r.Channels}");
            if (h?.BaseTime is not null || h?.BaseDate is not null)
                w.WriteLine($"Start       {h.BaseDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} {h.BaseTime?.ToString("c", CultureInfo.InvariantCulture)}".TrimEnd());
            if (files is not null)
                w.WriteLine($"Files       {string.Join(", ", files.Select(f => $"{f.file} (format {f.format}{(f.byte_offset > 0 ? $", offset {f.byte_offset}" : "")}, {f.signals} signals)"))}");
            if (r.Age is not null) w.WriteLine($"Age         {r.Age}");
            if (r.Sex is not null) w.WriteLine($"Sex         {r.Sex}");
            if (r.Diagnoses.Count > 0) w.WriteLine($"Dx          {string.Join(", ", r.Diagnoses)}");
            w.WriteLine($"Missing     {r.MissingSamples} samples");
            if (r.DerivedLeads.Count > 0) w.WriteLine($"Derived     {string.Join(", ", r.DerivedLeads)} (computed from I and II)");
            if (r.StoredMedianBeat is { } median)
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Median beat {median.Samples} samples at {median.SamplingRate} Hz"));
            if (r.DeviceMeasurements.Count > 0)
                w.WriteLine($"Device      {string.Join(", ", r.DeviceMeasurements.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:0.##}")))}");
            foreach (string statement in r.DeviceStatements) w.WriteLine($"Statement   {statement}");
            foreach (string comment in r.Comments.Where(_ => h is null)) w.WriteLine($"Note        {comment}");
            if (h is not null) w.WriteLine($"Checksums   {ok} OK, {bad} bad, {stats.Count - ok - bad} not declared");
            w.WriteLine();
            w.WriteLine($"{"lead",-8} {"units",-6} {"gain",10} {"baseline",9} {"min",11} {"max",11} {"mean",11} {"std",11} {"missing",8}  checksum");
            for (int c = 0; c < stats.Count; c++)
            {
                var s = stats[c];
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Lead,-8} {s.Units,-6} {r.Gain[c],10:0.####} {r.Baseline[c],9} {s.Min,11:0.00000} {s.Max,11:0.00000} {s.Mean,11:0.00000} {s.Std,11:0.00000} {s.Missing,8}  {s.ChecksumOk switch { true => "OK", false => "bad", null => "-" }}"));
            }
            return 0;
        });
        return cmd;
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static Command Export()
    {
        var record = RecordArgument();
        var channels = OptionRules.IntList("--channels", "Channel indices in output order, e.g. 13,0,4 (default: all)");
        var from = new Option<int>("--from") { Description = "First sample (inclusive)", DefaultValueFactory = _ => 0 };
        var to = new Option<int?>("--to") { Description = "End sample (exclusive; default: end of record)" };
        var output = new Option<string?>("--output", "-o") { Description = "Output file (default: standard output)" };
        var noHeader = new Option<bool>("--no-header") { Description = "Omit the row of channel names (then the output matches WFDB rdsamp -P without its sample column)" };
        var format = new Option<string>("--format")
        {
            Description = "tsv (default), or a whole record as dicom (DICOM ECG waveform, explicit VR), aecg (HL7 aECG XML) or edf (EDF, 16 bit); these need --output and ignore --channels/--from/--to",
            DefaultValueFactory = _ => "tsv",
        };
        format.AcceptOnlyFromAmong(["tsv", .. Deri.Signals.Clinical.ClinicalWriters.Formats]);
        var window = WindowOption();
        var cmd = new Command("export", "Write physical values as TSV (one row per sample, one column per channel, 8 decimals), or the record as DICOM, aECG or EDF")
        {
            record, channels, from, to, output, noHeader, format, window,
        };
        // Relationships between option values are usage mistakes (exit 2) whatever the record; beyond its end is the data's (1).
        cmd.Validators.Add(r =>
        {
            int a = r.GetValue(from);
            int? b = r.GetValue(to);
            if (a < 0) r.AddError($"--from {a} must be 0 or more");
            else if (b is int e && e <= a) r.AddError($"--to {e} must be after --from {a}");
        });
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var r = RecordReader.Read(result.GetValue(record)!, new RecordReadOptions { FromSeconds = result.GetValue(window) });
            string fmt = result.GetValue(format)!;
            if (fmt != "tsv")
            {
                string file = result.GetValue(output) ?? throw new InputException($"--format {fmt} writes a binary or XML file: give it with --output");
                if (File.Exists(file)) throw new InputException($"--output: {file} exists; a converted record never replaces a file (remove it or choose another name)");
                Deri.IO.AtomicFile.Write(file, stream => Deri.Signals.Clinical.ClinicalWriters.Write(r, fmt, stream));
                stderr.WriteLine($"wrote {r.Samples} samples × {r.Channels} channels as {fmt} to {file}");
                return 0;
            }
            IReadOnlyList<int> chans = CheckChannels(result.GetValue(channels)!, r.Channels, result.GetValue(record)!);
            int a = result.GetValue(from), b = result.GetValue(to) ?? r.Samples;
            string? o = result.GetValue(output);
            bool header = !result.GetValue(noHeader);
            if (o is null)
            {
                // The console writer flushes on every write: one copy of the whole TSV keeps a long record fast.
                var buffered = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
                SignalExport.WriteTsv(r, chans, a, b, buffered, header);
                stdout.Write(buffered.GetStringBuilder());
                stdout.Flush();
                return 0;
            }
            Deri.IO.AtomicFile.Write(o, stream =>
            {
                using var w = new StreamWriter(stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
                SignalExport.WriteTsv(r, chans, a, b, w, header);
            });
            stderr.WriteLine($"wrote {b - a} samples × {chans.Count} channels to {o}");
            return 0;
        });
        return cmd;
    }

    // The channels asked for must exist in this record; none asked for means all of them.
    private static int[] CheckChannels(int[] asked, int channels, string record)
    {
        if (asked.Length == 0) return Enumerable.Range(0, channels).ToArray();
        foreach (int c in asked)
            if (c >= channels) throw new InputException($"--channels: '{c}' is not a channel index 0–{channels - 1} of {record}");
        return asked;
    }

    private static Command Plot()
    {
        var record = RecordArgument();
        var output = new Option<string>("--output", "-o") { Description = "PNG file to write", Required = true };
        var from = new Option<double>("--from") { Description = "Start of the window to draw, in seconds (default 0)" };
        var to = new Option<double?>("--to")
        {
            Description = $"End of the window to draw, in seconds (default: {EcgPlot.PageSeconds:0} s after --from; at most {EcgPlot.MaxWindowSeconds:0} s long)",
        };
        var gain = new Option<double>("--gain") { Description = "Amplitude scale in mm/mV (10 standard, 5 half, 20 double)", DefaultValueFactory = _ => 10 };
        var fiducials = new Option<bool>("--fiducials")
        {
            Description = "Draw the 12 median beats (from --from on) with their fiducial points (P on/off, QRS on/off, T end) and the measurements of `deri measure` instead",
        };
        var cmd = new Command("plot",
            "Draw a record on ECG paper: 12-lead 3×4 layout of quarter-window segments plus a lead II rhythm strip (PNG). " +
            "Samples beyond their row are drawn at its edge in red and the clipped leads are listed.")
        {
            record, output, from, to, gain, fiducials,
        };
        cmd.Validators.Add(r =>
        {
            double a = r.GetValue(from);
            double? b = r.GetValue(to);
            if (!(a >= 0) || !double.IsFinite(a)) r.AddError($"--from {a} must be 0 or more seconds");
            else if (b is double e && !(e > a)) r.AddError($"--to {e} s must be after --from {a} s");
            else if (b is double w && w - a > EcgPlot.MaxWindowSeconds) r.AddError($"a window of {w - a} s is longer than {EcgPlot.MaxWindowSeconds} s; plot it in several windows");
        });
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            string path = result.GetValue(record)!;
            double fromSeconds = result.GetValue(from);
            // A long EDF/BDF recording is read as a window starting at --from; the plot then starts at the window's start.
            var r = RecordReader.Read(path, new RecordReadOptions { FromSeconds = fromSeconds });
            bool windowed = RecordReader.Resolve(path).Kind == RecordReader.Kind.Edf && r.Comments.Any(c => c.StartsWith("window ", StringComparison.Ordinal));
            string o = result.GetValue(output)!;
            if (result.GetValue(fiducials))
            {
                var m = Deri.Measurements.EcgMeasurer.Measure(r, windowed ? 0 : fromSeconds);
                // The median beats are in mV when the record's units are a voltage (the measurement converts them), else as stored.
                string units = r.Units.Length > 0 && Deri.Measurements.EcgMeasurer.ToMillivolts(r.Units[0]) is null ? r.Units[0] : "mV";
                var (w, h) = Deri.Measurements.MedianBeatPlot.SavePng(m, r.Id, units, o);
                stdout.WriteLine($"wrote {o} ({w}×{h} px): median beats of {m.Beats} beats; {Deri.Measurements.MedianBeatPlot.Summary(m)}");
                foreach (string note in m.Notes) stdout.WriteLine($"note: {note}");
                return 0;
            }
            var options = new EcgPlotOptions
            {
                From = windowed ? 0 : fromSeconds,
                To = windowed && result.GetValue(to) is double end ? end - fromSeconds : result.GetValue(to),
                Gain = result.GetValue(gain),
            };
            if (windowed) stdout.WriteLine(r.Comments.First(c => c.StartsWith("window ", StringComparison.Ordinal)));
            var plot = EcgPlot.SavePng(r, o, options);
            var inv = CultureInfo.InvariantCulture;
            stdout.WriteLine($"wrote {o} ({plot.Width}×{plot.Height} px)");
            stdout.WriteLine(string.Create(inv, $"window {plot.From:0.##}–{plot.To:0.##} s of {plot.Duration:0.##} s") +
                (plot.To < plot.Duration ? " (choose another with --from/--to)" : ""));
            if (plot.Clipped.Count > 0)
            {
                stdout.WriteLine(string.Create(inv, $"clipped at the row edge (marked red; try --gain {options.Gain / 2:0.##}): ") + string.Join(", ",
                    plot.Clipped.Select(c => string.Create(inv, $"{c.Lead} ({c.Samples} samples, {c.Min:0.###} to {c.Max:0.###} {c.Units})"))));
            }
            return 0;
        });
        return cmd;
    }
}
