using System.Text.Json;
using System.Text.RegularExpressions;
using Deri.Synthetic;

namespace Deri.Tests.Synthetic;

public partial class ReportTests
{
    private static readonly SyntheticEcg[] Records = MakeRecords();

    // Reports only: no noise, short records, so 3000 of them are cheap.
    private static SyntheticEcg[] MakeRecords()
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgConfig(Seed: 5, Noise: NoiseLevel.None, SamplingRate: 100, DurationSeconds: 10));
        var r = new SyntheticEcg[3000];
        Parallel.For(0, r.Length, i => r[i] = g.Generate(i));
        return r;
    }

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex Word();

    private static IEnumerable<string> Words(string text) => Word().Matches(text.ToLowerInvariant()).Select(m => m.Value);

    [Fact]
    public void EveryConditionOccursAndExcludedCombinationsNever()
    {
        foreach (var c in EcgConditions.All)
        {
            int n = Records.Count(r => r.Conditions.Contains(c));
            Assert.True(n >= 0.03 * Records.Length, $"{EcgConditions.Code(c)} occurs in only {n} of {Records.Length} records");
        }
        (EcgCondition, EcgCondition)[] excluded =
        [
            (EcgCondition.AtrialFibrillation, EcgCondition.FirstDegreeAvBlock), (EcgCondition.AtrialFibrillation, EcgCondition.AtrialFlutter),
            (EcgCondition.AtrialFlutter, EcgCondition.FirstDegreeAvBlock), (EcgCondition.RightBundleBranchBlock, EcgCondition.LeftBundleBranchBlock),
            (EcgCondition.LeftVentricularHypertrophy, EcgCondition.LowQrsVoltage), (EcgCondition.SinusBradycardia, EcgCondition.SinusTachycardia),
            (EcgCondition.AtrialFibrillation, EcgCondition.SinusTachycardia), (EcgCondition.InferiorStElevation, EcgCondition.StDepression),
            (EcgCondition.RightBundleBranchBlock, EcgCondition.LeftVentricularHypertrophy), (EcgCondition.LeftBundleBranchBlock, EcgCondition.TWaveInversion),
        ];
        foreach (var (a, b) in excluded)
            Assert.DoesNotContain(Records, r => r.Conditions.Contains(a) && r.Conditions.Contains(b));
        Assert.All(Records.Where(r => r.Conditions.Contains(EcgCondition.Normal)), r => Assert.Single(r.Conditions));
        Assert.All(Records, r => Assert.NotEmpty(r.Conditions));
        // Realistic co-occurrences are present.
        Assert.Contains(Records, r => r.Conditions.Contains(EcgCondition.AtrialFibrillation) && r.Conditions.Contains(EcgCondition.LeftBundleBranchBlock));
        Assert.Contains(Records, r => r.Conditions.Contains(EcgCondition.SinusTachycardia) && r.Conditions.Contains(EcgCondition.StDepression));
        Assert.Contains(Records, r => r.Conditions.Contains(EcgCondition.LeftVentricularHypertrophy) && r.Conditions.Contains(EcgCondition.TWaveInversion));
        // ST depression is more common with LVH than without.
        double P(Func<SyntheticEcg, bool> given) => Records.Where(given).Average(r => r.Conditions.Contains(EcgCondition.StDepression) ? 1.0 : 0.0);
        Assert.True(P(r => r.Conditions.Contains(EcgCondition.LeftVentricularHypertrophy)) > 2 * P(r => !r.Conditions.Contains(EcgCondition.LeftVentricularHypertrophy)));
    }

    [Fact]
    public void RatesMatchTheirLabels()
    {
        foreach (var r in Records)
        {
            double hr = r.Truth.HeartRate;
            if (r.Conditions.Contains(EcgCondition.SinusBradycardia)) Assert.True(hr < 60, $"record {r.Index}: bradycardia at {hr:F0}");
            if (r.Conditions.Contains(EcgCondition.SinusTachycardia)) Assert.True(hr > 100, $"record {r.Index}: tachycardia at {hr:F0}");
            if (r.Conditions.Contains(EcgCondition.Normal)) Assert.InRange(hr, 60, 100);
            if (r.Conditions.Contains(EcgCondition.FirstDegreeAvBlock)) Assert.True(r.Truth.Pr > 200);
            else if (r.Truth.Pr is { } pr) Assert.True(pr is >= 110 and <= 200, $"record {r.Index}: PR {pr:F0}");
            if (r.Conditions.Contains(EcgCondition.AtrialFibrillation) || r.Conditions.Contains(EcgCondition.AtrialFlutter)) Assert.Null(r.Truth.Pr);
            if (r.Conditions.Contains(EcgCondition.LongQt)) Assert.True(r.Truth.Qtc >= 480, $"record {r.Index}: QTc {r.Truth.Qtc:F0}");
            else if (!r.HasBbb()) Assert.True(r.Truth.Qtc <= 450, $"record {r.Index}: QTc {r.Truth.Qtc:F0}");
            if (r.Conditions.Contains(EcgCondition.AtrialFlutter)) Assert.InRange(r.Truth.AtrialRate, 240, 350);
            Assert.InRange(r.Age, 18, 95);
            Assert.Contains(r.Sex, new[] { "M", "F" });
        }
    }

    [Fact]
    public void ReportsAreMachineStatementsThatFollowTheGroundTruth()
    {
        foreach (var r in Records)
        {
            Assert.InRange(r.Statements.Count, 2, 18);
            Assert.All(r.Statements, s => Assert.False(string.IsNullOrWhiteSpace(s) || s.Contains('\n')));
            string closing = r.Statements[^1];
            Assert.Contains(closing, new[] { "Normal ECG", "Borderline ECG", "Abnormal ECG" });
            Assert.Equal(r.Conditions.Contains(EcgCondition.Normal), closing == "Normal ECG");
            string report = r.Report.ToLowerInvariant();
            if (r.Conditions.Contains(EcgCondition.AtrialFibrillation))
            {
                Assert.Contains("atrial fibrillation", report);
                Assert.Equal(r.Truth.HeartRate > 100, report.Contains("rapid ventricular response"));
            }
            Assert.Equal(r.Conditions.Contains(EcgCondition.AtrialFlutter), report.Contains("atrial flutter"));
            Assert.Equal(r.Conditions.Contains(EcgCondition.RightBundleBranchBlock), report.Contains("right bundle branch block") || report.Contains("rbbb"));
            Assert.Equal(r.Conditions.Contains(EcgCondition.LeftBundleBranchBlock), report.Contains("left bundle branch block") || report.Contains("lbbb"));
            Assert.Equal(r.Conditions.Contains(EcgCondition.SinusBradycardia), report.Contains("sinus bradycardia"));
            if (r.Conditions.Contains(EcgCondition.SinusBradycardia)) Assert.Equal(r.Truth.HeartRate < 50, report.Contains("marked sinus bradycardia"));
            Assert.Equal(r.Conditions.Contains(EcgCondition.StDepression), report.Contains("st depression"));
            Assert.Equal(r.Conditions.Contains(EcgCondition.LongQt), report.Contains("qt"));
            Assert.Equal(r.Truth.Pr is not null, report.StartsWith("sinus") || report.StartsWith("normal sinus") || report.StartsWith("marked sinus"));
        }
        // Paraphrases: the same condition is worded in more than one way.
        foreach (var c in new[] { EcgCondition.RightBundleBranchBlock, EcgCondition.LeftVentricularHypertrophy, EcgCondition.PrematureVentricularComplexes, EcgCondition.TWaveInversion })
        {
            var variants = Records.With(c).Select(r => string.Join("|", r.Statements.Skip(1).SkipLast(1))).Distinct().Count();
            Assert.True(variants >= 3, $"{EcgConditions.Code(c)} reports have only {variants} wordings");
        }
        Assert.Contains(Records, r => r.Report.StartsWith("Marked sinus bradycardia"));
        Assert.Contains(Records, r => r.Report.StartsWith("Atrial fibrillation with rapid ventricular response"));
    }

    [Fact]
    public void EveryPromptWordOccursInTheReportsOfItsCondition()
    {
        var prompts = SyntheticPrompts.All;
        Assert.Equal(EcgConditions.Codes, prompts.Keys);
        foreach (var c in EcgConditions.All)
        {
            var vocabulary = Records.With(c).SelectMany(r => Words(r.Report)).ToHashSet();
            var missing = Words(prompts[EcgConditions.Code(c)]).Where(w => !vocabulary.Contains(w)).ToList();
            Assert.True(missing.Count == 0, $"{EcgConditions.Code(c)} prompt words not in its reports: {string.Join(", ", missing)}");
        }
    }

    [Fact]
    public void PromptsHaveTheFormatOfTheCkepePrompts()
    {
        string ckepe = Path.Combine(SharedFolder(), "prompts", "CKEPE_prompt.json");
        var reference = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(ckepe))!;
        Assert.NotEmpty(reference);
        var ours = JsonSerializer.Deserialize<Dictionary<string, string>>(SyntheticPrompts.Json)!;
        Assert.Equal(16, ours.Count);
        Assert.All(ours, kv => Assert.Matches("^[A-Z_]+$", kv.Key));
        Assert.All(ours.Values, v => Assert.EndsWith(".", v));
        Assert.StartsWith("{\n        \"", SyntheticPrompts.Json.Replace("\r\n", "\n"));
        Assert.Equal(EcgConditions.Codes.Select(EcgConditions.FromCode), EcgConditions.All);
        Assert.Throws<ArgumentException>(() => EcgConditions.FromCode("XYZ"));
    }

    /// <summary>The project's shared folder: <c>DERI_SHARED</c>, or the nearest ancestor's <c>shared</c> with a <c>data</c> folder.</summary>
    internal static string SharedFolder()
    {
        if (Environment.GetEnvironmentVariable("DERI_SHARED") is { Length: > 0 } env) return env;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "data"))) return candidate;
        }
        throw new DirectoryNotFoundException($"no shared/data folder above {AppContext.BaseDirectory}; set DERI_SHARED");
    }
}
