using Deri.Tests.Signals;
using System.Text.Json;
using Deri.Tests.Cli;

namespace Deri.Tests.Measurements;

/// <summary><c>deri measure</c> and <c>deri data plot --fiducials</c> on shared PTB-XL records, run as the real program.</summary>
public sealed class MeasureCommandTests
{
    private static string Record(string id) => SignalData.File("ptbxl", "records500", "00000", id + "_hr.hea");

    [Fact]
    public void CsvHasOneRowPerRecordAndSkipsBadFiles()
    {
        string missing = Path.Combine(Path.GetTempPath(), "deri-no-such-record.hea");
        var r = CliRunner.Run(["measure", Record("00001"), missing, Record("00002")]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("record,heart_rate_bpm,rr_ms,pr_ms,qrs_ms,qt_ms,qtc_bazett_ms,qtc_fridericia_ms,p_axis_deg,qrs_axis_deg,t_axis_deg,beats,notes", lines[0]);
        var sbrad = lines[2].Split(',');
        Assert.True(double.Parse(sbrad[1], System.Globalization.CultureInfo.InvariantCulture) < 60, lines[2]);
        Assert.Contains("skipped", r.Stderr);
        Assert.Contains("deri-no-such-record.hea", r.Stderr);
    }

    [Fact]
    public void AllBadFilesExitOne()
    {
        var r = CliRunner.Run(["measure", Path.Combine(Path.GetTempPath(), "deri-none-1.hea"), Path.Combine(Path.GetTempPath(), "deri-none-2.hea")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains("none of the 2 records", r.Stderr);
    }

    [Fact]
    public void JsonLinesCarryTheMeasurementsAndOnRequestTheMedianBeats()
    {
        string stdout = CliRunner.Ok("measure", "--format", "json", "--beats", "--from", "1", Record("00001"));
        using var doc = JsonDocument.Parse(stdout.Trim());
        var m = doc.RootElement.GetProperty("measurements");
        Assert.InRange(m.GetProperty("qrs_ms").GetDouble(), 60, 110);
        Assert.True(m.GetProperty("qtc_fridericia_ms").GetDouble() > 300);
        var beats = m.GetProperty("median_beats");
        Assert.Equal(12, beats.GetArrayLength());
        Assert.Equal("I", beats[0].GetProperty("lead").GetString());
        var f = beats[0].GetProperty("fiducials");
        Assert.True(f.GetProperty("p_on").GetInt32() < f.GetProperty("qrs_on").GetInt32());
        Assert.True(f.GetProperty("qrs_off").GetInt32() < f.GetProperty("t_end").GetInt32());
    }

    [Fact]
    public void PlotFiducialsWritesThePng()
    {
        string png = Path.Combine(Path.GetTempPath(), $"deri-fiducials-{Guid.NewGuid():N}.png");
        try
        {
            string stdout = CliRunner.Ok("data", "plot", Record("00001"), "-o", png, "--fiducials");
            Assert.Contains("median beats", stdout);
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 10_000);
            Assert.Equal(0x89, bytes[0]);
        }
        finally
        {
            File.Delete(png);
        }
    }
}
