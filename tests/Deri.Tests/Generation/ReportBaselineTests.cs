using Deri.Data.Store;
using Deri.Evaluation;
using Deri.Generation;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Deri.Tests.Generation;

/// <summary>
/// Issue 13: a report model must not collapse to one report. A tiny model trained on synthetic pairs
/// (<see cref="TinyReportData"/>'s store and pretrained run) with several memory tokens, memory dropout and guided decoding must write more than one distinct
/// report for the test split and beat the most-common-training-report baseline's multi-label clinical-efficacy AUC
/// (which is exactly 0.5: one report for every record ties every score), measured against the store's own labels.
/// </summary>
public sealed class ReportBaselineTests(TinyReportData data, ITestOutputHelper output) : IClassFixture<TinyReportData>
{
    [Fact]
    public void TrainedModelWritesSeveralReportsAndBeatsTheConstantBaseline()
    {
        string dir = Path.Combine(data.Root, "report-tokens");
        // Frozen ECG side: its features are computed once, so 30 decoder epochs take seconds.
        var config = data.ConfigFor(dir, "freeze_ecg=true", "memory=tokens", "label_smoothing=0.1", "memory_dropout=0.2",
            "decoding.guidance_scale=2", "trainer.max_epochs=30");
        ReportTrainer.Run(config, dir, CPU, progress: ReportTestData.Silent, log: _ => { });
        using var run = ReportRun.Open(dir, "best", CPU);
        using var store = EcgStore.Open(data.StoreDir);
        var result = ReportEvaluation.Run(run, store, "test", [], ClassPrompts.Load(data.Prompts), run.Config.Decoding.ToOptions(), 64,
            Path.Combine(data.Root, "eval-tokens"), _ => { });
        output.WriteLine(ReportEvaluation.ToMarkdown(result, run, "test"));

        var (common, count, total) = ReportEvaluation.MostCommonTrainingReport(data.StoreDir);
        Assert.Equal(common, result.Baseline.Report);
        Assert.True(count >= 1 && count <= total);
        double baselineAuc = result.Baseline.Ce[0].Multi.Auc;
        Assert.Equal(0.5, baselineAuc, 9);
        Assert.True(result.DistinctReports > 1, $"the model wrote one report for all {result.Reports.Count} test records");
        Assert.True(result.Ce[0].Multi.Auc > baselineAuc + 0.05,
            $"multi-label CE AUC {result.Ce[0].Multi.Auc:F3} does not beat the constant baseline's {baselineAuc:F3}");
    }
}
