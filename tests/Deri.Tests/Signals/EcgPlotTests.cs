using Deri.Signals;
using Deri.Tests.Cli;

namespace Deri.Tests.Signals;

/// <summary>The plot shows which window it drew and never hides amplitudes silently.</summary>
public class EcgPlotTests
{
    private static readonly string A1988 = SignalData.File("cpsc2018", "A1988.mat");

    private static int PngWidth(string png)
    {
        var b = File.ReadAllBytes(png);
        Assert.Equal(0x89, b[0]);
        return (b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19];
    }

    [Fact]
    public void LargeAmplitudesAreReportedAsClippedAndAHalfGainFitsThem()
    {
        using var dir = new TempDir();
        var r = RecordReader.Read(A1988);
        var standard = EcgPlot.SavePng(r, dir["a.png"]);
        // V2's S waves reach −1.62 mV below its median, beyond the row's 1.2 mV of room below the baseline.
        var v2 = Assert.Single(standard.Clipped, c => c.Lead == "V2");
        Assert.True(v2.Samples > 0);
        Assert.InRange(v2.Min, -1.7, -1.5);
        Assert.Equal("mV", v2.Units);
        var half = EcgPlot.SavePng(r, dir["b.png"], new EcgPlotOptions { Gain = 5 });
        Assert.Empty(half.Clipped);
        Assert.Empty(Directory.GetFiles(dir.Path, ".*")); // written through AtomicFile, no temporary left
    }

    [Fact]
    public void TheWindowDrawnIsReportedAndChosen()
    {
        using var dir = new TempDir();
        var r = RecordReader.Read(A1988);
        var first = EcgPlot.SavePng(r, dir["a.png"]);
        Assert.Equal((0.0, 10.0), (first.From, first.To));
        Assert.Equal(27157 / 500.0, first.Duration, 6);
        var later = EcgPlot.SavePng(r, dir["b.png"], new EcgPlotOptions { From = 40, To = 54.314 });
        Assert.Equal((40.0, 54.314), (later.From, later.To));
        Assert.Equal(later.Width, PngWidth(dir["b.png"]));
        Assert.Equal((int)Math.Round((14.314 + 0.4) * 200), later.Width);
        // A page from 50 s shows the record up to its end.
        var tail = EcgPlot.SavePng(r, dir["c.png"], new EcgPlotOptions { From = 50 });
        Assert.Equal(first.Width, tail.Width);
        Assert.Equal(27157 / 500.0, tail.To, 6);

        Assert.Contains("past the end of the record (54.314 s)", Assert.Throws<Deri.IO.InputException>(() => EcgPlot.SavePng(r, dir["d.png"], new EcgPlotOptions { To = 60 })).Message);
        Assert.Contains("outside the record", Assert.Throws<Deri.IO.InputException>(() => EcgPlot.SavePng(r, dir["d.png"], new EcgPlotOptions { From = 55 })).Message);
        Assert.Contains("must be after", Assert.Throws<Deri.IO.InputException>(() => EcgPlot.SavePng(r, dir["d.png"], new EcgPlotOptions { From = 5, To = 5 })).Message);
        Assert.False(File.Exists(dir["d.png"]));
    }

    [Fact]
    public void PlotCommandPrintsTheWindowAndTheClippedLeads()
    {
        using var dir = new TempDir();
        string o = CliRunner.Ok("data", "plot", A1988, "-o", dir["a.png"]);
        Assert.Contains("window 0–10 s of 54.31 s (choose another with --from/--to)", o);
        Assert.Matches(@"clipped at the row edge \(marked red; try --gain 5\): V2 \(\d+ samples, -1\.6\d+ to ", o);
        string w = CliRunner.Ok("data", "plot", A1988, "-o", dir["b.png"], "--from", "20", "--to", "40", "--gain", "20");
        Assert.Contains("window 20–40 s of 54.31 s", w);
        Assert.Equal(4080, PngWidth(dir["b.png"]));
        var bad = CliRunner.Run(["data", "plot", A1988, "-o", dir["c.png"], "--to", "60"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--to 60 s is past the end of the record (54.314 s)", bad.Stderr);
    }
}
