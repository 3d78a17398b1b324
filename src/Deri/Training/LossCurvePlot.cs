using System.Text.Json.Nodes;
using Deri.IO;
using ScottPlot;

namespace Deri.Training;

/// <summary>Draws the loss curves of a metrics log (<see cref="MetricsLog"/>) as a PNG.</summary>
public static class LossCurvePlot
{
    private static readonly HashSet<string> NotLosses = ["kind", "epoch", "step", "step_in_epoch", "lr", "samples_per_s", "skipped", "records", "grad_norm", "error"];

    /// <summary>
    /// Plots every training loss term against the global step (thin lines), the total as a thicker
    /// line, and the validation total at each epoch end as markers, then writes
    /// <paramref name="pngPath"/> atomically.
    /// </summary>
    /// <exception cref="InputFormatException">The log has no training records.</exception>
    public static void Write(string metricsPath, string pngPath, int width = 1000, int height = 600)
    {
        var records = MetricsLog.Read(metricsPath);
        var train = records.Where(r => (string?)r["kind"] == "train").ToList();
        if (train.Count == 0) throw new InputFormatException($"{metricsPath}: no training records to plot");

        var plot = new Plot();
        var names = train.SelectMany(r => r.Select(kv => kv.Key)).Distinct().Where(k => !NotLosses.Contains(k)).ToList();
        foreach (string name in names)
        {
            // Skipped steps (non-finite loss, bad batch) leave gaps rather than spikes.
            var points = train.Where(r => r.ContainsKey(name))
                .Select(r => (X: (double)r["step"]!.GetValue<long>(), Y: MetricsLog.Number(r[name])))
                .Where(p => double.IsFinite(p.Y)).ToList();
            if (points.Count == 0) continue;
            double[] steps = Binned(points.Select(p => p.X).ToArray());
            double[] values = Binned(points.Select(p => p.Y).ToArray());
            var line = plot.Add.ScatterLine(steps, values);
            line.LegendText = name == "loss" ? "train total" : name;
            line.LineWidth = name == "loss" ? 2.5f : 1f;
        }

        var val = records.Where(r => (string?)r["kind"] == "val" && r.ContainsKey("loss")).ToList();
        if (val.Count > 0)
        {
            var finite = val.Select(r => (X: (double)r["step"]!.GetValue<long>(), Y: MetricsLog.Number(r["loss"])))
                .Where(p => double.IsFinite(p.Y)).ToList();
            if (finite.Count > 0)
            {
                var markers = plot.Add.Scatter(finite.Select(p => p.X).ToArray(), finite.Select(p => p.Y).ToArray());
                markers.LegendText = "validation total";
                markers.LineWidth = 0;
                markers.MarkerSize = 9;
            }
        }

        plot.Title("Pretraining losses");
        plot.XLabel("optimizer step");
        plot.YLabel("loss");
        plot.ShowLegend(Alignment.UpperRight);
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(pngPath, s => s.Write(png));
    }

    /// <summary>Points drawn per curve at most; longer runs are averaged in consecutive bins (also smoothing the noise).</summary>
    public const int MaxPoints = 2000;

    private static double[] Binned(double[] values)
    {
        if (values.Length <= MaxPoints) return values;
        var result = new double[MaxPoints];
        for (int b = 0; b < MaxPoints; b++)
        {
            int from = (int)((long)b * values.Length / MaxPoints), to = (int)((long)(b + 1) * values.Length / MaxPoints);
            result[b] = values.AsSpan(from, to - from).ToArray().Average();
        }
        return result;
    }
}
