using System.Text;
using Deri.Serving;
using Deri.Signals;
using Deri.Signals.Clinical;

namespace Deri.Tests.Signals;

/// <summary>
/// The clinical-format readers against files written by other tools from PTB-XL record 00001_lr (100 Hz, 1 µV per unit):
/// pydicom (DICOM, implicit and explicit VR), and spec-following Python writers for aECG, GE MUSE XML and EDF/BDF
/// (<c>tools/formats/make_formats.py</c>, fixtures in <c>Fixtures/formats</c>).
/// </summary>
public class ClinicalFormatTests
{
    private static string Fixture(string name) => SignalFixtures.File(Path.Combine("formats", name));

    private static EcgRecord Original() => RecordReader.Read(SignalData.File("ptbxl", "records100", "00000", "00001_lr"));

    private static readonly Dictionary<string, double> Measurements = new()
    {
        [DeviceMeasurementKeys.HeartRate] = 63, [DeviceMeasurementKeys.Pr] = 164, [DeviceMeasurementKeys.Qrs] = 92,
        [DeviceMeasurementKeys.Qt] = 398, [DeviceMeasurementKeys.QtcUnspecified] = 406, [DeviceMeasurementKeys.PAxis] = 48,
        [DeviceMeasurementKeys.QrsAxis] = -3, [DeviceMeasurementKeys.TAxis] = 40,
    };

    private static void SamePhysical(EcgRecord expected, EcgRecord actual, double tolerance, IEnumerable<string>? leads = null, int samples = -1)
    {
        Assert.Equal(LeadOrder.Standard, actual.Leads.Take(12));
        int n = samples < 0 ? expected.Samples : samples;
        foreach (string lead in leads ?? LeadOrder.Standard)
        {
            int e = LeadOrder.Indices(expected.Leads, "expected", [lead])[0], a = actual.Leads.ToList().IndexOf(lead);
            for (int t = 0; t < n; t++)
            {
                double d = Math.Abs(expected.Physical(e, t) - actual.Physical(a, t));
                Assert.True(d <= tolerance, $"{actual.SourcePath}: lead {lead} sample {t}: {actual.Physical(a, t)} mV, expected {expected.Physical(e, t)} (tolerance {tolerance})");
            }
        }
    }

    [Theory]
    [InlineData("dicom_implicit.dcm")]
    [InlineData("dicom_explicit.dcm")]
    public void DicomFromPydicomMatchesTheWfdbOriginalExactly(string name)
    {
        var original = Original();
        var r = RecordReader.Read(Fixture(name));
        Assert.Equal(100, r.SamplingRate);
        Assert.Equal(1000, r.Samples);
        SamePhysical(original, r, 1e-12);
        // 1 µV per bit (sensitivity 1 µV, or 0.0005 mV × correction 2) keeps the file's resolution: gain 1000/mV, the digits as stored.
        Assert.All(r.Gain, g => Assert.Equal(1000, g));
        Assert.Equal(original.Digital[6], r.Digital[6]);
        Assert.Empty(r.DerivedLeads);
        Assert.Equal(Measurements, r.DeviceMeasurements);
        Assert.Equal(["Sinus rhythm", "Left axis deviation"], r.DeviceStatements);
        Assert.Equal(56, r.Age);
        Assert.Equal("Female", r.Sex);
        var median = Assert.IsType<EcgRecord>(r.StoredMedianBeat);
        Assert.Equal(80, median.Samples);
        SamePhysical(original, median, 1e-12, samples: 80);
    }

    [Fact]
    public void DicomScpEcgMeasurementCodesAreRead()
    {
        // The measurements coded in SCPECG as a Mortara cart writes them: RR (not the rate), a PP interval of 0 that
        // has no key, and fiducial points (sample positions without a value) that must not become measurements.
        var r = RecordReader.Read(Fixture("dicom_scpecg.dcm"));
        var expected = new Dictionary<string, double>(Measurements);
        expected.Remove(DeviceMeasurementKeys.HeartRate);
        expected[DeviceMeasurementKeys.Rr] = 952;
        Assert.Equal(expected.OrderBy(kv => kv.Key), r.DeviceMeasurements.OrderBy(kv => kv.Key));
        Assert.Equal(["Sinus rhythm", "Left axis deviation"], r.DeviceStatements);
        SamePhysical(Original(), r, 1e-12);
    }

    [Fact]
    public void DicomScpEcgAxisInMillisecondsIsRefusedByName()
    {
        // A unit that does not fit the concept is an error naming the code, as for the MDC codes.
        using var dir = new TempDir();
        string bytes = Encoding.Latin1.GetString(File.ReadAllBytes(Fixture("dicom_scpecg.dcm")));
        int at = bytes.IndexOf("5.10.3-13", StringComparison.Ordinal);
        // The QRS axis's unit code value "deg " (SH, padded to even length) comes just before its concept name.
        int unit = bytes.LastIndexOf("deg ", at, StringComparison.Ordinal);
        Assert.True(unit > 0);
        bytes = bytes[..unit] + "ms  " + bytes[(unit + 4)..];
        var e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(dir.Bytes("s.dcm", Encoding.Latin1.GetBytes(bytes))));
        Assert.Contains("5.10.3-13", e.Message);
        Assert.Contains("qrs_axis_deg", e.Message);
    }

    [Fact]
    public void DicomSensitivityTimesCorrectionFactorGivesAnExactGain()
    {
        using var dir = new TempDir();
        // The explicit fixture with sensitivity 0.0025 mV (2.5 µV) × correction factor 2 = 5 µV per bit: gain exactly 200/mV.
        string bytes = Encoding.Latin1.GetString(File.ReadAllBytes(Fixture("dicom_explicit.dcm")));
        Assert.Equal(24, Count(bytes, "0.0005"));
        bytes = bytes.Replace("0.0005", "0.0025");
        var r = RecordReader.Read(dir.Bytes("s.dcm", Encoding.Latin1.GetBytes(bytes)));
        Assert.All(r.Gain, g => Assert.Equal(200, g));
        Assert.Equal(Original().Digital[0], r.Digital[0]);
        Assert.Equal(Original().Physical(0, 1) * 5, r.Physical(0, 1), 12);
    }

    private static int Count(string s, string what)
    {
        int n = 0;
        for (int at = s.IndexOf(what, StringComparison.Ordinal); at >= 0; at = s.IndexOf(what, at + 1, StringComparison.Ordinal)) n++;
        return n;
    }

    [Fact]
    public void DeflatedDicomIsRefusedByName()
    {
        var e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(Fixture("dicom_deflated.dcm")));
        Assert.Contains("deflated explicit VR little endian (1.2.840.10008.1.2.1.99) is not supported", e.Message);
        Assert.Contains("dicom_deflated.dcm", e.Message);
    }

    [Fact]
    public void AecgMatchesTheOriginalWithMedianMeasurementsAndStatements()
    {
        var original = Original();
        var r = RecordReader.Read(Fixture("aecg.xml"));
        Assert.Equal(100, r.SamplingRate, 9);
        SamePhysical(original, r, 1e-12);
        Assert.Equal(Measurements, r.DeviceMeasurements);
        Assert.Equal(["Sinus rhythm", "Left axis deviation"], r.DeviceStatements);
        Assert.Equal(80, r.StoredMedianBeat!.Samples);
    }

    [Fact]
    public void MuseStoresEightLeadsAndTheLimbLeadsAreDerived()
    {
        var original = Original();
        var r = RecordReader.Read(Fixture("muse.xml"));
        Assert.Equal(["III", "aVR", "aVL", "aVF"], r.DerivedLeads);
        // The 8 stored leads are exact (0.5 µV per bit: gain 2000/mV).
        SamePhysical(original, r, 1e-12, ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]);
        Assert.Equal(2000, r.Gain[0]);
        // Derived leads follow Einthoven/Goldberger exactly from the stored I and II …
        for (int t = 0; t < r.Samples; t++)
        {
            double i = r.Physical(0, t), ii = r.Physical(1, t);
            Assert.Equal(ii - i, r.Physical(2, t), 12);
            Assert.Equal(-(i + ii) / 2, r.Physical(3, t), 12);
            Assert.Equal(i - ii / 2, r.Physical(4, t), 12);
            Assert.Equal(ii - i / 2, r.Physical(5, t), 12);
        }
        // … and match PTB-XL's own limb leads to its 1 µV rounding of each lead.
        SamePhysical(original, r, 0.0015 + 1e-12, ["III", "aVR", "aVL", "aVF"]);
        Assert.Equal(Measurements, r.DeviceMeasurements);
        Assert.Equal(["Sinus rhythm", "Left axis deviation"], r.DeviceStatements);
        Assert.Equal(["III", "aVR", "aVL", "aVF"], r.StoredMedianBeat!.DerivedLeads);
        Assert.Equal(56, r.Age);
    }

    [Theory]
    [InlineData("edf.edf", 1000)]
    [InlineData("bdf.bdf", 4000)]
    public void EdfAndBdfMatchTheOriginal(string name, double gain)
    {
        var r = RecordReader.Read(Fixture(name));
        Assert.Equal(12, r.Channels);   // the EDF Annotations signal is skipped
        Assert.Equal(100, r.SamplingRate);
        Assert.Equal(gain, r.Gain[0], 6);
        SamePhysical(Original(), r, 1e-9);
    }

    [Fact]
    public void ModelLeadsOfEveryFormatMatch()
    {
        var expected = new float[12 * 1000];
        RecordReader.ReadModelLeads(SignalData.File("ptbxl", "records100", "00000", "00001_lr"), expected);
        foreach (string name in (string[])["dicom_implicit.dcm", "dicom_explicit.dcm", "aecg.xml", "edf.edf", "bdf.bdf"])
        {
            var buffer = new float[12 * 1000];
            var info = RecordReader.ReadModelLeads(Fixture(name), buffer);
            Assert.Equal(1000, info.Samples);
            for (int k = 0; k < buffer.Length; k++) Assert.True(Math.Abs(expected[k] - buffer[k]) < 1e-6, $"{name}: value {k}");
        }
    }

    [Fact]
    public void PhilipsScpAndUnknownXmlAreRefusedByName()
    {
        using var dir = new TempDir();
        var philips = Assert.Throws<EcgFormatException>(() => RecordReader.Read(dir.Text("p.xml", "<?xml version=\"1.0\"?><restingecgdata><waveforms/></restingecgdata>")));
        Assert.Contains("Philips XML ECG", philips.Message);
        Assert.Contains("export as DICOM or aECG", philips.Message);
        var scp = Assert.Throws<EcgFormatException>(() => RecordReader.Read(dir.Bytes("s.scp", new byte[200])));
        Assert.Contains("SCP-ECG (.scp) is not supported", scp.Message);
        var other = Assert.Throws<EcgFormatException>(() => RecordReader.Read(dir.Text("o.xml", "<html/>")));
        Assert.Contains("XML root 'html'", other.Message);
    }

    [Theory]
    [InlineData("dicom_implicit.dcm")]
    [InlineData("dicom_explicit.dcm")]
    [InlineData("aecg.xml")]
    [InlineData("muse.xml")]
    [InlineData("edf.edf")]
    [InlineData("bdf.bdf")]
    public void TruncatedFilesGiveAClearErrorNamingTheFile(string name)
    {
        using var dir = new TempDir();
        byte[] bytes = File.ReadAllBytes(Fixture(name));
        foreach (int keep in (int[])[bytes.Length / 2, bytes.Length - 7, 300, 20])
        {
            string path = dir.Bytes("cut" + keep + Path.GetExtension(name), bytes[..keep]);
            var e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(path));
            Assert.StartsWith(path, e.Message);
        }
    }

    [Fact]
    public void ACorruptDicomLengthIsRefusedWithoutAllocatingIt()
    {
        using var dir = new TempDir();
        byte[] bytes = File.ReadAllBytes(Fixture("dicom_explicit.dcm"));
        // The Waveform Data element (5400,1010) OW: its 4-byte length follows tag, VR and 2 reserved bytes.
        int at = IndexOf(bytes, [0x00, 0x54, 0x10, 0x10, (byte)'O', (byte)'W']);
        Assert.True(at > 0);
        BitConverter.GetBytes(0x7FFFFFF0u).CopyTo(bytes, at + 8);
        var e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(dir.Bytes("big.dcm", bytes)));
        Assert.Contains("(5400,1010)", e.Message);
        Assert.Contains("remain", e.Message);
        // A declared sample count beyond the data: checked before allocating.
        bytes = File.ReadAllBytes(Fixture("dicom_explicit.dcm"));
        at = IndexOf(bytes, [0x3A, 0x00, 0x10, 0x00, (byte)'U', (byte)'L']);
        BitConverter.GetBytes(400_000_000u).CopyTo(bytes, at + 8);
        e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(dir.Bytes("many.dcm", bytes)));
        Assert.Contains("400000000 samples", e.Message);
    }

    [Fact]
    public void EightBitDicomSamplesAreRefusedByName()
    {
        using var dir = new TempDir();
        byte[] bytes = File.ReadAllBytes(Fixture("dicom_explicit.dcm"));
        int at = IndexOf(bytes, [0x00, 0x54, 0x06, 0x10, (byte)'C', (byte)'S']);
        bytes[at + 8] = (byte)'S';
        bytes[at + 9] = (byte)'B';
        var e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(dir.Bytes("sb.dcm", bytes)));
        Assert.Contains("interpretation SB (signed 8 bit) are not supported", e.Message);
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    [Theory]
    [InlineData("dicom")]
    [InlineData("aecg")]
    [InlineData("edf")]
    public void WritersRoundTrip(string format)
    {
        using var dir = new TempDir();
        var muse = RecordReader.Read(Fixture("muse.xml"));
        string ext = format switch { "dicom" => ".dcm", "aecg" => ".xml", _ => ".edf" };
        foreach (var source in (EcgRecord[])[Original(), muse])
        {
            string path = dir[source.Id + ext];
            using (var s = File.Create(path)) ClinicalWriters.Write(source, format, s);
            var back = RecordReader.Read(path);
            Assert.Equal(source.SamplingRate, back.SamplingRate, 9);
            Assert.Equal(source.Samples, back.Samples);
            // EDF writes each lead's physical range in 8 characters; DICOM and aECG keep the calibration exactly.
            SamePhysical(source, back, format == "edf" ? 1e-6 : 1e-12);
            if (format != "edf")
            {
                Assert.Equal(source.DeviceMeasurements, back.DeviceMeasurements);
                Assert.Equal(source.DeviceStatements, back.DeviceStatements);
                Assert.Equal(source.StoredMedianBeat?.Samples, back.StoredMedianBeat?.Samples);
            }
        }
    }

    [Fact]
    public void WritersRefuseMissingSamples()
    {
        var r = Original();
        r.Digital[0][5] = int.MinValue;
        var withGap = new EcgRecord
        {
            Id = r.Id, SamplingRate = r.SamplingRate, Leads = r.Leads, Digital = r.Digital, Gain = r.Gain, Baseline = r.Baseline, Units = r.Units, MissingSamples = 1,
        };
        var e = Assert.Throws<InputValueException>(() => ClinicalWriters.Write(withGap, "dicom", new MemoryStream()));
        Assert.Contains("1 missing samples", e.Message);
    }

    [Theory]
    [InlineData("dicom_implicit.dcm", "dicom")]
    [InlineData("aecg.xml", "aecg")]
    [InlineData("muse.xml", "muse-xml")]
    [InlineData("edf.edf", "edf")]
    [InlineData("bdf.bdf", "edf")]
    public void UploadsOfEachKindAreRead(string name, string format)
    {
        var upload = UploadReader.Read([new UploadedFile("cart-export" + Path.GetExtension(name), File.ReadAllBytes(Fixture(name)))], null, new UploadLimits());
        Assert.Equal(format, upload.Format);
        Assert.Equal("cart-export", upload.Id);
        Assert.Equal(1000, upload.Samples);
        var expected = new float[12 * 1000];
        RecordReader.ReadModelLeads(Fixture(name), expected);
        Assert.Equal(expected, upload.Physical);
    }

    [Fact]
    public void UploadRefusalsNameTheProblem()
    {
        var limits = new UploadLimits();
        var deflated = Assert.Throws<BadUploadException>(() => UploadReader.Read([new UploadedFile("x.dcm", File.ReadAllBytes(Fixture("dicom_deflated.dcm")))], null, limits));
        Assert.Equal(422, deflated.Status);
        Assert.Contains("x.dcm: deflated explicit VR little endian", deflated.Message);
        var philips = Assert.Throws<BadUploadException>(() => UploadReader.Read([new UploadedFile("p.xml", Encoding.UTF8.GetBytes("<restingecgdata/>"))], null, limits));
        Assert.Equal(415, philips.Status);
        Assert.Contains("Philips XML ECG", philips.Message);
        var scp = Assert.Throws<BadUploadException>(() => UploadReader.Read([new UploadedFile("e.scp", new byte[100])], null, limits));
        Assert.Equal(415, scp.Status);
        byte[] bytes = File.ReadAllBytes(Fixture("edf.edf"));
        var cut = Assert.Throws<BadUploadException>(() => UploadReader.Read([new UploadedFile("c.edf", bytes[..5000])], null, limits));
        Assert.Equal(422, cut.Status);
        Assert.Contains("c.edf: truncated", cut.Message);
    }

    [Fact]
    public void LongEdfRecordingsAreReadAsAStatedWindow()
    {
        using var dir = new TempDir();
        // 400 one-second records of the 10 s original repeated: longer than the 300 s read whole.
        var original = Original();
        var tiled = new EcgRecord
        {
            Id = "long", SamplingRate = 100, Leads = original.Leads, Gain = original.Gain, Baseline = original.Baseline, Units = original.Units,
            Digital = original.Digital.Select(d => Enumerable.Range(0, 40000).Select(t => d[t % 1000]).ToArray()).ToArray(),
        };
        string path = dir["long.edf"];
        using (var s = File.Create(path)) ClinicalWriters.Write(tiled, "edf", s);
        var r = RecordReader.Read(path, new RecordReadOptions { FromSeconds = 123 });
        Assert.Equal(1000, r.Samples);
        Assert.Contains("window 123–133 s of a 400 s recording", r.Comments[0]);
        Assert.Equal(original.Physical(0, 300), r.Physical(0, 0), 6);
        Assert.Throws<EcgFormatException>(() => RecordReader.Read(path, new RecordReadOptions { FromSeconds = 500 }));
        var upload = Assert.Throws<BadUploadException>(() => UploadReader.Read([new UploadedFile("long.edf", File.ReadAllBytes(path))], null, new UploadLimits { MaxBytes = 10_000_000 }));
        Assert.Equal("unsupported duration", upload.Title);
    }

    [Fact]
    public void EdfLabelsNameLeads()
    {
        Assert.Equal("I", EdfReader.LeadName("ECG I"));
        Assert.Equal("V1", EdfReader.LeadName("EKG-V1"));
        Assert.Equal("aVR", EdfReader.LeadName("aVR"));
        Assert.Equal("II", EdfReader.LeadName("Lead II"));
        Assert.Null(EdfReader.LeadName("EEG Fp1"));
    }
}
