using System.Text.Json;
using Deri.Tests.Cli;

namespace Deri.Tests.Signals;

/// <summary><c>deri data inspect|export|plot</c> run as the built program.</summary>
public class DataCommandTests
{
    [Fact]
    public void InspectPrintsHeaderAndLeadStatistics()
    {
        string o = CliRunner.Ok("data", "inspect", SignalData.File("cinc2021", "E07500.hea"));
        Assert.Contains("Record      E07500", o);
        Assert.Contains("Sampling    500 Hz", o);
        Assert.Contains("Samples     5000 (10 s)", o);
        Assert.Contains("Files       E07500.mat (format 16, offset 24, 12 signals)", o);
        Assert.Contains("Dx          67741000119109, 426177001", o);
        Assert.Contains("Checksums   12 OK, 0 bad, 0 not declared", o);
        Assert.Matches(@"\nV6\s+mV\s+1000\s+0\s+-0\.34100\s+1\.88800\s+0\.00158\s+0\.29109\s+0\s+OK", o);
    }

    [Fact]
    public void InspectJsonForWfdbAndCpsc()
    {
        using (var doc = JsonDocument.Parse(CliRunner.Ok("data", "inspect", SignalData.File("wfdb-samples", "100"), "--json")))
        {
            var root = doc.RootElement;
            Assert.Equal("100", root.GetProperty("record").GetString());
            Assert.Equal(650000, root.GetProperty("samples").GetInt32());
            Assert.Equal(2, root.GetProperty("checksums_ok").GetInt32());
            var lead = root.GetProperty("leads")[0];
            Assert.Equal("MLII", lead.GetProperty("name").GetString());
            Assert.Equal("ok", lead.GetProperty("checksum").GetString());
            Assert.Equal(1024, lead.GetProperty("baseline").GetInt32());
            Assert.True(lead.GetProperty("std").GetDouble() > 0.1);
        }
        using (var doc = JsonDocument.Parse(CliRunner.Ok("data", "inspect", SignalData.File("cpsc2018", "A1988.mat"), "--json")))
        {
            var root = doc.RootElement;
            Assert.Equal("cpsc2018-matv5", root.GetProperty("kind").GetString());
            Assert.Equal(27157, root.GetProperty("samples").GetInt32());
            Assert.Equal(49, root.GetProperty("age").GetInt32());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("leads")[0].GetProperty("checksum").ValueKind);
        }
    }

    [Fact]
    public void ExportMatchesWfdbPythonExpectedOutput()
    {
        using var dir = new TempDir();
        string o = dir["3b.tsv"];
        CliRunner.Ok("data", "export", SignalData.File("wfdb-samples", "s0010_re"), "--channels", "13,0,4,8,3", "--from", "5000", "--to", "38000", "--no-header", "-o", o);
        Assert.Equal(File.ReadAllBytes(SignalData.File("wfdb-samples", "record-3b")), File.ReadAllBytes(o));
        Assert.Empty(Directory.GetFiles(dir.Path, ".*")); // no temporary file left behind
    }

    [Fact]
    public void ExportToStdoutWithHeaderRow()
    {
        string o = CliRunner.Ok("data", "export", SignalData.File("ptbxl", "records100", "00000", "00001_lr.hea"), "--channels", "0,3", "--to", "2");
        var lines = o.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal("              I\t            AVR", lines[0]);
        Assert.Matches(@"^ +-?\d+\.\d{8}\t +-?\d+\.\d{8}$", lines[1]);
    }

    [Fact]
    public void PlotWritesAPng()
    {
        using var dir = new TempDir();
        string png = dir["ecg.png"];
        string o = CliRunner.Ok("data", "plot", SignalData.File("ptbxl", "records500", "00000", "00001_hr"), "-o", png);
        Assert.Contains("2080×960 px", o);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        // IHDR: width and height, big-endian, right after the signature and chunk header.
        Assert.Equal(2080, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
        Assert.Equal(960, (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
        Assert.InRange(bytes.Length, 50_000, 5_000_000);
    }

    [Fact]
    public void BadRecordsAreOneLineErrors()
    {
        var r = CliRunner.Run(["data", "inspect", "/nonexistent/rec"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: /nonexistent/rec: no record found: neither a WFDB header (.hea), a MAT v5 file (.mat) nor a DICOM, aECG, MUSE XML or EDF/BDF file exists for this path", r.Stderr.Trim());
        var c = CliRunner.Run(["data", "export", SignalData.File("wfdb-samples", "100"), "--channels", "0,7"]);
        Assert.Equal(1, c.ExitCode);
        Assert.Contains("--channels: '7' is not a channel index 0–1", c.Stderr);
        var p = CliRunner.Run(["data", "plot", SignalData.File("wfdb-samples", "100")]);
        Assert.NotEqual(0, p.ExitCode);
        Assert.Contains("--output", p.Stderr + p.Stdout);
    }
}
