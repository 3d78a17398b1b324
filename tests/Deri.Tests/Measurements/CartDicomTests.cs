using Deri.Measurements;
using Deri.Serving;
using Deri.Signals;
using Deri.Tests.Cli;

namespace Deri.Tests.Measurements;

/// <summary>A fact that is skipped, with the reason, when a file outside the repository is absent.</summary>
public sealed class FactWhenFileExistsAttribute : FactAttribute
{
    /// <param name="path">The file the test reads.</param>
    /// <param name="why">What the file is and where it comes from, for the skip message.</param>
    public FactWhenFileExistsAttribute(string path, string why)
    {
        if (!File.Exists(path)) Skip = $"{path} is absent ({why})";
    }
}

/// <summary>
/// <c>deri measure</c> against an electrocardiograph's own measurements: pydicom's test file <c>waveform_ecg.dcm</c>, a
/// real 12-lead resting ECG from a Mortara ELI 250 cart (10 s at 1000 Hz, and the cart's median beats), installed by
/// Debian's python3-pydicom. It is not copied into the repository (its data's provenance is not stated in the
/// package); the test runs where the package is installed and is skipped elsewhere.
/// </summary>
public sealed class CartDicomTests
{
    private const string File = "/usr/lib/python3/dist-packages/pydicom/data/test_files/waveform_ecg.dcm";
    private const string Why = "a real Mortara ELI 250 DICOM ECG shipped by Debian's python3-pydicom; apt-get install python3-pydicom";

    // The cart's global measurements as the file stores them (WaveformAnnotationSequence, SCP-ECG concept codes; read
    // with pydicom 2.3): RR 982 ms, PR 161 ms, QRS 75 ms, QT 368 ms, QTc 370 ms, axes P 74°, QRS 52°, T 57°.
    private const double CartRr = 982, CartPr = 161, CartQrs = 75, CartQt = 368, CartQtc = 370, CartPAxis = 74, CartQrsAxis = 52, CartTAxis = 57;

    [FactWhenFileExists(File, Why)]
    public void TheReaderReportsTheCartsOwnMeasurements()
    {
        // The cart codes them in SCPECG (5.10.2.1-3 RR, 5.13.5-7 PR, …); the file has no rate, so none is reported, and
        // its PP interval of 0 (5.10.2.1-5) has no key.
        var record = RecordReader.Read(File);
        var expected = new Dictionary<string, double>
        {
            [DeviceMeasurementKeys.Rr] = CartRr, [DeviceMeasurementKeys.Pr] = CartPr, [DeviceMeasurementKeys.Qrs] = CartQrs,
            [DeviceMeasurementKeys.Qt] = CartQt, [DeviceMeasurementKeys.QtcUnspecified] = CartQtc,
            [DeviceMeasurementKeys.PAxis] = CartPAxis, [DeviceMeasurementKeys.QrsAxis] = CartQrsAxis, [DeviceMeasurementKeys.TAxis] = CartTAxis,
        };
        Assert.Equal(expected.OrderBy(kv => kv.Key), record.DeviceMeasurements.OrderBy(kv => kv.Key));
        Assert.Equal(["RITMO SINUSALE", "ECG NORMALE"], record.DeviceStatements);
        // The analyze API reads an upload this way and returns these as device_measurements beside its own.
        var upload = UploadReader.Read([new UploadedFile("waveform_ecg.dcm", System.IO.File.ReadAllBytes(File))], null, new UploadLimits());
        Assert.Equal(expected.OrderBy(kv => kv.Key), upload.DeviceMeasurements.OrderBy(kv => kv.Key));
    }

    [FactWhenFileExists(File, Why)]
    public void InspectShowsTheCartsMeasurements()
    {
        string text = CliRunner.Ok("data", "inspect", File);
        Assert.Contains("Device      rr_ms 982, pr_ms 161, qrs_ms 75, qt_ms 368, qtc_ms 370, p_axis_deg 74, qrs_axis_deg 52, t_axis_deg 57", text);
    }

    [FactWhenFileExists(File, Why)]
    public void MeasurementsAgreeWithTheCart()
    {
        var record = RecordReader.Read(File);
        Assert.Equal(1000, record.SamplingRate);
        var m = EcgMeasurer.Measure(record);
        // Targets of issue 24: heart rate within 2 bpm, PR and QRS within 10 ms, QT within 20 ms; axes within 10°.
        Assert.InRange(m.HeartRateBpm!.Value, 60000 / CartRr - 2, 60000 / CartRr + 2);
        Assert.InRange(m.PrMs!.Value, CartPr - 10, CartPr + 10);
        Assert.InRange(m.QrsMs!.Value, CartQrs - 10, CartQrs + 10);
        Assert.InRange(m.QtMs!.Value, CartQt - 20, CartQt + 20);
        Assert.InRange(m.PAxisDeg!.Value, CartPAxis - 10, CartPAxis + 10);
        Assert.InRange(m.QrsAxisDeg!.Value, CartQrsAxis - 10, CartQrsAxis + 10);
        Assert.InRange(m.TAxisDeg!.Value, CartTAxis - 10, CartTAxis + 10);
        Assert.Empty(m.Notes);
    }

    [Fact]
    public void AnAbsentFileSkipsWithItsReason()
    {
        string absent = Path.Combine(Path.GetTempPath(), $"deri-absent-{Guid.NewGuid():N}.dcm");
        Assert.Equal($"{absent} is absent (why)", new FactWhenFileExistsAttribute(absent, "why").Skip);
        Assert.Null(new FactWhenFileExistsAttribute(typeof(CartDicomTests).Assembly.Location, "why").Skip);
    }

    [FactWhenFileExists(File, Why)]
    public void MeasureCommandReadsTheCartFile()
    {
        string csv = CliRunner.Ok("measure", File);
        var row = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(',');
        Assert.Equal(File, row[0]);
        Assert.Equal("10", row[^2]);
    }
}
