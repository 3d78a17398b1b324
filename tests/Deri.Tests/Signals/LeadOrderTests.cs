using Deri.Signals;

namespace Deri.Tests.Signals;

public class LeadOrderTests
{
    [Theory]
    [InlineData("I", "I")]
    [InlineData("ii", "II")]
    [InlineData(" III ", "III")]
    [InlineData("AVR", "aVR")]
    [InlineData("avl", "aVL")]
    [InlineData("aVF", "aVF")]
    [InlineData("v1", "V1")]
    [InlineData("V6", "V6")]
    [InlineData("Lead_II", "II")]
    [InlineData("lead aVR", "aVR")]
    [InlineData("DIII", "III")]
    [InlineData("MLII", null)]
    [InlineData("V7", null)]
    [InlineData("vx", null)]
    [InlineData("PLETH", null)]
    [InlineData("", null)]
    public void NormalizesLeadNames(string name, string? canonical) => Assert.Equal(canonical, LeadOrder.Normalize(name));

    [Fact]
    public void IndicesMapStandardToModelOrder()
    {
        // PTB-XL order (… AVR, AVL, AVF …) to the model's (… aVR, aVF, aVL …).
        string[] ptb = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"];
        Assert.Equal([0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11], LeadOrder.Indices(ptb, "x"));
        // Shuffled, with extra channels, duplicates resolved to the first.
        string[] odd = ["vx", "v6", "v5", "v4", "v3", "v2", "v1", "avf", "avl", "avr", "iii", "ii", "i", "I"];
        var idx = LeadOrder.Indices(odd, "x");
        Assert.Equal(LeadOrder.Model, idx.Select(i => LeadOrder.Normalize(odd[i])));
        Assert.Equal(12, idx[0]);
        Assert.Equal(LeadOrder.Standard, LeadOrder.Indices(ptb, "x", LeadOrder.Standard).Select(i => LeadOrder.Normalize(ptb[i])));
    }

    [Fact]
    public void MissingLeadsAreNamedWithTheFile()
    {
        var e = Assert.Throws<EcgFormatException>(() => LeadOrder.Indices(["MLII", "V5"], "/data/100.hea"));
        Assert.Equal("/data/100.hea: missing lead(s) I, II, III, aVR, aVF, aVL, V1, V2, V3, V4, V6; the record's channels are 'MLII', 'V5'", e.Message);
        var r = Assert.Throws<EcgFormatException>(() => RecordReader.ReadModelLeads(SignalData.File("wfdb-samples", "100"), new float[12 * 650000]));
        Assert.Contains("100.hea: missing lead(s) I, II", r.Message);
        var rec = RecordReader.Read(SignalData.File("wfdb-samples", "a103l"));
        Assert.Contains("a103l.hea: missing lead(s)", Assert.Throws<EcgFormatException>(() => LeadOrder.Reorder(rec)).Message);
    }

    [Fact]
    public void ReorderKeepsChecksumsAndExactValues()
    {
        var r = RecordReader.Read(SignalData.File("cpsc2018", "A1981"));
        var m = LeadOrder.Reorder(r);
        Assert.Equal(r.ExactPhysical![4], m.ExactPhysical![5]);
        Assert.Equal(r.Physical(5, 100), m.Physical(4, 100));
        var s = LeadOrder.Reorder(RecordReader.Read(SignalData.File("wfdb-samples", "s0010_re")));
        Assert.Equal(12, s.Channels);
        Assert.Empty(s.ChecksumMismatches());
        Assert.Equal(LeadOrder.Model, s.Leads);
    }
}
