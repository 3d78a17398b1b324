using System.Text.Json;
using Deri.Signals;

namespace Deri.Tests.Signals;

/// <summary>The readers on every shared dataset: PTB-XL, the CinC 2021 samples, CSN, CPSC2018.</summary>
public class DatasetTests
{
    public static TheoryData<string> PtbXlFolders => new() { "records100", "records500" };

    [Theory]
    [MemberData(nameof(PtbXlFolders))]
    public void EveryPtbXlRecordVerifiesItsChecksums(string folder)
    {
        var headers = Directory.EnumerateFiles(SignalData.File("ptbxl", folder), "*.hea", SearchOption.AllDirectories).ToArray();
        Assert.Equal(434, headers.Length);
        int expectedSamples = folder == "records500" ? 5000 : 1000;
        var checkAll = new RecordReadOptions { VerifyChecksums = true, AllowMissing = false };
        foreach (string h in headers)
        {
            var r = RecordReader.Read(h, checkAll);
            Assert.Equal(12, r.Channels);
            Assert.Equal(expectedSamples, r.Samples);
            Assert.All(Enumerable.Range(0, 12), c => Assert.True(r.ChecksumMatches(c), $"{h} channel {c}"));
        }
    }

    [Fact]
    public void PtbXlFirstRecordAndModelOrder()
    {
        var r = RecordReader.Read(SignalData.File("ptbxl", "records500", "00000", "00001_hr"));
        Assert.Equal("00001_hr", r.Id);
        Assert.Equal(500, r.SamplingRate);
        Assert.Equal(["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"], r.Leads);
        Assert.Equal(1000, r.Gain[0]);
        Assert.Equal(-0.115, r.Physical(0, 0), 12);
        Assert.Equal(-0.090, r.Physical(4, 0), 12);

        var m = LeadOrder.Reorder(r);
        Assert.Equal(LeadOrder.Model, m.Leads);
        Assert.Same(r.Digital[5], m.Digital[4]); // aVF comes before aVL in the model's order
        Assert.Same(r.Digital[4], m.Digital[5]);
        Assert.Equal(0.007, m.Physical(4, 0), 12);
    }

    [Fact]
    public void FastPhysicalPathEqualsRecordValuesInModelOrder()
    {
        foreach (string h in Directory.EnumerateFiles(SignalData.File("ptbxl", "records500", "00000"), "*.hea").Take(20))
        {
            var r = LeadOrder.Reorder(RecordReader.Read(h));
            var buffer = new float[12 * 5000];
            var info = RecordReader.ReadModelLeads(h, buffer);
            Assert.Equal(5000, info.Samples);
            Assert.Equal(LeadOrder.Model, info.Leads);
            for (int c = 0; c < 12; c++)
                for (int t = 0; t < 5000; t++)
                    Assert.Equal((float)r.Physical(c, t), buffer[c * 5000 + t], 6);
        }
    }

    [Fact]
    public void FastPathForChosenChannelsAndOtherFormats()
    {
        // Format 212 goes through the general decoder and is copied into the buffer.
        var buffer = new float[2 * 650000];
        var info = RecordReader.ReadPhysical(SignalData.File("wfdb-samples", "100"), [1, 0], buffer);
        Assert.Equal(650000, info.Samples);
        Assert.Equal(["V5", "MLII"], info.Leads);
        Assert.Equal(-0.065f, buffer[0], 6);
        Assert.Equal(-0.145f, buffer[650000], 6);
        Assert.Throws<ArgumentException>(() => RecordReader.ReadPhysical(SignalData.File("wfdb-samples", "100"), [0], new float[10]));
        Assert.Throws<InputValueException>(() => RecordReader.ReadPhysical(SignalData.File("wfdb-samples", "100"), [2], buffer));

        var cpsc = new float[12 * 5000];
        var ci = RecordReader.ReadModelLeads(SignalData.File("cpsc2018", "A1980.mat"), cpsc);
        Assert.Equal(5000, ci.Samples);
        var rec = Cpsc2018.Read(SignalData.File("cpsc2018", "A1980.mat"));
        Assert.Equal((float)rec.ExactPhysical![5][10], cpsc[4 * 5000 + 10]); // model row 4 is aVF, stored row 5
    }

    [Fact]
    public void PtbXlZScoreRecordsRead()
    {
        var headers = Directory.EnumerateFiles(SignalData.File("ptbxl-zscore", "records100"), "*.hea", SearchOption.AllDirectories).Take(50).ToArray();
        Assert.NotEmpty(headers);
        foreach (string h in headers)
        {
            var r = RecordReader.Read(h, new RecordReadOptions { VerifyChecksums = true });
            Assert.Equal("z", r.Units[0]);
            Assert.Equal(100, r.SamplingRate);
            Assert.StartsWith("ptbxl ecg_id", r.Comments[0]);
        }
    }

    [Fact]
    public void CinC2021MatV4RecordsWithDiagnoses()
    {
        var headers = Directory.GetFiles(SignalData.File("cinc2021"), "*.hea");
        Assert.Equal(50, headers.Length);
        foreach (string h in headers)
        {
            var r = RecordReader.Read(Path.ChangeExtension(h, ".mat"), new RecordReadOptions { VerifyChecksums = true });
            Assert.Equal(12, r.Channels);
            Assert.NotEmpty(r.Diagnoses);
            Assert.All(r.Diagnoses, d => Assert.Matches("^[0-9]+$", d));
            Assert.Equal(12, LeadOrder.Indices(r.Leads, h).Length);
        }
        var e = RecordReader.Read(SignalData.File("cinc2021", "E07500"));
        Assert.Equal(["67741000119109", "426177001"], e.Diagnoses);
        Assert.Equal(78, e.Age);
        Assert.Equal("Male", e.Sex);
        Assert.Equal(5000, e.Samples);
        Assert.Equal(-0.068, e.Physical(0, 0), 12);
        Assert.Equal(24, e.Header!.Signals[0].ByteOffset);
        Assert.Equal(1, e.Header.Signals[0].SamplesPerFrame);
    }

    [Fact]
    public void CsnOriginalRecord()
    {
        var r = RecordReader.Read(SignalData.File("csn-original", "JS00001.hea"), new RecordReadOptions { VerifyChecksums = true });
        Assert.Equal(["164889003", "59118001", "164934002"], r.Diagnoses);
        Assert.Equal(85, r.Age);
        Assert.Equal(-0.254, r.Physical(0, 0), 12);
    }

    private sealed record CpscReference(string record, int leads, int samples, string sex, int age, int[] picks, double[][] values, double[] sums);

    [Fact]
    public void Cpsc2018MatV5RecordsMatchScipyAndReferenceLabels()
    {
        var refs = JsonSerializer.Deserialize<CpscReference[]>(File.ReadAllText(SignalFixtures.File("Signals/cpsc2018_reference.json")))!;
        var labels = Cpsc2018.ReadLabels(SignalData.File("cpsc2018", "REFERENCE_with_text.csv"));
        Assert.Equal(6877, labels.Count);
        Assert.Equal([1], labels["A0002"].Labels);
        Assert.Equal("normal", labels["A0002"].Text);
        Assert.Null(labels["A6876"].Age); // age -1 means unknown
        Assert.Equal(10, refs.Length);
        foreach (var x in refs)
        {
            var r = RecordReader.Read(SignalData.File("cpsc2018", x.record));
            Assert.Equal(x.record, r.Id);
            Assert.Equal(500, r.SamplingRate);
            Assert.Equal(x.samples, r.Samples);
            Assert.Equal(Cpsc2018.Leads, r.Leads);
            Assert.Equal(x.sex, r.Sex);
            Assert.Equal(x.age, r.Age);
            var label = labels[x.record];
            Assert.Equal(x.sex, label.Sex);
            Assert.Equal(x.age, label.Age);
            for (int c = 0; c < 12; c++)
            {
                for (int k = 0; k < x.picks.Length; k++)
                    Assert.True(Math.Abs(r.Physical(c, x.picks[k]) - x.values[c][k]) <= 1e-9, $"{x.record} lead {c} sample {x.picks[k]}");
                double sum = 0;
                for (int t = 0; t < r.Samples; t++) sum += r.Physical(c, t);
                Assert.True(Math.Abs(sum - x.sums[c]) < 1e-9 * Math.Max(1, Math.Abs(x.sums[c])) + 1e-9, $"{x.record} lead {c} sum");
                Assert.Equal((int)Math.Round(x.values[c][2] * 1000), r.Digital[c][x.picks[2]]);
            }
        }
        Assert.Equal([6], labels["A1980"].Labels);
        Assert.Equal("premature atrial contraction", labels["A1980"].Text);
        Assert.Equal("Premature atrial contraction (PAC)", Cpsc2018.ClassNames[6]);
    }

    [Fact]
    public void Cpsc2018PlainReferenceCsv()
    {
        using var dir = new TempDir();
        string p = dir.Text("REFERENCE.csv", "Recording,First_label,Second_label,Third_label\nA0001,5,,\nA0007,2,5,9\n");
        var labels = Cpsc2018.ReadLabels(p);
        Assert.Equal([2, 5, 9], labels["A0007"].Labels);
        Assert.Null(labels["A0001"].Text);
        string bad = dir.Text("BAD.csv", "Recording,First_label\nA0001,x\n");
        var e = Assert.Throws<EcgFormatException>(() => Cpsc2018.ReadLabels(bad));
        Assert.Contains("line 2: label 'x' is not a class number", e.Message);
        string noCol = dir.Text("NOCOL.csv", "Name,Label\nA0001,1\n");
        Assert.Contains("no column 'Recording'", Assert.Throws<EcgFormatException>(() => Cpsc2018.ReadLabels(noCol)).Message);
    }
}
