using System.Globalization;
using System.Net;
using System.Text;
using Deri.Measurements;
using Deri.Signals;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Deri.IO;

namespace Deri.Serving.Fhir;

/// <summary>
/// Turns one <see cref="AnalysisResult"/> into an HL7 FHIR R4 <c>Bundle</c> of type <c>collection</c> that a hospital
/// system can take in: a <c>DiagnosticReport</c> for the ECG study (LOINC 11524-6 "EKG study", category v2-0074 EC,
/// the generated report as its conclusion) whose results are an <c>Observation</c> per measurement (LOINC code and UCUM
/// unit), an <c>Observation</c> per zero-shot finding (score, threshold, interpretation POS/NEG), the recording
/// device's own measurements and statements as separate Observations, and the tracing as an <c>Observation</c> with a
/// <c>SampledData</c> component per lead (MDC lead codes); and a <c>Device</c> for Deri's model and, where the file
/// carried the cart's values, one for the recording device.
/// </summary>
/// <remarks>
/// Why <c>collection</c>: a <c>document</c> bundle needs a <c>Composition</c> and is an attested, immutable document; a
/// <c>transaction</c> would instruct the receiver's server to create resources. A collection is a set of resources with
/// no processing obligation, which is what an analysis is: the receiving system decides what to store and attaches the
/// patient (<c>subject</c> is absent because an uploaded record carries no patient identity; the base specification
/// allows 0..1). Entries are identified by <c>urn:uuid:</c> full URLs and every reference points to one of them.
/// </remarks>
public static class FhirBundleBuilder
{
    /// <summary>The media type of FHIR JSON (<c>application/fhir+json</c>).</summary>
    public const string MediaType = "application/fhir+json";

    /// <summary>LOINC's system URI.</summary>
    public const string Loinc = "http://loinc.org";

    /// <summary>UCUM's system URI.</summary>
    public const string Ucum = "http://unitsofmeasure.org";

    /// <summary>ISO/IEEE 11073-10101 (MDC) codes as HL7 names them.</summary>
    public const string Mdc = "urn:oid:2.16.840.1.113883.6.24";

    /// <summary>Each lead's sample in <c>SampledData.data</c> is an integer multiple of this factor (mV): 1 µV.</summary>
    public const decimal SampleFactor = 0.001m;

    private const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
    private const string DiagnosticServiceSections = "http://terminology.hl7.org/CodeSystem/v2-0074";
    private const string Interpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

    /// <summary>A measurement's code: LOINC where LOINC has one, else text only; and its UCUM unit.</summary>
    /// <param name="Key">The <see cref="DeviceMeasurementKeys"/> name.</param>
    /// <param name="LoincCode">LOINC code, or null for a text-only concept.</param>
    /// <param name="Display">LOINC display (or the text of a text-only concept).</param>
    /// <param name="Text">What the concept says to a reader (names the QTc formula).</param>
    /// <param name="Unit">UCUM code (<c>/min</c>, <c>ms</c>, <c>deg</c>).</param>
    public sealed record MeasurementCode(string Key, string? LoincCode, string Display, string Text, string Unit);

    /// <summary>
    /// The measurement codes. QTc by Bazett and by Fridericia share LOINC 8636-7 ("Q-T interval corrected"); the text
    /// and the Observation's method name the formula. 8867-4 (and 11524-6 for the study) appear in the R4 specification's
    /// own value sets; the interval and axis codes are LOINC's EKG measurement codes as issue 24 lists them, not checked
    /// against a LOINC table (none ships with the build). The mean RR interval has no LOINC code here: no verified code
    /// for it was at hand, so it is a text-only concept rather than a guessed one.
    /// </summary>
    public static IReadOnlyList<MeasurementCode> MeasurementCodes { get; } =
    [
        new(DeviceMeasurementKeys.HeartRate, "8867-4", "Heart rate", "Heart rate (ventricular)", "/min"),
        new(DeviceMeasurementKeys.Rr, null, "RR interval (mean)", "RR interval (mean)", "ms"),
        new(DeviceMeasurementKeys.Pr, "8625-6", "P-R Interval", "PR interval", "ms"),
        new(DeviceMeasurementKeys.Qrs, "8633-4", "QRS duration", "QRS duration", "ms"),
        new(DeviceMeasurementKeys.Qt, "8634-2", "Q-T interval", "QT interval", "ms"),
        new(DeviceMeasurementKeys.QtcBazett, "8636-7", "Q-T interval corrected", "QTc (Bazett: QT / sqrt(RR in s))", "ms"),
        new(DeviceMeasurementKeys.QtcFridericia, "8636-7", "Q-T interval corrected", "QTc (Fridericia: QT / cbrt(RR in s))", "ms"),
        new(DeviceMeasurementKeys.QtcUnspecified, "8636-7", "Q-T interval corrected", "QTc (formula not stated by the device)", "ms"),
        new(DeviceMeasurementKeys.PAxis, "8626-4", "P wave axis", "P axis (frontal)", "deg"),
        new(DeviceMeasurementKeys.QrsAxis, "8632-2", "QRS axis", "QRS axis (frontal)", "deg"),
        new(DeviceMeasurementKeys.TAxis, "8638-0", "T wave axis", "T axis (frontal)", "deg"),
    ];

    /// <summary>MDC codes (IEEE 11073-10101, partition 2) of the 12 leads' electric potential, MDC_ECG_ELEC_POTL_*.</summary>
    public static IReadOnlyDictionary<string, (string Code, string Display)> LeadCodes { get; } = new Dictionary<string, (string, string)>
    {
        ["I"] = ("131329", "MDC_ECG_ELEC_POTL_I"),
        ["II"] = ("131330", "MDC_ECG_ELEC_POTL_II"),
        ["III"] = ("131389", "MDC_ECG_ELEC_POTL_III"),
        ["aVR"] = ("131390", "MDC_ECG_ELEC_POTL_AVR"),
        ["aVL"] = ("131391", "MDC_ECG_ELEC_POTL_AVL"),
        ["aVF"] = ("131392", "MDC_ECG_ELEC_POTL_AVF"),
        ["V1"] = ("131331", "MDC_ECG_ELEC_POTL_V1"),
        ["V2"] = ("131332", "MDC_ECG_ELEC_POTL_V2"),
        ["V3"] = ("131333", "MDC_ECG_ELEC_POTL_V3"),
        ["V4"] = ("131334", "MDC_ECG_ELEC_POTL_V4"),
        ["V5"] = ("131335", "MDC_ECG_ELEC_POTL_V5"),
        ["V6"] = ("131336", "MDC_ECG_ELEC_POTL_V6"),
    };

    /// <summary>
    /// Builds the bundle. The tracing is <paramref name="source"/>'s physical values at the record's own rate when given
    /// (what the server and <c>deri analyze</c> pass), else the answer's plotted signal (at most the service's plot rate).
    /// </summary>
    /// <param name="result">The analysis.</param>
    /// <param name="model">The service's model (<see cref="InferenceService.Describe"/>): run, checkpoint, method, versions.</param>
    /// <param name="source">The analysed record, for the full-rate tracing; null to use <see cref="AnalysisResult.Signal"/>.</param>
    /// <param name="issued">When the report is issued (default: now).</param>
    /// <exception cref="InputFormatException">A value to write is not finite (the message names the record and the value).</exception>
    public static Bundle Build(AnalysisResult result, ModelInfo model, UploadedRecord? source = null, DateTimeOffset? issued = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(model);
        var when = issued ?? DateTimeOffset.UtcNow;
        string id = result.Record.Id;
        var bundle = new Bundle { Type = Bundle.BundleType.Collection, Timestamp = when };
        var report = new DiagnosticReport
        {
            Status = DiagnosticReport.DiagnosticReportStatus.Final,
            Category = [Coded(DiagnosticServiceSections, "EC", "Electrocardiac (e.g., EKG, EEC, Holter)")],
            Code = Coded(Loinc, "11524-6", "EKG study", "ECG study analysed by Deri"),
            Identifier = [new Identifier { Value = id }],
            Issued = when,
            Conclusion = string.IsNullOrWhiteSpace(result.Report) ? null : result.Report,
        };
        var entries = new List<(string Url, Resource Resource)>();
        string reportUrl = NewUrl();
        entries.Add((reportUrl, report));

        string modelUrl = NewUrl();
        entries.Add((modelUrl, ModelDevice(model)));
        var modelRef = new ResourceReference(modelUrl, "Deri model");

        string tracingUrl = NewUrl();
        var tracing = Tracing(result, source);
        tracing.Device = modelRef;
        entries.Add((tracingUrl, tracing));
        var tracingRef = new ResourceReference(tracingUrl, "ECG tracing");

        if (result.Measurements is { } m)
        {
            var values = new Dictionary<string, double?>
            {
                [DeviceMeasurementKeys.HeartRate] = m.HeartRateBpm, [DeviceMeasurementKeys.Rr] = m.RrMs, [DeviceMeasurementKeys.Pr] = m.PrMs,
                [DeviceMeasurementKeys.Qrs] = m.QrsMs, [DeviceMeasurementKeys.Qt] = m.QtMs, [DeviceMeasurementKeys.QtcBazett] = m.QtcBazettMs,
                [DeviceMeasurementKeys.QtcFridericia] = m.QtcFridericiaMs, [DeviceMeasurementKeys.PAxis] = m.PAxisDeg,
                [DeviceMeasurementKeys.QrsAxis] = m.QrsAxisDeg, [DeviceMeasurementKeys.TAxis] = m.TAxisDeg,
            };
            string method = $"Deri: measured on the median beat of {m.Beats} detected beats";
            foreach (var code in MeasurementCodes)
            {
                if (!values.TryGetValue(code.Key, out var v) || v is not double value) continue;
                var obs = Measurement(code, value, id, method + QtcMethod(code.Key));
                obs.Device = modelRef;
                obs.DerivedFrom = [tracingRef];
                obs.Note = m.Notes.Select(n => new Annotation { Text = n }).ToList();
                entries.Add((NewUrl(), obs));
            }
        }

        string? cartUrl = null;
        if (result.DeviceMeasurements is { Count: > 0 } || result.DeviceStatements is { Count: > 0 })
        {
            cartUrl = NewUrl();
            entries.Add((cartUrl, CartDevice()));
        }
        if (result.DeviceMeasurements is { Count: > 0 } cart)
        {
            var unknown = cart.Keys.Where(k => MeasurementCodes.All(c => c.Key != k)).ToList();
            if (unknown.Count > 0)
                throw new InputFormatException($"{id}: device measurement keys {string.Join(", ", unknown)} are not among {string.Join(", ", DeviceMeasurementKeys.All)}");
            foreach (var code in MeasurementCodes)
            {
                if (!cart.TryGetValue(code.Key, out double value)) continue;
                var obs = Measurement(code, value, id, "Recording device (ECG cart): the value it stored in the file; not measured by Deri" + QtcMethod(code.Key));
                obs.Device = new ResourceReference(cartUrl, "recording device");
                entries.Add((NewUrl(), obs));
            }
        }
        if (result.DeviceStatements is { Count: > 0 } statements)
        {
            entries.Add((NewUrl(), new Observation
            {
                Status = ObservationStatus.Final,
                Category = [ProcedureCategory()],
                Code = new CodeableConcept { Text = "Interpretive statements of the recording device" },
                Value = new FhirString(string.Join("\n", statements)),
                Method = new CodeableConcept { Text = "Recording device (ECG cart): the statements it stored in the file; not made by Deri" },
                Device = new ResourceReference(cartUrl, "recording device"),
            }));
        }

        foreach (var f in result.Findings)
        {
            var obs = Finding(f, id);
            obs.Device = modelRef;
            obs.DerivedFrom = [tracingRef];
            entries.Add((NewUrl(), obs));
        }

        report.Result = entries.Where(e => e.Resource is Observation).Select(e => new ResourceReference(e.Url)).ToList();
        report.Text = Narrative(result);
        foreach (var (url, resource) in entries)
            bundle.Entry.Add(new Bundle.EntryComponent { FullUrl = url, Resource = resource });
        return bundle;
    }

    /// <summary>The bundle as FHIR JSON.</summary>
    public static string ToJson(Bundle bundle, bool pretty = false) => bundle.ToJson(pretty);

    private static string NewUrl() => "urn:uuid:" + Guid.NewGuid().ToString("D");

    private static CodeableConcept Coded(string system, string code, string display, string? text = null) =>
        new() { Coding = [new Coding(system, code, display)], Text = text ?? display };

    private static CodeableConcept ProcedureCategory() => Coded(ObservationCategory, "procedure", "Procedure");

    private static string QtcMethod(string key) => key switch
    {
        DeviceMeasurementKeys.QtcBazett => "; QTc by Bazett's formula, QT / sqrt(RR in s)",
        DeviceMeasurementKeys.QtcFridericia => "; QTc by Fridericia's formula, QT / cbrt(RR in s)",
        DeviceMeasurementKeys.QtcUnspecified => "; QTc by a formula the device does not name",
        _ => "",
    };

    private static Observation Measurement(MeasurementCode code, double value, string record, string method)
    {
        var concept = code.LoincCode is null ? new CodeableConcept { Text = code.Text } : Coded(Loinc, code.LoincCode, code.Display, code.Text);
        return new Observation
        {
            Status = ObservationStatus.Final,
            Category = [ProcedureCategory()],
            Code = concept,
            Value = Quantity(value, code.Unit, code.Unit, record, code.Text),
            Method = new CodeableConcept { Text = method },
        };
    }

    private static Observation Finding(Finding f, string record)
    {
        var obs = new Observation
        {
            Status = ObservationStatus.Final,
            Category = [ProcedureCategory()],
            // Deri's classes are the training store's labels (e.g. PTB-XL's NORM, MI): no standard code is claimed.
            Code = new CodeableConcept { Text = $"{f.Class} (zero-shot finding: \"{f.Prompt}\")" },
            Value = Quantity(f.Score, "cosine similarity", "1", record, $"score of {f.Class}"),
            Method = new CodeableConcept
            {
                Text = "Deri zero-shot: cosine similarity of the ECG's embedding with the embedding of the class's prompt; " +
                       "positive at or above the class's max-F1 threshold on the validation split",
            },
        };
        if (f.Threshold is double t)
        {
            obs.Component.Add(new Observation.ComponentComponent
            {
                Code = new CodeableConcept { Text = "decision threshold (max F1 on the validation split)" },
                Value = Quantity(t, "cosine similarity", "1", record, $"threshold of {f.Class}"),
            });
        }
        if (f.Positive is bool positive)
            obs.Interpretation = [positive ? Coded(Interpretation, "POS", "Positive") : Coded(Interpretation, "NEG", "Negative")];
        else
            obs.Note = [new Annotation { Text = "No decision threshold: the service has no labelled validation split for this class." }];
        return obs;
    }

    private static Quantity Quantity(double value, string unit, string ucum, string record, string what)
    {
        if (!double.IsFinite(value)) throw new InputFormatException($"{record}: {what} is {value}, not a finite number");
        return new Quantity { Value = (decimal)Math.Round(value, 6), Unit = unit, System = Ucum, Code = ucum };
    }

    private static Device ModelDevice(ModelInfo model)
    {
        model.Versions.TryGetValue("deri", out var deri);
        var device = new Device
        {
            DeviceName =
            [
                new Device.DeviceNameComponent { Name = $"Deri {model.Method.ToUpperInvariant()} model, run {RunName(model.Run)}", Type = DeviceNameType.ModelName },
            ],
            Type = new CodeableConcept { Text = "ECG analysis software (Deri: zero-shot diagnosis, measurements, report generation)" },
            Version =
            [
                new Device.VersionComponent { Type = new CodeableConcept { Text = "deri" }, Value = deri ?? "unknown" },
                new Device.VersionComponent { Type = new CodeableConcept { Text = "checkpoint" }, Value = Path.GetFileName(model.Checkpoint) },
            ],
        };
        if (model.Version is { } version)
        {
            // A model bundle: its own name and version identify the model (the run folder is only its provenance).
            device.DeviceName[0].Name = $"Deri {model.Method.ToUpperInvariant()} model {model.Name}";
            device.Version.Add(new Device.VersionComponent { Type = new CodeableConcept { Text = "model" }, Value = $"{model.Name} {version}" });
        }
        if (model.ReportModel is { } rm)
            device.Version.Add(new Device.VersionComponent { Type = new CodeableConcept { Text = "report model run" }, Value = RunName(rm) });
        return device;
    }

    private static string RunName(string dir) => Path.GetFileName(Path.TrimEndingDirectorySeparator(dir)) is { Length: > 0 } n ? n : dir;

    private static Device CartDevice() => new()
    {
        Type = new CodeableConcept { Text = "Electrocardiograph that recorded the ECG (named only as the source of the values stored in the file)" },
        Note = [new Annotation { Text = "The measurements and statements that reference this device are the recording device's own, read from the file." }],
    };

    // The 12 leads in standard order as SampledData components: origin 0 mV, period 1000 / rate ms, factor 1 µV,
    // data = round(value / factor) per sample, "E" where a sample is missing.
    private static Observation Tracing(AnalysisResult result, UploadedRecord? source)
    {
        double rate;
        IReadOnlyList<string> leads;
        Func<int, IEnumerable<float?>> lead;
        if (source is not null)
        {
            rate = source.SamplingRate;
            leads = LeadOrder.Standard;
            lead = k =>
            {
                int m = LeadOrder.Model.ToList().IndexOf(LeadOrder.Standard[k]);
                return source.Physical.AsSpan(m * source.Samples, source.Samples).ToArray().Select(v => float.IsFinite(v) ? (float?)v : null);
            };
        }
        else
        {
            if (result.Signal.Units != "mV")
                throw new InputFormatException($"{result.Record.Id}: the plotted signal is in '{result.Signal.Units}', not mV");
            rate = result.Signal.SamplingRate;
            leads = result.Signal.Leads;
            lead = k => result.Signal.Data[k];
        }
        if (!(rate > 0) || !double.IsFinite(rate)) throw new InputFormatException($"{result.Record.Id}: sampling rate {rate} Hz");
        var obs = new Observation
        {
            Status = ObservationStatus.Final,
            Category = [ProcedureCategory()],
            Code = Coded(Mdc, "131328", "MDC_ECG_ELEC_POTL", "ECG tracing, 12 leads"),
            Note =
            [
                new Annotation
                {
                    Text = source is not null
                        ? $"Record {result.Record.Id} ({result.Record.Format}), {rate.ToString(CultureInfo.InvariantCulture)} Hz, physical values in mV as stored (no filtering)."
                        : $"Record {result.Record.Id} ({result.Record.Format}), resampled to {rate.ToString(CultureInfo.InvariantCulture)} Hz for plotting, values in mV (no filtering).",
                },
            ],
        };
        for (int k = 0; k < leads.Count; k++)
        {
            string name = leads[k];
            var code = LeadCodes.TryGetValue(name, out var c) ? Coded(Mdc, c.Code, c.Display, $"Lead {name}") : new CodeableConcept { Text = $"Lead {name}" };
            obs.Component.Add(new Observation.ComponentComponent
            {
                Code = code,
                Value = new SampledData
                {
                    Origin = new Quantity { Value = 0, Unit = "mV", System = Ucum, Code = "mV" },
                    Period = (decimal)Math.Round(1000.0 / rate, 6),
                    Factor = SampleFactor,
                    Dimensions = 1,
                    Data = Samples(lead(k), result.Record.Id, name),
                },
            });
        }
        return obs;
    }

    // FHIR strings hold at most 1 MB (R4 datatypes: string); a longer lead is refused rather than cut.
    private const int MaxStringLength = 1024 * 1024;

    private static string Samples(IEnumerable<float?> values, string record, string lead)
    {
        var sb = new StringBuilder();
        double factor = (double)SampleFactor;
        foreach (var v in values)
        {
            if (sb.Length > 0) sb.Append(' ');
            if (v is float f) sb.Append(((long)Math.Round(f / factor)).ToString(CultureInfo.InvariantCulture));
            else sb.Append('E');
            if (sb.Length > MaxStringLength)
                throw new InputFormatException($"{record}: lead {lead} does not fit one FHIR SampledData (over {MaxStringLength} characters); send a shorter record");
        }
        return sb.ToString();
    }

    // A short human-readable summary (FHIR's dom-6 asks resources for narrative): positive findings, report.
    private static Narrative Narrative(AnalysisResult result)
    {
        var positive = result.Findings.Where(f => f.Positive == true).Select(f => f.Class).ToList();
        var sb = new StringBuilder("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
        sb.Append("<p>ECG ").Append(WebUtility.HtmlEncode(result.Record.Id)).Append(" analysed by Deri.</p>");
        sb.Append("<p>Zero-shot findings at or above threshold: ")
            .Append(positive.Count == 0 ? "none" : WebUtility.HtmlEncode(string.Join(", ", positive))).Append(".</p>");
        if (!string.IsNullOrWhiteSpace(result.Report)) sb.Append("<p>Report: ").Append(WebUtility.HtmlEncode(result.Report)).Append("</p>");
        sb.Append("</div>");
        return new Narrative { Status = Hl7.Fhir.Model.Narrative.NarrativeStatus.Generated, Div = sb.ToString() };
    }
}
