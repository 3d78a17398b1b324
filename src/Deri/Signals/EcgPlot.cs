using Deri.IO;
using ScottPlot;

namespace Deri.Signals;

/// <summary>What to draw: the time window and the amplitude scale.</summary>
public sealed record EcgPlotOptions
{
    /// <summary>Start of the window in seconds from the start of the record.</summary>
    public double From { get; init; }

    /// <summary>
    /// End of the window in seconds; null means one page of <see cref="EcgPlot.PageSeconds"/> after <see cref="From"/>
    /// (drawn up to the record's end if it is shorter).
    /// </summary>
    public double? To { get; init; }

    /// <summary>Amplitude scale in mm/mV: 10 is the clinical standard, 5 (half) fits large complexes, 20 (double) small ones.</summary>
    public double Gain { get; init; } = 10;
}

/// <summary>A lead whose tracing left its row somewhere in the window and was clipped at the row's edge (drawn in red).</summary>
/// <param name="Lead">Lead name.</param>
/// <param name="Samples">Samples drawn beyond the row's edge (each counted once, though lead II is drawn twice).</param>
/// <param name="Min">Lowest physical value of the lead in the segments where it clipped.</param>
/// <param name="Max">Highest physical value of the lead in the segments where it clipped.</param>
/// <param name="Units">Physical units of the values.</param>
public sealed record ClippedLead(string Lead, int Samples, double Min, double Max, string Units);

/// <summary>What <see cref="EcgPlot.SavePng"/> drew.</summary>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="From">Start of the window drawn, in seconds.</param>
/// <param name="To">End of the window drawn, in seconds (the record's end when it ends inside the page).</param>
/// <param name="Duration">Duration of the whole record in seconds.</param>
/// <param name="Clipped">Leads clipped at the edge of their row, in drawing order; empty when every sample is shown.</param>
public sealed record EcgPlotResult(int Width, int Height, double From, double To, double Duration, IReadOnlyList<ClippedLead> Clipped);

/// <summary>
/// Draws an ECG on standard ECG paper (25 mm/s, 10 mm/mV by default): minor grid every 0.04 s and 0.1 mV, major grid
/// every 0.2 s and 0.5 mV. A 12-lead record is laid out as a clinical printout: a 3×4 grid of quarter-window segments
/// (I, II, III | aVR, aVL, aVF | V1–V3 | V4–V6) and a full-window rhythm strip of lead II; any other record as one
/// strip per channel. The window is 10 s from the start unless chosen. Each row starts with a 1 mV calibration
/// pulse. Rows never overlap: a sample beyond its row is drawn at the row's edge and marked in red, the lead label
/// says "clipped", and the result lists those leads. Rendering is headless (SkiaSharp).
/// </summary>
public static class EcgPlot
{
    /// <summary>Length of the window drawn when no end is given, in seconds.</summary>
    public const double PageSeconds = 10.0;

    /// <summary>Longest window drawn on one image, in seconds (the image grows by 200 px per second).</summary>
    public const double MaxWindowSeconds = 60.0;

    private const double RowHeight = 3.0;        // row units per row (30 mm; one unit is 10 mm, i.e. 1 mV at 10 mm/mV)
    private const double Below = RowHeight * 0.4, Above = RowHeight * 0.6;  // room below and above a row's baseline
    private const double LeftMargin = 0.4;       // s, room for the calibration pulse
    private const double PixelsPerMm = 8;

    private static readonly string[][] Layout =
    [
        ["I", "aVR", "V1", "V4"],
        ["II", "aVL", "V2", "V5"],
        ["III", "aVF", "V3", "V6"],
    ];

    /// <summary>Renders <paramref name="record"/> and writes a PNG to <paramref name="path"/> through <see cref="AtomicFile"/>.</summary>
    /// <returns>The image size, the window drawn and the leads clipped at their row's edge.</returns>
    /// <exception cref="EcgFormatException">The record has no samples.</exception>
    /// <exception cref="InputException">The window lies outside the record or is longer than <see cref="MaxWindowSeconds"/>, or the gain is not positive.</exception>
    public static EcgPlotResult SavePng(EcgRecord record, string path, EcgPlotOptions? options = null)
    {
        options ??= new EcgPlotOptions();
        if (record.Samples == 0) throw new EcgFormatException(record.SourcePath ?? record.Id, "record has no samples to plot");
        double fs = record.SamplingRate;
        double duration = record.Samples / fs;
        var (from, page) = Window(options, duration);
        double to = Math.Min(from + page, duration);
        double scale = options.Gain / 10;   // row units per physical unit

        var plot = new Plot();
        var rows = Rows(record, page);
        double top = 0, bottom = -RowHeight * rows.Count;
        DrawGrid(plot, page, bottom, top);
        var ink = Colors.Black;
        var clipped = new Dictionary<int, Clipping>();
        var medians = new Dictionary<int, double>();
        int w0 = (int)Math.Round(from * fs), w1 = Math.Min(record.Samples, (int)Math.Round((from + page) * fs));
        for (int r = 0; r < rows.Count; r++)
        {
            double baseY = -RowHeight * r - Above;
            // Calibration pulse: 1 mV for 0.2 s, as tall as the gain makes 1 mV.
            var pulse = plot.Add.Scatter(new[] { -0.35, -0.3, -0.3, -0.1, -0.1, -0.05 },
                new[] { baseY, baseY, baseY + scale, baseY + scale, baseY, baseY });
            Style(pulse, ink);
            foreach (var (label, channel, start, end) in rows[r])
            {
                int t0 = (int)Math.Round((from + start) * fs), t1 = Math.Min(record.Samples, (int)Math.Round((from + end) * fs));
                // Each lead is centred on its median over the whole window, so its segments line up with the rhythm strip.
                if (!medians.TryGetValue(channel, out double median)) medians[channel] = median = Median(record, channel, w0, w1);
                bool clips = t1 - t0 >= 2 && DrawTrace(plot, record, channel, t0, t1, from, baseY, median, scale, clipped);
                var text = plot.Add.Text(clips ? label + " (clipped)" : label, start + 0.05, baseY + RowHeight * 0.45);
                text.LabelFontSize = 22;
                text.LabelBold = true;
                text.LabelFontColor = clips ? Colors.Red : ink;
                if (start > 0)
                {
                    var sep = plot.Add.Line(start, baseY - 0.3, start, baseY + 0.3);
                    sep.LineColor = ink;
                    sep.LineWidth = 2;
                }
            }
        }
        var info = plot.Add.Text(
            $"{record.Id}   25 mm/s   {options.Gain:0.##} mm/mV   {fs:0.##} Hz   {from:0.##}–{to:0.##} s of {duration:0.##} s",
            -LeftMargin + 0.05, top - 0.05);
        info.LabelFontSize = 16;
        info.LabelFontColor = ink;
        info.LabelAlignment = Alignment.UpperLeft;

        plot.Axes.SetLimits(-LeftMargin, page, bottom, top);
        plot.Layout.Frameless();
        plot.HideGrid();
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Color.FromHex("#FFF8F5");
        int width = (int)Math.Round((page + LeftMargin) * 25 * PixelsPerMm);
        int height = (int)Math.Round((top - bottom) * 10 * PixelsPerMm);
        AtomicFile.WriteVia(path, temp => plot.SavePng(temp, width, height));
        var leads = clipped.Select(kv => new ClippedLead(record.Leads[kv.Key], kv.Value.Samples.Count, kv.Value.Min, kv.Value.Max, record.Units[kv.Key]));
        return new EcgPlotResult(width, height, from, to, duration, leads.ToArray());
    }

    /// <summary>The window's start and the page length (seconds of paper), checked against the record.</summary>
    private static (double From, double Page) Window(EcgPlotOptions options, double duration)
    {
        double from = options.From;
        if (!(options.Gain > 0) || !double.IsFinite(options.Gain))
            throw new InputException($"gain must be a positive number of mm/mV, got {options.Gain}");
        if (!(from >= 0) || from >= duration)
            throw new InputException($"--from {from:0.###} s is outside the record (0–{duration:0.###} s)");
        if (options.To is not double to) return (from, PageSeconds);
        if (!(to > from)) throw new InputException($"--to {to:0.###} s must be after --from {from:0.###} s");
        if (to > duration + 1e-6)
            throw new InputException($"--to {to:0.###} s is past the end of the record ({duration:0.###} s)");
        if (to - from > MaxWindowSeconds)
            throw new InputException($"a window of {to - from:0.###} s is longer than {MaxWindowSeconds} s; plot it in several windows");
        return (from, to - from);
    }

    /// <summary>Rows of (label, channel, start, end), times in seconds from the window's start.</summary>
    private static List<(string Label, int Channel, double Start, double End)[]> Rows(EcgRecord record, double page)
    {
        int[]? twelve = null;
        try
        {
            twelve = LeadOrder.Indices(record.Leads, record.SourcePath ?? record.Id, LeadOrder.Standard);
        }
        catch (EcgFormatException)
        {
            // Not a 12-lead record: one strip per channel instead.
        }
        var rows = new List<(string Label, int Channel, double Start, double End)[]>();
        if (twelve is not null)
        {
            double segment = page / 4;
            for (int r = 0; r < 3; r++)
                rows.Add(Enumerable.Range(0, 4).Select(c =>
                    (Layout[r][c], twelve[LeadOrder.Standard.ToList().IndexOf(Layout[r][c])], c * segment, (c + 1) * segment)).ToArray());
            rows.Add([("II", twelve[1], 0, page)]);
        }
        else
        {
            for (int c = 0; c < record.Channels; c++) rows.Add([(record.Leads[c], c, 0, page)]);
        }
        return rows;
    }

    /// <summary>
    /// Draws samples <c>t0..t1</c> of a channel around <paramref name="median"/>, clamping values beyond the row to its
    /// edges and overlaying those in red; records the clipping in <paramref name="clipped"/>. Returns whether any sample clipped.
    /// </summary>
    private static bool DrawTrace(Plot plot, EcgRecord record, int channel, int t0, int t1, double from, double baseY, double median,
        double scale, Dictionary<int, Clipping> clipped)
    {
        double fs = record.SamplingRate;
        var redT = new List<int>();
        var xs = new double[t1 - t0];
        var ys = new double[t1 - t0];
        var redX = new List<double>();
        var redY = new List<double>();
        double last = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int t = t0; t < t1; t++)
        {
            double v = record.Physical(channel, t);
            if (!double.IsNaN(v))
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            // Missing samples are drawn at the last valid level rather than breaking the trace.
            last = double.IsNaN(v) ? last : (v - median) * scale;
            double y = Math.Clamp(last, -Below, Above);
            xs[t - t0] = t / fs - from;
            ys[t - t0] = baseY + y;
            if (y != last && !double.IsNaN(v))
            {
                redT.Add(t);
                redX.Add(xs[t - t0]);
                redY.Add(ys[t - t0]);
            }
        }
        Style(plot.Add.Scatter(xs, ys), Colors.Black);
        if (redX.Count == 0) return false;
        var marks = plot.Add.ScatterPoints(redX.ToArray(), redY.ToArray());
        marks.Color = Colors.Red;
        marks.MarkerSize = 7;
        marks.MarkerShape = MarkerShape.FilledCircle;
        if (!clipped.TryGetValue(channel, out var c)) clipped[channel] = c = new Clipping();
        c.Samples.UnionWith(redT);
        c.Min = Math.Min(c.Min, min);
        c.Max = Math.Max(c.Max, max);
        return true;
    }

    /// <summary>The clipped samples of one lead (a set: lead II is drawn twice) and its value range in the drawn segments.</summary>
    private sealed class Clipping
    {
        public HashSet<int> Samples { get; } = [];

        public double Min { get; set; } = double.PositiveInfinity;

        public double Max { get; set; } = double.NegativeInfinity;
    }

    private static void DrawGrid(Plot plot, double page, double bottom, double top)
    {
        var minor = Color.FromHex("#F6C7C7");
        var major = Color.FromHex("#E88A8A");
        int nx = (int)Math.Round((page + LeftMargin) / 0.04);
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
            var l = plot.Add.Line(-LeftMargin, y, page, y);
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

    private static double Median(EcgRecord record, int channel, int t0, int t1)
    {
        var v = new List<double>(t1 - t0);
        for (int t = t0; t < t1; t++)
        {
            double x = record.Physical(channel, t);
            if (!double.IsNaN(x)) v.Add(x);
        }
        if (v.Count == 0) return 0;
        v.Sort();
        return v[v.Count / 2];
    }
}
