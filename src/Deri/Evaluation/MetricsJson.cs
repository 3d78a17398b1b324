using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Deri.Evaluation;

/// <summary>JSON form of a <see cref="MetricsReport"/> (numbers ×100 except thresholds; undefined means are null).</summary>
public static class MetricsJson
{
    /// <summary>A one-line description of each protocol, written beside its numbers.</summary>
    public static string Describe(ThresholdProtocol p) => p switch
    {
        ThresholdProtocol.SameSplitMaxF1 =>
            "paper protocol: per class, the max-F1 threshold of precision_recall_curve on the evaluated split itself; accuracy of score > threshold (as the DERI/MERL release)",
        _ => "held-out protocol: per class, the max-F1 threshold of the validation split, applied to the evaluated split as score >= threshold for F1 and accuracy; AUC does not depend on it",
    };

    /// <summary>The report as a JSON object: protocol, samples, macro, classes, excluded.</summary>
    public static JsonObject ToJson(MetricsReport report)
    {
        var classes = new JsonArray();
        foreach (var c in report.Classes)
            classes.Add(new JsonObject
            {
                ["name"] = c.Name, ["auc"] = c.Auc, ["f1"] = c.F1, ["accuracy"] = c.Accuracy,
                ["threshold"] = c.Threshold, ["positives"] = c.Positives,
            });
        var excluded = new JsonArray();
        foreach (var e in report.Excluded) excluded.Add(new JsonObject { ["name"] = e.Name, ["reason"] = e.Reason });
        return new JsonObject
        {
            ["protocol"] = report.ProtocolName,
            ["description"] = Describe(report.Protocol),
            ["samples"] = report.Samples,
            ["classes_included"] = report.Classes.Count,
            ["macro"] = new JsonObject { ["auc"] = Num(report.MacroAuc), ["f1"] = Num(report.MacroF1), ["accuracy"] = Num(report.MacroAccuracy) },
            ["classes"] = classes,
            ["excluded"] = excluded,
        };
    }

    /// <summary>Indented JSON text of a node.</summary>
    public static string Format(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static JsonNode? Num(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}
