using System.Globalization;
using Deri.Data.Preprocessing;
using Deri.Measurements;
using Deri.Serving;
using Deri.Serving.Fhir;
using Deri.Signals;
using F = Hl7.Fhir.Model;

namespace Deri.Tests.Serving;

/// <summary>
/// <see cref="FhirBundleBuilder"/> on analyses built by hand (measurements, the cart's values and statements, findings
/// with and without thresholds): every bundle validates against the R4 base specification, carries the LOINC/MDC
/// codes and UCUM units, and its SampledData gives back the samples within the factor's resolution; and the validator
/// rejects a bundle that is not valid.
/// </summary>
public sealed class FhirBundleTests
{
    private static readonly ModelInfo Model = new("/runs/demo/run", "/runs/demo/run/best.ckpt", "deri", [], new PreprocessConfig(), "/runs/demo/report", null,
        new Dictionary<string, string> { ["deri"] = "1.2.3" }, 16);

    private static UploadedRecord Source(int rate = 500, double seconds = 2)
    {
        int n = (int)(rate * seconds);
        var physical = new float[12 * n];
        var random = new Random(5);
        for (int i = 0; i < physical.Length; i++) physical[i] = (float)(random.NextDouble() * 4 - 2);
        physical[3 * n + 7] = float.NaN;   // model lead 3 = aVR: a missing sample
        return new UploadedRecord("rec1", "wfdb", rate, n, LeadOrder.Standard, physical);
    }

    private static AnalysisResult Result(bool full = true)
    {
        var plot = LeadOrder.Standard.Select((_, k) => Enumerable.Range(0, 500).Select(t => t == 11 && k == 2 ? null : (float?)MathF.Round(MathF.Sin(t * 0.05f + k), 4)).ToArray()).ToList();
        var findings = new List<Finding>
        {
            new("NORM", "normal ECG", 0.42, 0.30, true),
            new("MI", "myocardial infarction", 0.10, 0.20, false),
        };
        if (!full) findings = [new("NORM", "normal ECG", 0.42, null, null)];
        return new AnalysisResult(
            new RecordFacts("rec1", "wfdb", LeadOrder.Standard, 500, 1000, 2),
            new PlotSignal(250, "mV", LeadOrder.Standard, plot),
            findings,
            full ? "sinus rhythm. normal ecg." : null,
            null,
            full ? new EcgMeasurements(72, 833.3, 160, 92, 380, 416.3, 404.1, 45, 30, 40, 10, ["T end found on 11 of 12 leads"], []) : null,
            full ? new Dictionary<string, double> { [DeviceMeasurementKeys.HeartRate] = 71, [DeviceMeasurementKeys.QtcUnspecified] = 410, [DeviceMeasurementKeys.Pr] = 158 } : null,
            full ? ["Sinus rhythm", "Normal ECG"] : null);
    }

    private static string Json(AnalysisResult r, UploadedRecord? source = null) => FhirBundleBuilder.ToJson(FhirBundleBuilder.Build(r, Model, source));

    private static List<F.Observation> Observations(F.Bundle b) => b.Entry.Select(e => e.Resource).OfType<F.Observation>().ToList();

    private static F.Resource Resolve(F.Bundle b, F.ResourceReference? r) => b.Entry.Single(e => e.FullUrl == r?.Reference).Resource!;

    [Fact]
    public void AFullAnalysisIsAValidCollectionWithTheReportAsConclusion()
    {
        var bundle = FhirValidation.AssertValid(Json(Result(), Source()));
        Assert.Equal(F.Bundle.BundleType.Collection, bundle.Type);
        var report = Assert.Single(bundle.Entry.Select(e => e.Resource).OfType<F.DiagnosticReport>());
        Assert.Equal(F.DiagnosticReport.DiagnosticReportStatus.Final, report.Status);
        Assert.Contains(report.Code.Coding, c => c.System == "http://loinc.org" && c.Code == "11524-6");
        Assert.Contains(report.Category.SelectMany(c => c.Coding), c => c.Code == "EC");
        Assert.Equal("sinus rhythm. normal ecg.", report.Conclusion);
        Assert.Null(report.Subject);
        // Every Observation is a result of the report.
        Assert.Equal(Observations(bundle).Count, report.Result.Count);
        Assert.All(report.Result, r => Assert.IsType<F.Observation>(Resolve(bundle, r)));
    }

    [Fact]
    public void MeasurementsCarryLoincCodesAndUcumUnitsAndTheCartsValuesAreMarkedAsSuch()
    {
        var bundle = FhirValidation.AssertValid(Json(Result(), Source()));
        var deri = Observations(bundle).Where(o => o.Method?.Text?.StartsWith("Deri: measured", StringComparison.Ordinal) == true).ToList();
        (string? Loinc, string Unit, decimal Value)[] expected =
        [
            ("8867-4", "/min", 72m), (null, "ms", 833.3m), ("8625-6", "ms", 160m), ("8633-4", "ms", 92m), ("8634-2", "ms", 380m),
            ("8636-7", "ms", 416.3m), ("8636-7", "ms", 404.1m), ("8626-4", "deg", 45m), ("8632-2", "deg", 30m), ("8638-0", "deg", 40m),
        ];
        Assert.Equal(expected.Length, deri.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            var q = Assert.IsType<F.Quantity>(deri[i].Value);
            Assert.Equal(expected[i].Value, q.Value);
            Assert.Equal("http://unitsofmeasure.org", q.System);
            Assert.Equal(expected[i].Unit, q.Code);
            if (expected[i].Loinc is { } code) Assert.Equal(code, Assert.Single(deri[i].Code.Coding).Code);
            else Assert.Empty(deri[i].Code.Coding);   // RR: text only, no invented code
            Assert.IsType<F.Device>(Resolve(bundle, deri[i].Device));
            Assert.Equal("T end found on 11 of 12 leads", Assert.Single(deri[i].Note).Text);
        }
        Assert.Contains("Bazett", deri[5].Code.Text);
        Assert.Contains("Bazett", deri[5].Method!.Text);
        Assert.Contains("Fridericia", deri[6].Code.Text);

        var cart = Observations(bundle).Where(o => o.Method?.Text?.StartsWith("Recording device", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(4, cart.Count);   // heart rate, PR, QTc (formula not stated), statements
        var cartDevice = Assert.IsType<F.Device>(Resolve(bundle, cart[0].Device));
        Assert.All(cart, o => Assert.Same(cartDevice, Resolve(bundle, o.Device)));
        Assert.NotSame(cartDevice, Resolve(bundle, deri[0].Device));
        Assert.Equal(["8867-4", "8625-6", "8636-7"], cart.Take(3).Select(o => o.Code.Coding.Single().Code));
        Assert.Contains("not stated", cart[2].Code.Text);
        Assert.Equal("Sinus rhythm\nNormal ECG", Assert.IsType<F.FhirString>(cart[3].Value).Value);
    }

    [Fact]
    public void FindingsCarryScoreThresholdInterpretationAndTheModelAsDevice()
    {
        var bundle = FhirValidation.AssertValid(Json(Result(), Source()));
        var findings = Observations(bundle).Where(o => o.Code!.Text!.Contains("zero-shot", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, findings.Count);
        var norm = findings.Single(o => o.Code!.Text!.StartsWith("NORM", StringComparison.Ordinal));
        Assert.Equal(0.42m, Assert.IsType<F.Quantity>(norm.Value).Value);
        Assert.Equal(0.30m, Assert.IsType<F.Quantity>(Assert.Single(norm.Component).Value).Value);
        Assert.Equal("POS", norm.Interpretation.Single().Coding.Single().Code);
        Assert.Equal("NEG", findings.Single(o => o.Code!.Text!.StartsWith("MI", StringComparison.Ordinal)).Interpretation.Single().Coding.Single().Code);
        var device = Assert.IsType<F.Device>(Resolve(bundle, norm.Device));
        Assert.Contains("run", device.DeviceName.Single().Name);
        Assert.Contains(device.Version, v => v.Type!.Text == "deri" && v.Value == "1.2.3");
        Assert.Contains(device.Version, v => v.Type!.Text == "checkpoint" && v.Value == "best.ckpt");
        Assert.Contains(device.Version, v => v.Type!.Text == "report model run" && v.Value == "report");

        // Without thresholds: no interpretation, a note says why; no measurements, no report: no conclusion.
        var bare = FhirValidation.AssertValid(Json(Result(full: false)));
        var only = Assert.Single(Observations(bare), o => o.Code!.Text!.Contains("zero-shot", StringComparison.Ordinal));
        Assert.Empty(only.Interpretation);
        Assert.Empty(only.Component);
        Assert.Contains("threshold", only.Note.Single().Text);
        Assert.Null(bare.Entry.Select(e => e.Resource).OfType<F.DiagnosticReport>().Single().Conclusion);
        Assert.Single(bare.Entry.Select(e => e.Resource).OfType<F.Device>());   // no cart values: no cart device
    }

    [Fact]
    public void SampledDataGivesBackTheSamplesWithinTheFactorsResolution()
    {
        var source = Source();
        var bundle = FhirValidation.AssertValid(Json(Result(), source));
        var tracing = Observations(bundle).Single(o => o.Code.Coding.Any(c => c.Code == "131328"));
        Assert.Equal(12, tracing.Component.Count);
        for (int k = 0; k < 12; k++)
        {
            string lead = LeadOrder.Standard[k];
            var component = tracing.Component[k];
            Assert.Equal(FhirBundleBuilder.LeadCodes[lead].Code, component.Code.Coding.Single().Code);
            Assert.Equal("urn:oid:2.16.840.1.113883.6.24", component.Code.Coding.Single().System);
            var sd = Assert.IsType<F.SampledData>(component.Value);
            Assert.Equal(2m, sd.Period);                // 500 Hz
            Assert.Equal(0m, sd.Origin.Value);
            Assert.Equal("mV", sd.Origin.Code);
            Assert.Equal(1, sd.Dimensions);
            var data = sd.Data!.Split(' ');
            Assert.Equal(source.Samples, data.Length);
            int m = LeadOrder.Model.ToList().IndexOf(lead);
            for (int t = 0; t < source.Samples; t++)
            {
                float expected = source.Physical[m * source.Samples + t];
                if (float.IsNaN(expected)) { Assert.Equal("E", data[t]); continue; }
                double back = (double)sd.Origin.Value!.Value + double.Parse(data[t], CultureInfo.InvariantCulture) * (double)sd.Factor!.Value;
                Assert.True(Math.Abs(back - expected) <= (double)FhirBundleBuilder.SampleFactor / 2 + 1e-6, $"lead {lead} sample {t}: {back} vs {expected}");
            }
        }
        Assert.Contains(tracing.Component.Select(c => ((F.SampledData)c.Value!).Data!), d => d.Split(' ').Contains("E"));

        // Without the source record the tracing is the answer's plotted signal (250 Hz here), its gaps "E".
        var plotted = Observations(FhirValidation.AssertValid(Json(Result()))).Single(o => o.Code.Coding.Any(c => c.Code == "131328"));
        var iii = (F.SampledData)plotted.Component[2].Value!;
        Assert.Equal(4m, iii.Period);
        Assert.Equal("E", iii.Data!.Split(' ')[11]);
        Assert.Equal(500, iii.Data!.Split(' ').Length);
    }

    [Fact]
    public void TheValidatorRejectsObservationsWithoutStatusOrCodeAndDanglingReferences()
    {
        var bundle = FhirBundleBuilder.Build(Result(), Model, Source());
        var obs = Observations(bundle).First(o => o.Code.Coding.Any(c => c.Code == "8867-4"));
        obs.Status = null;
        var problems = FhirValidation.Problems(FhirBundleBuilder.ToJson(bundle));
        // Both the attribute validation and the profile validator (against the base StructureDefinition) see it.
        Assert.Contains(problems, p => p.StartsWith("profile:", StringComparison.Ordinal) && p.Contains("status", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(problems, p => p.StartsWith("parse:", StringComparison.Ordinal) && p.Contains("status", StringComparison.Ordinal));

        // An invariant only the profile validator checks: a Quantity with a unit code needs its system (qty-3).
        bundle = FhirBundleBuilder.Build(Result(), Model, Source());
        ((F.Quantity)Observations(bundle).First(o => o.Code!.Coding.Any(c => c.Code == "8867-4")).Value!).System = null;
        problems = FhirValidation.Problems(FhirBundleBuilder.ToJson(bundle));
        Assert.Contains(problems, p => p.StartsWith("profile:", StringComparison.Ordinal) && p.Contains("qty-3", StringComparison.Ordinal));

        bundle = FhirBundleBuilder.Build(Result(), Model, Source());
        Observations(bundle).First().Code = null!;
        problems = FhirValidation.Problems(FhirBundleBuilder.ToJson(bundle));
        Assert.Contains(problems, p => p.Contains("code", StringComparison.OrdinalIgnoreCase));

        bundle = FhirBundleBuilder.Build(Result(), Model, Source());
        Observations(bundle).First().Device = new F.ResourceReference("urn:uuid:00000000-0000-0000-0000-000000000001");
        problems = FhirValidation.Problems(FhirBundleBuilder.ToJson(bundle));
        Assert.Contains(problems, p => p.Contains("resolves to no entry", StringComparison.Ordinal));
    }

    [Fact]
    public void ALeadBeyondFhirsStringLimitIsRefusedNotCut()
    {
        var e = Assert.Throws<InputFormatException>(() => FhirBundleBuilder.Build(Result(), Model, Source(rate: 1000, seconds: 300)));
        Assert.Contains("rec1: lead I does not fit one FHIR SampledData", e.Message);
    }

    [Fact]
    public void ANonFiniteScoreIsRefusedNamingTheRecord()
    {
        var r = Result() with { Findings = [new Finding("NORM", "normal ECG", double.NaN, 0.3, false)] };
        var e = Assert.Throws<InputFormatException>(() => FhirBundleBuilder.Build(r, Model, Source()));
        Assert.Contains("rec1", e.Message);
        Assert.Contains("NaN", e.Message);
    }
}
