using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Xunit.Abstractions;

namespace Deri.Tests.Data;

public class PtbXlDatasetTests(ITestOutputHelper output)
{
    private static string Root => DataFiles.Shared("ptbxl");
    private static string Splits => Path.Combine(SharedData.Root, "splits", "ptbxl");

    [Theory]
    [InlineData(PtbXlTask.Super, 5)]
    [InlineData(PtbXlTask.Sub, 23)]
    [InlineData(PtbXlTask.Form, 19)]
    [InlineData(PtbXlTask.Rhythm, 12)]
    public void DerivedLabelsEqualThePapersSplitFiles(PtbXlTask task, int classes)
    {
        var fromFiles = PtbXlDataset.Load(Root, new PtbXlOptions { Task = task, Labels = LabelSource.SplitFiles, SplitsDir = Splits });
        var derived = PtbXlDataset.Load(Root, new PtbXlOptions { Task = task, Labels = LabelSource.Derived, SplitsDir = Splits });
        var derivedNoSplits = PtbXlDataset.Load(Root, new PtbXlOptions { Task = task, Labels = LabelSource.Derived });
        Assert.Equal(classes, fromFiles.LabelNames.Count);
        Assert.Equal(fromFiles.LabelNames, derived.LabelNames);
        Assert.Equal(fromFiles.LabelNames.OrderBy(n => n, StringComparer.Ordinal), derivedNoSplits.LabelNames.OrderBy(n => n, StringComparer.Ordinal));
        var byId = derived.Entries.ToDictionary(e => e.Id);
        Assert.True(fromFiles.Entries.Count > 50, $"{task}: only {fromFiles.Entries.Count} shared records in the split files");
        foreach (var e in fromFiles.Entries)
        {
            Assert.True(byId.TryGetValue(e.Id, out var d), $"{task}: record {e.Id} has labels in the split files but none derived");
            Assert.True(e.Labels.SequenceEqual(d!.Labels), $"{task}: record {e.Id}: split files [{string.Join(",", e.Labels)}] derived [{string.Join(",", d.Labels)}]");
            Assert.Equal(e.Split, d.Split);
        }
        // The paper's files leave out a few records that have labels (ecg_id 137–145 and 456–462 among the shared ones).
        var extra = derived.Entries.Select(e => e.Id).Except(fromFiles.Entries.Select(e => e.Id)).ToList();
        output.WriteLine($"{task}: {fromFiles.Entries.Count} records agree; derived only: {string.Join(" ", extra)}");
        Assert.True(extra.Count <= derived.Entries.Count / 20, $"{task}: {extra.Count} derived records are not in the split files");
    }

    [Fact]
    public void FoldsGiveTheSplitsAndReportsAreSelectable()
    {
        var ds = PtbXlDataset.Load(Root, new PtbXlOptions { Task = PtbXlTask.None });
        Assert.Equal(434, ds.Entries.Count);
        Assert.Empty(ds.LabelNames);
        Assert.DoesNotContain(ds.Entries, e => e.Split == DataSplits.Test); // fold 10 is not shared
        Assert.Contains(ds.Entries, e => e.Split == DataSplits.Val);
        var first = ds.Entries[0];
        Assert.Equal("1", first.Id);
        Assert.Equal("sinusrhythmus periphere niederspannung", first.Report);
        Assert.EndsWith(Path.Combine("records500", "00000", "00001_hr.hea"), first.RecordPath);
        var composed = PtbXlDataset.Load(Root, new PtbXlOptions { Task = PtbXlTask.None, Report = PtbXlReport.Composed, Rate = 100 });
        Assert.StartsWith("normal ECG", composed.Entries[0].Report, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("sinus rhythm", composed.Entries[0].Report);
        Assert.EndsWith("00001_lr.hea", composed.Entries[0].RecordPath);
        var custom = PtbXlDataset.Load(Root, new PtbXlOptions { Task = PtbXlTask.None, TrainFolds = [1, 2, 3, 4, 5, 6, 7], ValFolds = [8], TestFolds = [9] });
        Assert.Equal(ds.Entries.Count(e => e.Split == DataSplits.Val), custom.Entries.Count(e => e.Split == DataSplits.Test));
    }

    [Fact]
    public void ScpCodesParseAndBadCellsAreClearErrors()
    {
        var codes = PtbXlDataset.ParseScpCodes("{'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}");
        Assert.Equal(["NORM", "LVOLT", "SR"], codes.Select(c => c.Code));
        Assert.Equal(100.0, codes[0].Likelihood);
        Assert.Empty(PtbXlDataset.ParseScpCodes("{}"));
        var ex = Assert.Throws<InputFormatException>(() => PtbXlDataset.ParseScpCodes("NORM", "db.csv", "7"));
        Assert.Contains("db.csv", ex.Message);
        Assert.Contains("record 7", ex.Message);
    }

    [Fact]
    public void Records100HzResampledAgreeWith500Hz()
    {
        var hr = PtbXlDataset.Load(Root, new PtbXlOptions { Task = PtbXlTask.None, Rate = 500 }).Entries.Take(20).ToList();
        var lr = PtbXlDataset.Load(Root, new PtbXlOptions { Task = PtbXlTask.None, Rate = 100 }).Entries.Take(20).ToList();
        var pre = new EcgPreprocessor(new PreprocessConfig { Normalization = Normalization.None });
        var a = new float[pre.OutputSize];
        var b = new float[pre.OutputSize];
        double maxErr = 0, sumErr = 0, sumAbs = 0;
        long n = 0;
        for (int r = 0; r < hr.Count; r++)
        {
            pre.ProcessFile(hr[r].RecordPath, a);
            pre.ProcessFile(lr[r].RecordPath, b);
            // Away from the first and last 0.2 s, where the zero-extension of the filter shows.
            for (int l = 0; l < 12; l++)
                for (int t = 100; t < 4900; t++)
                {
                    double e = Math.Abs(a[l * 5000 + t] - b[l * 5000 + t]);
                    maxErr = Math.Max(maxErr, e);
                    sumErr += e;
                    sumAbs += Math.Abs(a[l * 5000 + t]);
                    n++;
                }
        }
        double mean = sumErr / n;
        output.WriteLine($"100 Hz→500 Hz vs 500 Hz, 20 records: max |error| {maxErr:F4} mV, mean |error| {mean:F5} mV, mean |signal| {sumAbs / n:F4} mV");
        Assert.True(mean < 0.02, $"mean |error| {mean} mV");
        Assert.True(maxErr < 1.0, $"max |error| {maxErr} mV");
    }
}
