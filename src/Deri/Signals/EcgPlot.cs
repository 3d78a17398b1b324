using ScottPlot;

namespace Deri.Signals;

/// <summary>
/// Draws an ECG on standard ECG paper (25 mm/s, 10 mm/mV): minor grid every 0.04 s and 0.1 mV, major grid every
/// 0.2 s and 0.5 mV. A 12-lead record is laid out as a clinical printout: a 3×4 grid of 2.5 s segments
/// (I, II, III | aVR, aVL, aVF | V1–V3 | V4–V6) and a 10 s rhythm strip of lead II; any other record as one
/// 10 s strip per channel. Each row starts with a 1 mV calibration pulse. Rendering is headless (SkiaSharp).
/// </summary>
public static class EcgPlot
{
    private const double RowHeight = 3.0;        // mV per row (30 mm)
    private const double StripSeconds = 10.0;
    private const double SegmentSeconds = 2.5;
    private const double LeftMargin = 0.4;       // s, room for the calibration pulse
    private const double PixelsPerMm = 8;

    private static readonly string[][] Layout =
    [
        ["I", "aVR", "V1", "V4"],
        ["II", "aVL", "V2", "V5"],
        ["III", "aVF", "V3", "V6"],
    ];

    /// <summary>Renders <paramref name="record"/> and writes a PNG to <paramref name="path"/> (written to a temporary file, then renamed).</summary>
    /// <returns>Width and height of the image in pixels.</returns>
    public static (int Width, int Height) SavePng(EcgRecord record, string path)
    {
        if (record.Samples == 0) throw new EcgFormatException(record.SourcePath ?? record.Id, "record has no samples to plot");
        var plot = new Plot();
        int[]? twelve = null;
        try
        {
            twelve = LeadOrder.Indices(record.Leads, record.SourcePath ?? record.Id, LeadOrder.Standard);
        }
        catch (EcgFormatException)
        {
            // Not a 12-lead record: fall back to one strip per channel.
        }
        var rows = new List<(string Label, int Channel, double Start, double End)[]>();
        if (twelve is not null)
        {
            for (int r = 0; r < 3; r++)
                rows.Add(Enumerable.Range(0, 4).Select(c =>
                    (Layout[r][c], twelve[LeadOrder.Standard.ToList().IndexOf(Layout[r][c])], c * SegmentSeconds, (c + 1) * SegmentSeconds)).ToArray());
            rows.Add([("II", twelve[1], 0, StripSeconds)]);
        }
        else
        {
            for (int c = 0; c < record.Channels; c++) rows.Add([(record.Leads[c], c, 0, StripSeconds)]);
        }
        double top = 0, bottom = -RowHeight * rows.Count;
        DrawGrid(plot, bottom, top);
        var ink = Colors.Black;
        double fs = record.SamplingRate;
        var medians = new Dictionary<int, double>();
        for (int r = 0; r < rows.Count; r++)
        {
            double baseY = -RowHeight * r - RowHeight * 0.6;
            // Calibration pulse: 1 mV for 0.2 s.
            var pulse = plot.Add.Scatter(new[] { -0.35, -0.3, -0.3, -0.1, -0.1, -0.05 }, new[] { baseY, baseY, baseY + 1, baseY + 1, baseY, baseY });
            Style(pulse, ink);
            foreach (var (label, channel, start, end) in rows[r])
            {
                if (!medians.TryGetValue(channel, out double median)) medians[channel] = median = Median(record, channel);
                int t0 = (int)Math.Round(start * fs), t1 = Math.Min(record.Samples, (int)Math.Round(end * fs));
                if (t1 - t0 >= 2)
                {
                    var xs = new double[t1 - t0];
                    var ys = new double[t1 - t0];
                    double last = 0;
                    for (int t = t0; t < t1; t++)
                    {
                        double v = record.Physical(channel, t);
                        // Missing samples are drawn at the last valid level rather than breaking the trace;
                        // values beyond the row are clipped at its edges so rows never overlap.
                        last = double.IsNaN(v) ? last : v - median;
                        xs[t - t0] = t / fs;
                        ys[t - t0] = baseY + Math.Clamp(last, -RowHeight * 0.4, RowHeight * 0.6);
                    }
                    Style(plot.Add.Scatter(xs, ys), ink);
                }
                var text = plot.Add.Text(label, start + 0.05, baseY + RowHeight * 0.45);
                text.LabelFontSize = 22;
                text.LabelBold = true;
                text.LabelFontColor = ink;
                if (start > 0)
                {
                    var sep = plot.Add.Line(start, baseY - 0.3, start, baseY + 0.3);
                    sep.LineColor = ink;
                    sep.LineWidth = 2;
                }
            }
        }
        var info = plot.Add.Text($"{record.Id}   25 mm/s   10 mm/mV   {fs:0.##} Hz", -LeftMargin + 0.05, top - 0.05);
        info.LabelFontSize = 16;
        info.LabelFontColor = ink;
        info.LabelAlignment = Alignment.UpperLeft;

        plot.Axes.SetLimits(-LeftMargin, StripSeconds, bottom, top);
        plot.Layout.Frameless();
        plot.HideGrid();
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Color.FromHex("#FFF8F5");
        int width = (int)Math.Round((StripSeconds + LeftMargin) * 25 * PixelsPerMm);
        int height = (int)Math.Round((top - bottom) * 10 * PixelsPerMm);

        string full = Path.GetFullPath(path);
        string tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp.png");
        plot.SavePng(tmp, width, height);
        File.Move(tmp, full, overwrite: true);
        return (width, height);
    }

    private static void DrawGrid(Plot plot, double bottom, double top)
    {
        var minor = Color.FromHex("#F6C7C7");
        var major = Color.FromHex("#E88A8A");
        int nx = (int)Math.Round((StripSeconds + LeftMargin) / 0.04);
        for (int i = 0; i <= nx; i++)
        {
            double x = -LeftMargin + i * 0.04;
            bool isMajor = Math.Abs(Math.IEEERemainder(x, 0.2)) < 1e-9;
            var l = plot.Add.Line(x, bottom, x, top);
            l.LineColor = isMajor ? major : minor;
            l.LineWidth = isMajor ? 1.5f : 0.7f;
        }
        int ny = (int)Math.Round((top - bottom) / 0.1);
        for (int i = 0; i <= ny; i++)
        {
            double y = bottom + i * 0.1;
            bool isMajor = Math.Abs(Math.IEEERemainder(y, 0.5)) < 1e-9;
            var l = plot.Add.Line(-LeftMargin, y, StripSeconds, y);
            l.LineColor = isMajor ? major : minor;
            l.LineWidth = isMajor ? 1.5f : 0.7f;
        }
    }

    private static void Style(ScottPlot.Plottables.Scatter s, Color ink)
    {
        s.Color = ink;
        s.LineWidth = 1.6f;
        s.MarkerSize = 0;
    }

    private static double Median(EcgRecord record, int channel)
    {
        var v = record.PhysicalChannel(channel).Where(x => !double.IsNaN(x)).ToArray();
        if (v.Length == 0) return 0;
        Array.Sort(v);
        return v[v.Length / 2];
    }
}
