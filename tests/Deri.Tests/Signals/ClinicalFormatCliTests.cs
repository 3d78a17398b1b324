using System.Text.Json;
using Deri.Data.Store;
using Deri.Tests.Cli;

namespace Deri.Tests.Signals;

/// <summary>The clinical formats through the CLI: <c>deri data inspect/export/plot</c> and <c>data prepare --dataset generic</c>.</summary>
public class ClinicalFormatCliTests
{
    private static string Fixture(string name) => SignalFixtures.File(Path.Combine("formats", name));

    [Fact]
    public void InspectShowsTheDevicesMeasurementsAndExportConvertsBetweenFormats()
    {
        using var dir = new TempDir();
        using (var doc = JsonDocument.Parse(CliRunner.Ok("data", "inspect", Fixture("muse.xml"), "--json")))
        {
            var o = doc.RootElement;
            Assert.Equal("muse-xml", o.GetProperty("kind").GetString());
            Assert.Equal(["III", "aVR", "aVL", "aVF"], o.GetProperty("derived_leads").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(164, o.GetProperty("device_measurements").GetProperty("pr_ms").GetDouble());
            Assert.Equal("Sinus rhythm", o.GetProperty("device_statements")[0].GetString());
            Assert.Equal(80, o.GetProperty("median_beat").GetProperty("samples").GetInt32());
        }
        string dcm = dir["converted.dcm"];
        CliRunner.Ok("data", "export", Fixture("muse.xml"), "--format", "dicom", "-o", dcm);
        using (var doc = JsonDocument.Parse(CliRunner.Ok("data", "inspect", dcm, "--json")))
        {
            Assert.Equal("dicom", doc.RootElement.GetProperty("kind").GetString());
            Assert.Equal(406, doc.RootElement.GetProperty("device_measurements").GetProperty("qtc_ms").GetDouble());
        }
        var again = CliRunner.Run(["data", "export", Fixture("muse.xml"), "--format", "dicom", "-o", dcm]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("exists", again.Stderr);
        // The TSV of the converted file equals the TSV of the MUSE file.
        Assert.Equal(CliRunner.Ok("data", "export", Fixture("muse.xml")), CliRunner.Ok("data", "export", dcm));
        var missing = CliRunner.Run(["data", "export", Fixture("edf.edf"), "--format", "aecg"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("--output", missing.Stderr);
        string png = dir["edf.png"];
        Assert.Contains("wrote", CliRunner.Ok("data", "plot", Fixture("edf.edf"), "-o", png));
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [Fact]
    public void ALongEdfIsInspectedAndPlottedAsAWindow()
    {
        using var dir = new TempDir();
        var original = Deri.Signals.RecordReader.Read(SignalData.File("ptbxl", "records100", "00000", "00001_lr"));
        var tiled = new Deri.Signals.EcgRecord
        {
            Id = "long", SamplingRate = 100, Leads = original.Leads, Gain = original.Gain, Baseline = original.Baseline, Units = original.Units,
            Digital = original.Digital.Select(d => Enumerable.Range(0, 40000).Select(t => d[t % 1000]).ToArray()).ToArray(),
        };
        string path = dir["long.edf"];
        using (var s = File.Create(path)) Deri.Signals.Clinical.ClinicalWriters.Write(tiled, "edf", s);
        string text = CliRunner.Ok("data", "inspect", path, "--window-from", "200");
        Assert.Contains("Samples     1000 (10 s)", text);
        Assert.Contains("window 200–210 s of a 400 s recording", text);
        string plot = CliRunner.Ok("data", "plot", path, "--from", "30", "-o", dir["w.png"]);
        Assert.Contains("window 30–40 s of a 400 s recording", plot);
        Assert.True(File.Exists(dir["w.png"]));
    }

    [Fact]
    public void GenericDatasetPreparesClinicalFiles()
    {
        using var dir = new TempDir();
        string gen = Directory.CreateDirectory(dir["gen"]).FullName;
        string[] files = ["dicom_implicit.dcm", "aecg.xml", "edf.edf", "bdf.bdf", "muse.xml"];
        foreach (string f in files) File.Copy(Fixture(f), Path.Combine(gen, f));
        File.WriteAllText(Path.Combine(gen, "records.csv"),
            "record,report,split\n" + string.Concat(files.Select(f => $"{f},sinus rhythm,train\n")));
        string store = dir["store"];
        var run = CliRunner.Run(["data", "prepare", "--dataset", "generic", "--root", gen, "--out", store]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("5 records (train 5)", run.Stdout);
        Assert.Contains("0 bad records", run.Stdout);
        using var s = EcgStore.Open(store);
        Assert.Equal(5, s.Entries.Count);
        // DICOM, aECG, EDF and BDF hold the same values, so they preprocess to the same signal.
        var first = s.Signal(0).ToArray();
        for (int i = 1; i < 4; i++)
        {
            var other = s.Signal(i).ToArray();
            Assert.Equal(first.Length, other.Length);
            for (int k = 0; k < first.Length; k++) Assert.True(Math.Abs(first[k] - other[k]) < 1e-5, $"{files[i]}: value {k}: {other[k]} vs {first[k]}");
        }
    }
}
