using System.Text.Json;
using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;
using Hl7.Fhir.Validation;

namespace Deri.Tests.Serving;

/// <summary>
/// Checks FHIR JSON the way a receiving system would: parsed back with the Firely SDK's strict deserializer, the SDK's
/// attribute (cardinality, type, primitive format) validation of every resource, Firely's profile validator against the
/// R4 base specification (StructureDefinitions and invariants from the SDK's specification.zip, local terminology), and
/// the bundle-level rules the base validator leaves open: full URLs unique, every reference resolving to an entry.
/// </summary>
public static class FhirValidation
{
    private static readonly Lazy<Validator> Profiles = new(() =>
    {
        var source = new CachedResolver(ZipSource.CreateValidationSource());
        return new Validator(source, LocalTerminologyService.CreateDefaultForCore(source));
    });

    private static readonly object Gate = new();

    /// <summary>Parses a bundle strictly (an unknown element, a wrong type or a malformed primitive throws).</summary>
    public static Bundle Parse(string json)
    {
        var deserializer = new FhirJsonDeserializer(new DeserializerSettings().UsingMode(DeserializationMode.Strict));
        return Assert.IsType<Bundle>(deserializer.DeserializeResource(json));
    }

    /// <summary>Every error found in <paramref name="json"/>, one line each; empty when the bundle is valid.</summary>
    public static IReadOnlyList<string> Problems(string json)
    {
        var problems = new List<string>();
        Bundle bundle;
        try
        {
            bundle = Parse(json);
        }
        catch (DeserializationFailedException e) when (e.PartialResult is Bundle partial)
        {
            // The strict parser stops at what it cannot accept; the validators below still look at what it read.
            problems.AddRange(e.Exceptions.Select(x => "parse: " + x.Message));
            bundle = partial;
        }

        try
        {
            bundle.Validate(ModelInfo.ModelInspector);
        }
        catch (Exception e) when (e is CodedValidationException or System.ComponentModel.DataAnnotations.ValidationException)
        {
            problems.Add("attributes: " + e.Message);
        }

        OperationOutcome outcome;
        lock (Gate) outcome = Profiles.Value.Validate(bundle);
        problems.AddRange(outcome.Issue
            .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
            .Select(i => $"profile: {i.Details?.Text ?? i.Diagnostics} at {string.Join(", ", i.Expression)}"));

        var urls = bundle.Entry.Select(e => e.FullUrl).ToList();
        foreach (var dup in urls.GroupBy(u => u).Where(g => g.Count() > 1)) problems.Add($"bundle: fullUrl {dup.Key} is used {dup.Count()} times");
        using var doc = JsonDocument.Parse(json);
        foreach (string reference in References(doc.RootElement))
            if (!urls.Contains(reference)) problems.Add($"bundle: reference {reference} resolves to no entry");
        return problems;
    }

    /// <summary>Asserts that <paramref name="json"/> is a valid bundle and returns it parsed.</summary>
    public static Bundle AssertValid(string json)
    {
        var problems = Problems(json);
        Assert.True(problems.Count == 0, "invalid FHIR bundle:\n" + string.Join("\n", problems));
        return Parse(json);
    }

    // Values of "reference" members: in FHIR JSON only Reference.reference has that name among the resources used here.
    private static IEnumerable<string> References(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in e.EnumerateObject())
            {
                if (p.Name == "reference" && p.Value.ValueKind == JsonValueKind.String) yield return p.Value.GetString()!;
                foreach (var r in References(p.Value)) yield return r;
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray())
                foreach (var r in References(item)) yield return r;
        }
    }
}
