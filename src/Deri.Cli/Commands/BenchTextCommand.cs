using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Deri.Text;
using TorchSharp;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench text</c>: frozen forward passes of a BERT folder per second, printed as one JSON line.</summary>
internal static class BenchTextCommand
{
    /// <summary>Builds the <c>text</c> command (placed under <c>bench</c>).</summary>
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "BERT folder to time", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Texts per forward pass", DefaultValueFactory = _ => 16 };
        var iterations = new Option<int>("--iterations") { Description = "Timed forward passes (after one warm-up)", DefaultValueFactory = _ => 3 };
        var maxLength = TextCommand.MaxLength();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var longest = TextCommand.Longest();
        var cmd = new Command("text", "Time frozen forward passes of a BERT folder; prints one JSON line")
            { model, batch, iterations, maxLength, longest, device, threads };
        cmd.SetAction(r =>
        {
            var stdout = r.InvocationConfiguration.Output;
            int b = r.GetValue(batch), n = r.GetValue(iterations);
            if (b < 1 || n < 1) throw new CliUsageException("--batch-size and --iterations must be positive");
            var target = CommonOptions.Settings(r, device, threads).Resolve();
            using var encoder = TextEncoder.FromHuggingFace(r.GetValue(model)!,
                new TextEncoderOptions(r.GetValue(maxLength), Frozen: true, ComputeOnLongest: r.GetValue(longest)));
            var texts = Enumerable.Range(0, b).Select(i => $"sinus rhythm with {i} premature ventricular complexes. left axis deviation. abnormal ecg").ToList();
            using (encoder.Encode(texts, target)) { }
            var times = new List<double>();
            for (int i = 0; i < n; i++)
            {
                var clock = Stopwatch.StartNew();
                using (var f = encoder.Encode(texts, target))
                    f.Pooled.cpu().Dispose();
                times.Add(clock.Elapsed.TotalSeconds);
            }
            times.Sort();
            double median = times[times.Count / 2];
            var c = encoder.Model.Config;
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["bench"] = "text-encode", ["model"] = r.GetValue(model)!, ["hidden_size"] = c.HiddenSize, ["layers"] = c.NumHiddenLayers,
                ["batch"] = b, ["max_length"] = encoder.MaxLength, ["iterations"] = n, ["median_seconds_per_batch"] = Math.Round(median, 4),
                ["texts_per_second"] = Math.Round(b / median, 1), ["compute_on_longest"] = encoder.ComputeOnLongest,
                ["device"] = target.ToString(), ["threads"] = torch.get_num_threads(),
            }));
            return 0;
        });
        return cmd;
    }
}
