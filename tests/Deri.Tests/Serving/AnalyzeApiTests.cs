using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Deri.Tests.Data;

namespace Deri.Tests.Serving;

/// <summary>The HTTP API on real shared records and on a corpus of bad uploads (in-memory test server).</summary>
[Collection("serve-run")]
public sealed class AnalyzeApiTests(ServeRunFixture fx)
{
    private static readonly string Ptb = DataFiles.Shared("ptbxl", "records100", "00000", "00001_lr");

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files) form.Add(new ByteArrayContent(bytes), "file", name);
        return form;
    }

    private static (string, byte[]) FromDisk(string path) => (Path.GetFileName(path), File.ReadAllBytes(path));

    private async Task<(HttpStatusCode Status, JsonElement Body)> Post(HttpContent content)
    {
        using var response = await fx.Client.PostAsync("/api/v1/analyze", content);
        string text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return (response.StatusCode, doc.RootElement.Clone());
    }

    private async Task<JsonElement> Ok(HttpContent content)
    {
        var (status, body) = await Post(content);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        return body;
    }

    private async Task Refused(HttpContent content, int status, string needle)
    {
        using var response = await fx.Client.PostAsync("/api/v1/analyze", content);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(text);
        string detail = doc.RootElement.GetProperty("detail").GetString() ?? "";
        Assert.Contains(needle, detail, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The same PTB-XL record exported by other tools as DICOM (pydicom), aECG and EDF gives the WFDB upload's scores.</summary>
    [Fact]
    public async Task ClinicalExportsOfTheRecordGetTheSameFindings()
    {
        static double[] Scores(JsonElement body) => body.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("score").GetDouble()).ToArray();
        var wfdb = Scores(await Ok(Form(FromDisk(Ptb + ".hea"), FromDisk(Ptb + ".dat"))));
        foreach (var (file, format) in ((string, string)[])[("dicom_implicit.dcm", "dicom"), ("aecg.xml", "aecg"), ("edf.edf", "edf"), ("muse.xml", "muse-xml")])
        {
            var body = await Ok(Form(FromDisk(Signals.SignalFixtures.File(Path.Combine("formats", file)))));
            Assert.Equal(format, body.GetProperty("record").GetProperty("format").GetString());
            Assert.Equal(10, body.GetProperty("record").GetProperty("duration_s").GetDouble());
            // MUSE stores 8 leads; its derived limb leads differ from PTB-XL's own by the 1 µV rounding, so only its shape is checked.
            if (format != "muse-xml") Assert.Equal(wfdb, Scores(body));
            // The cart's own measurements and statements come through beside Deri's (EDF carries none).
            if (format == "edf")
            {
                Assert.Equal(JsonValueKind.Null, body.GetProperty("device_measurements").ValueKind);
                continue;
            }
            var cart = Deri.Signals.RecordReader.Read(Signals.SignalFixtures.File(Path.Combine("formats", file)));
            var device = body.GetProperty("device_measurements");
            Assert.NotEmpty(cart.DeviceMeasurements);
            foreach (var (key, value) in cart.DeviceMeasurements) Assert.Equal(value, device.GetProperty(key).GetDouble());
            Assert.Equal(cart.DeviceStatements, body.GetProperty("device_statements").EnumerateArray().Select(e => e.GetString()!).ToArray());
        }
        await Refused(Form(FromDisk(Signals.SignalFixtures.File(Path.Combine("formats", "dicom_deflated.dcm")))), 422, "deflated explicit VR little endian");
    }

    [Fact]
    public async Task TheMeasurementsBlockIsWhatDeriMeasureGivesForTheRecord()
    {
        var body = await Ok(Form(FromDisk(Ptb + ".hea"), FromDisk(Ptb + ".dat")));
        var m = body.GetProperty("measurements");
        var expected = Deri.Measurements.EcgMeasurer.Measure(Deri.Signals.RecordReader.Read(Ptb + ".hea"));
        Assert.Equal(expected.HeartRateBpm, m.GetProperty("heart_rate_bpm").GetDouble());
        Assert.Equal(expected.PrMs, m.GetProperty("pr_ms").GetDouble());
        Assert.Equal(expected.QrsMs, m.GetProperty("qrs_ms").GetDouble());
        Assert.Equal(expected.QtcBazettMs, m.GetProperty("qtc_bazett_ms").GetDouble());
        Assert.Equal(expected.QrsAxisDeg, m.GetProperty("qrs_axis_deg").GetDouble());   // an upload is in mV: axes are given
        Assert.InRange(m.GetProperty("heart_rate_bpm").GetDouble(), 55, 75);
        var beats = m.GetProperty("median_beats");
        Assert.Equal(12, beats.GetArrayLength());
        Assert.Equal(100, beats[0].GetProperty("sampling_rate").GetDouble());
        Assert.Equal(JsonValueKind.Array, m.GetProperty("notes").ValueKind);

        // A 1.5 s CSV is too short to measure: the findings come, the measurements are null.
        var csv = new MultipartFormDataContent { { new ByteArrayContent(Csv(500, 1.5)), "file", "short.csv" }, { new StringContent("500"), "rate" } };
        var s = await Ok(csv);
        Assert.Equal(JsonValueKind.Null, s.GetProperty("measurements").ValueKind);
    }

    [Fact]
    public async Task APtbXlRecordGetsFactsFindingsSignalAndSimilarCases()
    {
        var body = await Ok(Form(FromDisk(Ptb + ".hea"), FromDisk(Ptb + ".dat")));
        var record = body.GetProperty("record");
        Assert.Equal("00001_lr", record.GetProperty("id").GetString());
        Assert.Equal(100, record.GetProperty("sampling_rate").GetDouble());
        Assert.Equal(10, record.GetProperty("duration_s").GetDouble());
        Assert.Equal(12, record.GetProperty("leads").GetArrayLength());

        var findings = body.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(fx.Service.ClassNames.Count, findings.Count);
        var scores = findings.Select(f => f.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.All(findings, f => Assert.False(string.IsNullOrEmpty(f.GetProperty("prompt").GetString())));
        Assert.All(scores, s => Assert.InRange(s, -1.0001, 1.0001));

        var signal = body.GetProperty("signal");
        Assert.Equal("mV", signal.GetProperty("units").GetString());
        Assert.Equal(["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"],
            signal.GetProperty("leads").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(1000, signal.GetProperty("data")[1].GetArrayLength());
        Assert.Equal(5, body.GetProperty("similar").GetArrayLength());
        Assert.Equal(JsonValueKind.String, body.GetProperty("report").ValueKind);   // the fixture's report model

        // The same record zipped (with folder names inside the archive) gives the same scores.
        var zipped = await Ok(Form(("rec.zip", Zip(("a/b/00001_lr.hea", File.ReadAllBytes(Ptb + ".hea")), ("../../00001_lr.dat", File.ReadAllBytes(Ptb + ".dat"))))));
        Assert.Equal(scores, zipped.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("score").GetDouble()));
    }

    [Fact]
    public async Task CincCpscAndCsvRecordsAreAccepted()
    {
        string cinc = DataFiles.Shared("cinc2021", "E07500");
        var c = await Ok(Form(FromDisk(cinc + ".hea"), FromDisk(cinc + ".mat")));
        Assert.Equal("cinc-mat", c.GetProperty("record").GetProperty("format").GetString());
        Assert.Equal(250, c.GetProperty("signal").GetProperty("sampling_rate").GetDouble());

        string cpsc = Directory.GetFiles(DataFiles.Shared("cpsc2018"), "A*.mat").Order().First();
        var p = await Ok(Form(FromDisk(cpsc)));
        Assert.Equal("cpsc2018-mat", p.GetProperty("record").GetProperty("format").GetString());

        var csv = new MultipartFormDataContent { { new ByteArrayContent(Csv(500, 2.0)), "file", "ecg.csv" }, { new StringContent("500"), "rate" } };
        var s = await Ok(csv);
        Assert.Equal(2.0, s.GetProperty("record").GetProperty("duration_s").GetDouble());
    }

    [Fact]
    public async Task BadUploadsGetProblemDocumentsAndTheServiceGoesOn()
    {
        byte[] hea = File.ReadAllBytes(Ptb + ".hea"), dat = File.ReadAllBytes(Ptb + ".dat");
        await Refused(new MultipartFormDataContent { { new StringContent("500"), "rate" } }, 400, "no file");
        await Refused(Form(("00001_lr.dat", dat)), 400, ".hea");
        await Refused(Form(("00001_lr.hea", hea)), 400, "00001_lr.dat");
        // A lying header: the signal file holds half the samples it promises.
        await Refused(Form(("00001_lr.hea", hea), ("00001_lr.dat", dat[..(dat.Length / 2)])), 422, "truncated");
        await Refused(Form(("x.hea", Encoding.ASCII.GetBytes("this is not a header\n")), ("x.dat", dat)), 422, "x.hea");
        await Refused(Form(("x.hea", Encoding.ASCII.GetBytes("x 12 100 1000\n" + string.Concat(Enumerable.Repeat("../../etc/passwd 16 1000 16 0 0 0 0 I\n", 12))))), 422, "plain file name");
        await Refused(Form(("r.mat", Encoding.ASCII.GetBytes("garbage that is not MAT v5"))), 422, "MAT v5");
        await Refused(Form(("r.png", [1, 2, 3])), 415, "r.png");
        var nan = new MultipartFormDataContent { { new ByteArrayContent(Csv(500, 2.0, nanAt: 7)), "file", "n.csv" }, { new StringContent("500"), "rate" } };
        await Refused(nan, 422, "not a finite number");
        await Refused(Form(("n.csv", Csv(500, 2.0))), 400, "rate");
        // Too large, and a zip bomb: 3 MB of zeros compresses to a few kB but unpacks past the 2 MB cap.
        await Refused(Form(("big.dat", new byte[3 * 1024 * 1024]), ("big.hea", hea)), 413, "limit");
        await Refused(Form(("bomb.zip", Zip(("00001_lr.hea", hea), ("00001_lr.dat", new byte[3 * 1024 * 1024])))), 413, "unpacks");
        await Refused(Form(("cut.zip", Zip(("00001_lr.hea", hea))[..40])), 422, "cut.zip");

        using var health = await fx.Client.GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task ModelHealthOpenApiAndCasesAnswer()
    {
        using var model = JsonDocument.Parse(await fx.Client.GetStringAsync("/api/v1/model"));
        Assert.Equal(fx.Service.ClassNames, model.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetProperty("class").GetString()));
        Assert.Equal(100, model.RootElement.GetProperty("preprocessing").GetProperty("targetRate").GetInt32());
        Assert.False(string.IsNullOrEmpty(model.RootElement.GetProperty("versions").GetProperty("libtorch").GetString()));
        using var openapi = JsonDocument.Parse(await fx.Client.GetStringAsync("/openapi/v1.json"));
        Assert.True(openapi.RootElement.GetProperty("paths").TryGetProperty("/api/v1/analyze", out _));
        using var index = fx.OpenIndex();
        string id = index.Manifest.Entries[0].Id;
        using var c = JsonDocument.Parse(await fx.Client.GetStringAsync($"/api/v1/cases/{id}"));
        Assert.Equal(index.Manifest.Entries[0].Report, c.RootElement.GetProperty("report").GetString());
        Assert.Equal(12, c.RootElement.GetProperty("signal").GetProperty("data").GetArrayLength());
        using var missing = await fx.Client.GetAsync("/api/v1/cases/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("<title>", await fx.Client.GetStringAsync("/"));
    }

    [Fact]
    public async Task SimultaneousRequestsShareForwardPasses()
    {
        byte[] hea = File.ReadAllBytes(Ptb + ".hea"), dat = File.ReadAllBytes(Ptb + ".dat");
        long before = fx.Service.Batches, servedBefore = fx.Service.Served;
        var tasks = Enumerable.Range(0, 12).Select(_ => Ok(Form(("00001_lr.hea", hea), ("00001_lr.dat", dat)))).ToList();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(12, fx.Service.Served - servedBefore);
        Assert.True(fx.Service.Batches - before <= 12);
        var first = results[0].GetProperty("findings")[0].GetProperty("score").GetDouble();
        Assert.All(results, r => Assert.Equal(first, r.GetProperty("findings")[0].GetProperty("score").GetDouble(), 4));
    }

    private static byte[] Csv(int rate, double seconds, int nanAt = -1)
    {
        var sb = new StringBuilder("I,II,III,aVR,aVL,aVF,V1,V2,V3,V4,V5,V6\n");
        int n = (int)(rate * seconds);
        for (int t = 0; t < n; t++)
            sb.AppendJoin(',', Enumerable.Range(0, 12).Select(k => t == nanAt && k == 3 ? "NaN" : (0.5 * Math.Sin(2 * Math.PI * 1.2 * t / rate + k)).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture))).Append('\n');
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static byte[] Zip(params (string Name, byte[] Bytes)[] entries)
    {
        using var m = new MemoryStream();
        using (var z = new ZipArchive(m, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var s = z.CreateEntry(name, CompressionLevel.Optimal).Open();
                s.Write(bytes);
            }
        return m.ToArray();
    }
}
