using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Deri.Serving.Fhir;
using Deri.Signals;
using Deri.Tests.Cli;
using Deri.Tests.Data;
using F = Hl7.Fhir.Model;

namespace Deri.Tests.Serving;

/// <summary>
/// FHIR from the real service and the real command on shared records: <c>POST /api/v1/analyze</c> with
/// <c>Accept: application/fhir+json</c>, and <c>deri analyze</c> in its three formats with a bad file among good ones.
/// </summary>
[Collection("serve-run")]
public sealed class AnalyzeFhirTests(ServeRunFixture fx)
{
    private static readonly string Ptb = DataFiles.Shared("ptbxl", "records100", "00000", "00001_lr");
    private static readonly string Cinc = DataFiles.Shared("cinc2021", "E07500");

    private static MultipartFormDataContent Form(params string[] paths)
    {
        var form = new MultipartFormDataContent();
        foreach (string p in paths) form.Add(new ByteArrayContent(File.ReadAllBytes(p)), "file", Path.GetFileName(p));
        return form;
    }

    private async Task<(HttpResponseMessage Response, string Body)> Post(HttpContent content, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/analyze") { Content = content };
        if (accept is not null) request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse(accept));
        var response = await fx.Client.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    private static List<F.Observation> Findings(F.Bundle b) =>
        b.Entry.Select(e => e.Resource).OfType<F.Observation>().Where(o => o.Code?.Text?.Contains("zero-shot", StringComparison.Ordinal) == true).ToList();

    private static double Score(F.Observation o) => (double)((F.Quantity)o.Value!).Value!.Value;

    private static string ClassOf(F.Observation o) => o.Code!.Text!.Split(' ')[0];

    [Fact]
    public async Task AcceptFhirJsonGetsAValidBundleWithTheSameAnalysisAsTheJsonAnswer()
    {
        var (plain, plainBody) = await Post(Form(Ptb + ".hea", Ptb + ".dat"), null);
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("application/json", plain.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(plainBody);

        var (response, body) = await Post(Form(Ptb + ".hea", Ptb + ".dat"), "application/fhir+json");
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal(FhirBundleBuilder.MediaType, response.Content.Headers.ContentType?.MediaType);
        var bundle = FhirValidation.AssertValid(body);

        var report = bundle.Entry.Select(e => e.Resource).OfType<F.DiagnosticReport>().Single();
        Assert.Equal(json.RootElement.GetProperty("report").GetString(), report.Conclusion);
        Assert.Equal("00001_lr", report.Identifier.Single().Value);
        var findings = Findings(bundle);
        Assert.Equal(fx.Service.ClassNames.Count, findings.Count);
        var expected = json.RootElement.GetProperty("findings").EnumerateArray().ToDictionary(f => f.GetProperty("class").GetString()!, f => f.GetProperty("score").GetDouble());
        Assert.All(findings, f => Assert.Equal(expected[ClassOf(f)], Score(f), 5));

        // The tracing is the record itself at its own 100 Hz, within 1 µV.
        var record = RecordReader.Read(Ptb + ".hea");
        var tracing = bundle.Entry.Select(e => e.Resource).OfType<F.Observation>().Single(o => o.Code!.Coding.Any(c => c.Code == "131328"));
        var leadII = (F.SampledData)tracing.Component[1].Value!;
        Assert.Equal(10m, leadII.Period);
        var data = leadII.Data!.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture) * (double)leadII.Factor!.Value).ToArray();
        int ii = record.Leads.Select(LeadOrder.Normalize).ToList().IndexOf("II");
        Assert.Equal(record.Samples, data.Length);
        for (int t = 0; t < data.Length; t++) Assert.True(Math.Abs(data[t] - record.Physical(ii, t)) <= 0.0005 + 1e-6, $"sample {t}");

        // An explicit preference for Deri's JSON, and a refusal, stay as they were.
        var (other, _) = await Post(Form(Ptb + ".hea", Ptb + ".dat"), "application/json");
        Assert.Equal("application/json", other.Content.Headers.ContentType?.MediaType);
        var (refused, _) = await Post(Form(Ptb + ".dat"), "application/fhir+json");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        using var openapi = JsonDocument.Parse(await fx.Client.GetStringAsync("/openapi/v1.json"));
        var content = openapi.RootElement.GetProperty("paths").GetProperty("/api/v1/analyze").GetProperty("post").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.True(content.TryGetProperty("application/fhir+json", out _), content.ToString());
        Assert.True(content.TryGetProperty("application/json", out _), content.ToString());
    }

    [Fact]
    public void DeriAnalyzeWritesTextJsonAndFhirAndSkipsABadFile()
    {
        string dir = fx.NewDir("analyze");
        string bad = Path.Combine(dir, "broken.hea");
        File.WriteAllText(bad, "this is not a header\n");
        string[] common = ["--run", fx.Run, "--report-model", fx.ReportModel, "--threads", "1", "--device", "cpu"];

        var text = CliRunner.Run(["analyze", Ptb + ".hea", bad, Cinc + ".hea", .. common], dir);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("00001_lr (wfdb, 100 Hz, 10 s, 12 leads)", text.Stdout);
        Assert.Contains("E07500 (cinc-mat", text.Stdout);
        Assert.Contains("findings at or above threshold:", text.Stdout);
        Assert.Contains("  report: ", text.Stdout);
        Assert.Contains($"skipped {bad}: ", text.Stderr);
        Assert.Contains("2 records analysed, 1 skipped", text.Stderr);

        string jsonl = Path.Combine(dir, "out.jsonl");
        var json = CliRunner.Run(["analyze", Ptb + ".hea", bad, Cinc + ".mat", "--format", "json", "--out", jsonl, .. common], dir);
        Assert.True(json.ExitCode == 0, json.Stderr);
        Assert.Contains($"2 records analysed (1 skipped) -> {jsonl}", json.Stdout);
        var lines = File.ReadAllLines(jsonl);
        Assert.Equal(2, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            Assert.Equal("00001_lr", first.RootElement.GetProperty("record").GetProperty("id").GetString());
            Assert.Equal(fx.Service.ClassNames.Count, first.RootElement.GetProperty("findings").GetArrayLength());
        }
        using (var second = JsonDocument.Parse(lines[1])) Assert.Equal("E07500", second.RootElement.GetProperty("record").GetProperty("id").GetString());

        // The same --out again is refused (usage) unless --overwrite is given.
        var again = CliRunner.Run(["analyze", Ptb + ".hea", "--format", "json", "--out", jsonl, .. common], dir);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("--overwrite", again.Stderr);

        var fhir = CliRunner.Run(["analyze", Ptb + ".hea", bad, Cinc + ".hea", "--format", "fhir", .. common], dir);
        Assert.True(fhir.ExitCode == 0, fhir.Stderr);
        var bundles = fhir.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, bundles.Length);
        var b0 = FhirValidation.AssertValid(bundles[0]);
        FhirValidation.AssertValid(bundles[1]);
        Assert.Equal(fx.Service.ClassNames.Count, Findings(b0).Count);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            var scores = first.RootElement.GetProperty("findings").EnumerateArray().ToDictionary(f => f.GetProperty("class").GetString()!, f => f.GetProperty("score").GetDouble());
            Assert.All(Findings(b0), f => Assert.Equal(scores[ClassOf(f)], Score(f), 5));
        }

        var none = CliRunner.Run(["analyze", bad, Path.Combine(dir, "missing.hea"), .. common], dir);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains($"skipped {bad}", none.Stderr);
        Assert.Contains("missing.hea", none.Stderr);
        Assert.Contains("none of the 2 records could be analysed", none.Stderr);
    }
}
