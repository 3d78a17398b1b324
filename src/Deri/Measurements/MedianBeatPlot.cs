using System.Globalization;
using Deri.IO;
using ScottPlot;

namespace Deri.Measurements;

/// <summary>
/// Draws the 12 median beats of an <see cref="EcgMeasurements"/> on ECG paper (25 mm/s, 10 mm per unit; 3 rows of I,
/// aVR, V1, V4 | II, aVL, V2, V5 | III, aVF, V3, V6) with the fiducial points as vertical marks — P on/off green, QRS
/// on/off blue, T end red — and the measurements written above, so a reader can see where each interval was taken.
/// </summary>
public static class MedianBeatPlot
{
    private static readonly string[][] Layout =
    [
        ["I", "aVR", "V1", "V4"],
        ["II", "aVL", "V2", "V5"],
        ["III", "aVF", "V3", "V6"],
    ];

    private const double RowHeight = 3.0, PixelsPerMm = 8, Header = 0.8;

    /// <summary>Writes the PNG to <paramref name="path"/> through <see cref="AtomicFile"/>; returns its size in pixels.</summary>
    /// <param name="m">The measurements with their median beats.</param>
    /// <param name="title">Text at the top left (e.g. the record name).</param>
    /// <param name="units">Units of the median beats (mV, or e.g. z for unit-less records), written in the header.</param>
    /// <param name="path">PNG file.</param>
    /// <exception cref="ArgumentException">The measurements hold no median beats (fewer than two beats were found).</exception>
    public static (int Width, int Height) SavePng(EcgMeasurements m, string title, string units, string path)
    {
        if (m.MedianBeats.Count == 0)
            throw new ArgumentException($"{title}: no median beats to draw ({string.Join("; ", m.Notes)})");
        var beats = m.MedianBeats.ToDictionary(b => b.Lead);
        var first = m.MedianBeats[0];
        double fs = first.SamplingRate, span = first.Samples.Length / fs;
        var plot = new Plot();
        double top = Header, bottom = -RowHeight * 3, right = 4 * span;
        DrawGrid(plot, right, bottom, top);
        var marks = new (Func<FiducialPoints, int?> Get, Color Color)[]
        {
            (f => f.POnset, Colors.Green), (f => f.POffset, Colors.Green), (f => f.QrsOnset, Colors.Blue),
            (f => f.QrsOffset, Colors.Blue), (f => f.TEnd, Colors.Red),
        };
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
            {
                if (!beats.TryGetValue(Layout[r][c], out var beat)) continue;
                double x0 = c * span, baseY = -RowHeight * r - RowHeight * 0.6;
                // Each beat is drawn on its level at QRS onset (the isoelectric PR segment), so ST shifts read off the grid.
                int q = beat.Fiducials.QrsOnset ?? 0;
                double level = beat.Samples[Math.Clamp(q, 0, beat.Samples.Length - 1)];
                var xs = new double[beat.Samples.Length];
                var ys = new double[beat.Samples.Length];
                for (int t = 0; t < xs.Length; t++)
                {
                    xs[t] = x0 + t / fs;
                    ys[t] = baseY + Math.Clamp(beat.Samples[t] - level, -RowHeight * 0.55, RowHeight * 0.55);
                }
                var trace = plot.Add.ScatterLine(xs, ys);
                trace.LineColor = Colors.Black;
                trace.LineWidth = 2;
                foreach (var (get, color) in marks)
                {
                    if (get(beat.Fiducials) is not int at) continue;
                    var line = plot.Add.Line(x0 + at / fs, baseY - 1.1, x0 + at / fs, baseY + 1.1);
                    line.LineColor = color;
                    line.LineWidth = 2;
                }
                var label = plot.Add.Text(beat.Lead, x0 + 0.03, baseY + RowHeight * 0.5);
                label.LabelFontSize = 22;
                label.LabelBold = true;
                if (c > 0)
                {
                    var sep = plot.Add.Line(x0, baseY - 0.3, x0, baseY + 0.3);
                    sep.LineColor = Colors.Black;
                }
            }
        var info = plot.Add.Text($"{title}   median beats   25 mm/s   10 mm/{units}   {fs.ToString("0.##", CultureInfo.InvariantCulture)} Hz   " + Summary(m),
            0.02, top - 0.05);
        info.LabelFontSize = 16;
        info.LabelAlignment = Alignment.UpperLeft;
        var legend = plot.Add.Text("marks: P on/off green, QRS on/off blue, T end red", 0.02, top - 0.45);
        legend.LabelFontSize = 14;
        legend.LabelAlignment = Alignment.UpperLeft;
        plot.Axes.SetLimits(0, right, bottom, top);
        plot.Layout.Frameless();
        plot.HideGrid();
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Color.FromHex("#FFF8F5");
        int width = (int)Math.Round(right * 25 * PixelsPerMm), height = (int)Math.Round((top - bottom) * 10 * PixelsPerMm);
        AtomicFile.WriteVia(path, temp => plot.SavePng(temp, width, height));
        return (width, height);
    }

    /// <summary>One line of the measurements: "HR 64 bpm  PR 153 ms  QRS 80 ms  QT/QTcB/QTcF 405/418/413 ms  axes P/QRS/T 40/17/49°".</summary>
    public static string Summary(EcgMeasurements m)
    {
        static string V(double? v) => v is { } x ? x.ToString("0", CultureInfo.InvariantCulture) : "—";
        return $"HR {V(m.HeartRateBpm)} bpm  PR {V(m.PrMs)} ms  QRS {V(m.QrsMs)} ms  QT/QTcB/QTcF {V(m.QtMs)}/{V(m.QtcBazettMs)}/{V(m.QtcFridericiaMs)} ms  " +
            $"axes P/QRS/T {V(m.PAxisDeg)}/{V(m.QrsAxisDeg)}/{V(m.TAxisDeg)}°";
    }

    private static void DrawGrid(Plot plot, double right, double bottom, double top)
    {
        var minor = Color.FromHex("#F6C9C0");
        var major = Color.FromHex("#E8907E");
        for (int k = 0; k * 0.04 <= right + 1e-9; k++)
        {
            var l = plot.Add.Line(k * 0.04, bottom, k * 0.04, top);
            l.LineColor = k % 5 == 0 ? major : minor;
            l.LineWidth = k % 5 == 0 ? 1.5f : 0.6f;
        }
        for (int k = 0; bottom + k * 0.1 <= top + 1e-9; k++)
        {
            double y = bottom + k * 0.1;
            var l = plot.Add.Line(0, y, right, y);
            l.LineColor = k % 5 == 0 ? major : minor;
            l.LineWidth = k % 5 == 0 ? 1.5f : 0.6f;
        }
    }
}
