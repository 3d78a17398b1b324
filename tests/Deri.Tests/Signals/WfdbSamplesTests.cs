using System.Globalization;
using Deri.Signals;

namespace Deri.Tests.Signals;

/// <summary>The WFDB records of wfdb-python's own tests against that package's expected outputs.</summary>
public class WfdbSamplesTests
{
    private static string Sample(string name) => SignalData.File("wfdb-samples", name);

    private static double[][] ReadTable(string path) =>
        System.IO.File.ReadLines(path).Select(l => l.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();

    [Fact]
    public void S0010ReChannelsMatchRecord3b()
    {
        // record-3b: rdsamp -f 5 -t 38 -P -s 13 0 4 8 3, i.e. samples 5000 up to (not including) 38000.
        var record = RecordReader.Read(Sample("s0010_re"));
        Assert.Equal(15, record.Channels);
        Assert.Equal(38400, record.Samples);
        Assert.Equal(1000, record.SamplingRate);
        Assert.Equal("vx", record.Leads[12]);
        Assert.Empty(record.ChecksumMismatches());
        var expected = ReadTable(Sample("record-3b"));
        Assert.Equal(33000, expected.Length);
        int[] channels = [13, 0, 4, 8, 3];
        for (int t = 0; t < expected.Length; t++)
            for (int k = 0; k < channels.Length; k++)
                Assert.True(Math.Abs(record.Physical(channels[k], 5000 + t) - expected[t][k]) < 1e-8, $"sample {5000 + t} channel {channels[k]}");
    }

    [Fact]
    public void A103lMatMatchesRecord1c()
    {
        // record-1c: digital values of channels 0 and 1 from 80 s (sample 20000) to the end.
        var record = RecordReader.Read(Sample("a103l.hea"));
        Assert.Equal(["II", "V", "PLETH"], record.Leads);
        Assert.Equal(82500, record.Samples);
        Assert.Equal(250, record.SamplingRate);
        Assert.Equal(7247, record.Gain[0]);
        Assert.Equal("NU", record.Units[2]);
        Assert.Equal(["Asystole", "False alarm"], record.Comments);
        Assert.Empty(record.ChecksumMismatches());
        var expected = ReadTable(Sample("record-1c"));
        Assert.Equal(62500, expected.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal((int)expected[t][0], record.Digital[0][20000 + t]);
            Assert.Equal((int)expected[t][1], record.Digital[1][20000 + t]);
        }
    }

    [Fact]
    public void Record100Format212Decodes()
    {
        var record = RecordReader.Read(Sample("100.dat"));
        Assert.Equal(["MLII", "V5"], record.Leads);
        Assert.Equal(650000, record.Samples);
        Assert.Equal(360, record.SamplingRate);
        Assert.Equal(1024, record.Baseline[0]);
        // The header's initial values are the first samples; both checksums verify.
        Assert.Equal(995, record.Digital[0][0]);
        Assert.Equal(1011, record.Digital[1][0]);
        Assert.Equal([true, true], new[] { record.ChecksumMatches(0), record.ChecksumMatches(1) });
        Assert.Equal(-0.145, record.Physical(0, 0), 12);
        Assert.Equal(-0.065, record.Physical(1, 0), 12);
        Assert.Equal(["unnecessary comment", "69 M 1085 1629 x1", "Aldomet, Inderal"], record.Comments);
        Assert.Equal(0, record.MissingSamples);
    }

    [Fact]
    public void S0010ReHeaderHasPtbComments()
    {
        var h = WfdbHeader.Read(Sample("s0010_re.hea"));
        Assert.Equal(81, h.Age);
        Assert.Equal("female", h.Sex);
        Assert.Equal(2, h.Signals.Select(s => s.FileName).Distinct().Count());
        Assert.Equal(-8337, h.Signals[0].Checksum! - 65536);
    }
}
