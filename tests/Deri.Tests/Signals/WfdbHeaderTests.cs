using Deri.Signals;

namespace Deri.Tests.Signals;

public class WfdbHeaderTests
{
    [Fact]
    public void RecordLineWithCounterFrequencyBaseTimeAndDate()
    {
        var h = WfdbHeader.Parse("r 1 360/3600(12) 100 12:30:15.5 25/12/2020\nr.dat 16\n", "r.hea");
        Assert.Equal("r", h.Name);
        Assert.Equal(360, h.SamplingFrequency);
        Assert.Equal(3600, h.CounterFrequency);
        Assert.Equal(12, h.BaseCounter);
        Assert.Equal(100, h.SampleCount);
        Assert.Equal(new TimeSpan(0, 12, 30, 15, 500), h.BaseTime);
        Assert.Equal(new DateOnly(2020, 12, 25), h.BaseDate);
        Assert.Null(h.SegmentCount);
    }

    [Fact]
    public void SignalLineDefaults()
    {
        var s = WfdbHeader.Parse("r 1 500\nr.dat 212\n", "r.hea").Signals[0];
        Assert.Equal(("r.dat", 212, 1, 0, 0L), (s.FileName, s.Format, s.SamplesPerFrame, s.Skew, s.ByteOffset));
        Assert.Equal(200, s.Gain);
        Assert.Equal("mV", s.Units);
        Assert.Equal(12, s.AdcResolution);
        Assert.Equal(0, s.Baseline);
        Assert.Null(s.Checksum);
        Assert.Equal("record r, signal 0", s.Description);
    }

    [Fact]
    public void SignalLineAllFields()
    {
        var h = WfdbHeader.Parse("r 2 500 10\nr.dat 16x2:3+24 0(5)/uV 12 10 3 -5 0 lead II extra\nr.dat 16x2:3+24 250 16 7\n", "r.hea");
        var s = h.Signals[0];
        Assert.Equal((16, 2, 3, 24L), (s.Format, s.SamplesPerFrame, s.Skew, s.ByteOffset));
        Assert.Equal(200, s.Gain); // a stated gain of 0 means the default
        Assert.Equal(5, s.Baseline);
        Assert.Equal("uV", s.Units);
        Assert.Equal((12, 10, 3), (s.AdcResolution, s.AdcZero, s.InitialValue));
        Assert.Equal(65531, s.Checksum); // -5 modulo 2^16
        Assert.Equal("lead II extra", s.Description);
        var t = h.Signals[1];
        Assert.Equal(250, t.Gain);
        Assert.Equal(7, t.Baseline); // baseline defaults to ADC zero
        Assert.Equal(7, t.InitialValue);
    }

    [Fact]
    public void ChallengeComments()
    {
        var h = WfdbHeader.Parse("# leading\nx 1 500 5000\nx.mat 16x1+24 1000.0(0)/mV 16 0 -68 1250 0 I # inline\n#Age: 61.0\n#Sex: Female\n#Dx: 164889003, 59118001\n#Rx: Unknown\n", "x.hea");
        Assert.Equal(61, h.Age);
        Assert.Equal("Female", h.Sex);
        Assert.Equal(["164889003", "59118001"], h.Diagnoses);
        Assert.Equal(["leading", "inline", "Age: 61.0", "Sex: Female", "Dx: 164889003, 59118001", "Rx: Unknown"], h.Comments);
        Assert.Equal("I", h.Signals[0].Description);
        var unknown = WfdbHeader.Parse("x 0\n#Age: NaN\n#Sex: Unknown\n#Dx: Unknown\n", "x.hea");
        Assert.Null(unknown.Age);
        Assert.Null(unknown.Sex);
        Assert.Empty(unknown.Diagnoses);
    }

    [Fact]
    public void MimicIvEcgStyleHeader()
    {
        string[] leads = ["I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6"];
        string text = "40689238 12 500 5000 09:20:00 08/05/2185\n" + string.Concat(leads.Select(l => $"40689238.dat 16 200.0(0)/mV 16 0 -5 1360 0 {l}\n"));
        var h = WfdbHeader.Parse(text, "40689238.hea");
        Assert.Equal(new DateOnly(2185, 5, 8), h.BaseDate);
        Assert.Equal(TimeSpan.FromHours(9) + TimeSpan.FromMinutes(20), h.BaseTime);
        Assert.All(h.Signals, s => Assert.Equal(200, s.Gain));
        // MIMIC's own order is the model's order: the indices are the identity.
        Assert.Equal(Enumerable.Range(0, 12), LeadOrder.Indices(h.Signals.Select(s => s.Description).ToList(), "40689238.hea"));
    }

    [Fact]
    public void MultiSegmentHeaderParsesButIsNotReadAsOneRecord()
    {
        using var dir = new TempDir();
        string hea = dir.Text("ms.hea", "ms/3 2 360 1500\nms_001 500\n~ 250\nms_002 750\n");
        var h = WfdbHeader.Read(hea);
        Assert.Equal(3, h.SegmentCount);
        Assert.Equal("ms", h.Name);
        Assert.Equal([new WfdbSegment("ms_001", 500), new WfdbSegment("~", 250), new WfdbSegment("ms_002", 750)], h.Segments);
        var e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(hea));
        Assert.Contains("multi-segment record (3 segments)", e.Message);
    }

    [Theory]
    [InlineData("", "header file is empty")]
    [InlineData("# only a comment\n", "header has no record line")]
    [InlineData("r x 500\n", "signal count 'x' is not an integer")]
    [InlineData("r 1 fast\nr.dat 16\n", "sampling frequency 'fast' is not a number")]
    [InlineData("r 1 500 -3\nr.dat 16\n", "sample count '-3' is not a non-negative integer")]
    [InlineData("r 2 500 10\nr.dat 16\n", "record line declares 2 signals but 1 signal lines follow")]
    [InlineData("r 1 500 10\nr.dat 17\n", "signal 0 (r.dat): unknown signal format 17")]
    [InlineData("r 1 500 10\nr.dat 16 abc/mV\n", "signal 0: gain 'abc/mV' is not a number")]
    [InlineData("r 1 500 10\nr.dat 16 100(x)/mV\n", "baseline 'x' is not an integer")]
    [InlineData("r 1 500 10\nr.dat 16y2\n", "signal 0: malformed format field '16y2'")]
    [InlineData("r 1 500 10 25:61:99x\nr.dat 16\n", "base time '25:61:99x' is not HH:MM:SS")]
    [InlineData("r 1 500 10 10:00:00 2020-01-01\nr.dat 16\n", "base date '2020-01-01' is not DD/MM/YYYY")]
    [InlineData("r 1 500 10\nr.dat 16 100 16 0 0 twelve\n", "checksum 'twelve' is not an integer")]
    public void MalformedHeadersAreClearErrors(string text, string message)
    {
        var e = Assert.Throws<EcgFormatException>(() => WfdbHeader.Parse(text, "/data/r.hea"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("/data/r.hea: ", e.Message);
        Assert.Equal("/data/r.hea", e.FilePath);
    }
}
