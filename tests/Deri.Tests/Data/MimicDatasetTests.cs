using Deri.Data.Datasets;

namespace Deri.Tests.Data;

public class MimicDatasetTests
{
    [Theory]
    [InlineData("Sinus rhythm|Possible right atrial abnormality||Borderline ECG", "sinus rhythm. possible right atrial abnormality. borderline ecg")]
    [InlineData("*** Critical Test Result: STEMI|Abnormal EKG ***", "critical test result: stemi. abnormal ecg")]
    [InlineData("=- Sinus tachycardia with PVCs present -=", "sinus tachycardia with pvcs present")]
    [InlineData("== Atrial fibrillation with rapid ventricular response ==", "atrial fibrillation with rapid ventricular response")]
    [InlineData("Normal EKG|||Sinus rhythm", "normal ecg. sinus rhythm")]
    public void ReportRules(string parts, string expected) => Assert.Equal(expected, MimicIvEcgDataset.CleanReport(parts.Split('|')));

    [Theory]
    [InlineData("Sinus rhythm|Normal ECG")] // 4 words: kept
    public void FourWordsAreKept(string parts) => Assert.NotNull(MimicIvEcgDataset.CleanReport(parts.Split('|')));

    [Theory]
    [InlineData("Sinus rhythm")]
    [InlineData("*** ***|=-")]
    [InlineData("||")]
    [InlineData("Normal EKG|***")] // "normal ecg. ***" → after stripping "normal ecg." = 2 words
    public void ReportsUnderFourWordsAreDropped(string parts) => Assert.Null(MimicIvEcgDataset.CleanReport(parts.Split('|')));

    [Fact]
    public void LoadsRecordListAndMachineMeasurements()
    {
        using var dir = new TempDir();
        var rec = new System.Text.StringBuilder("subject_id,study_id,file_name,ecg_time,path\n");
        var mm = new System.Text.StringBuilder("subject_id,study_id,cart_id,ecg_time," + string.Join(",", Enumerable.Range(0, 18).Select(i => $"report_{i}")) + ",bandwidth\n");
        for (int i = 0; i < 100; i++)
        {
            int study = 40000000 + i;
            rec.Append($"1000{i:D4},{study},{study},2180-07-23 08:44:00,files/p1000/p1000{i:D4}/s{study}/{study}\n");
            string r0 = i % 10 == 0 ? "Sinus rhythm" : "Sinus rhythm";
            string r1 = i % 10 == 0 ? "" : "\"Possible right atrial abnormality, EKG\"";
            mm.Append($"1000{i:D4},{study},6848296,2180-07-23 08:44:00,{r0},{r1}" + new string(',', 16) + ",0.005-150 Hz\n");
        }
        rec.Append("99999999,49999999,49999999,2180-07-23 08:44:00,files/p9999/p99999999/s49999999/49999999\n");
        dir.File("record_list.csv", rec.ToString());
        dir.File("machine_measurements.csv", mm.ToString());
        var ds = MimicIvEcgDataset.Load(dir.Path, new MimicOptions { ValFraction = 0.1, Seed = 7 });
        Assert.Equal(90, ds.Entries.Count);
        Assert.Equal(11, ds.Skipped.Count);
        Assert.Contains(ds.Skipped, s => s.Id == "49999999" && s.Reason.Contains("machine_measurements"));
        Assert.Contains(ds.Skipped, s => s.Id == "40000000" && s.Reason.Contains("fewer than 4 words"));
        var e = ds.Entries[0];
        Assert.Equal("40000001", e.Id);
        Assert.Equal("sinus rhythm. possible right atrial abnormality, ecg", e.Report);
        Assert.EndsWith(Path.Combine("files", "p1000", "p10000001", "s40000001", "40000001.hea"), e.RecordPath);
        Assert.Empty(e.Labels);
        Assert.Equal(9, ds.Entries.Count(x => x.Split == DataSplits.Val));
        var again = MimicIvEcgDataset.Load(dir.Path, new MimicOptions { ValFraction = 0.1, Seed = 7 });
        Assert.Equal(ds.Entries.Select(x => x.Split), again.Entries.Select(x => x.Split));
        var other = MimicIvEcgDataset.Load(dir.Path, new MimicOptions { ValFraction = 0.1, Seed = 8 });
        Assert.NotEqual(ds.Entries.Select(x => x.Split), other.Entries.Select(x => x.Split));
    }

    [Fact]
    public void MissingColumnNamesTheFile()
    {
        using var dir = new TempDir();
        dir.File("record_list.csv", "subject_id,study_id,file_name\n1,2,3\n");
        dir.File("machine_measurements.csv", "subject_id,study_id,report_0\n1,2,a b c d\n");
        var ex = Assert.Throws<InputFormatException>(() => MimicIvEcgDataset.Load(dir.Path));
        Assert.Contains("record_list.csv", ex.Message);
        Assert.Contains("'path'", ex.Message);
    }

    [Fact]
    public void ReadsTheRealSchemaRow()
    {
        var ds = MimicIvEcgDataset.Load(DataFiles.Shared("mimic-iv-ecg-schema"));
        var e = Assert.Single(ds.Entries);
        Assert.Equal("40689238", e.Id);
        Assert.Equal("sinus rhythm. possible right atrial abnormality. borderline ecg", e.Report);
    }
}

public class MimicStoreTests
{
    [Fact]
    public void MimicLayoutPreparesIntoAStoreWithReports()
    {
        using var dir = new TempDir();
        var rec = new System.Text.StringBuilder("subject_id,study_id,file_name,ecg_time,path\n");
        var mm = new System.Text.StringBuilder("subject_id,study_id," + string.Join(",", Enumerable.Range(0, 18).Select(i => $"report_{i}")) + "\n");
        for (int i = 1; i <= 3; i++)
        {
            // MIMIC's folder layout over real PTB-XL signals: the header is rewritten for the study's name, the signal file linked.
            string study = $"4000000{i}", subject = $"1000000{i}";
            string folder = Path.Combine("files", "p1000", "p" + subject, "s" + study);
            string src = DataFiles.Shared("ptbxl", "records500", "00000", $"0000{i}_hr");
            dir.File(Path.Combine(folder, study + ".hea"), File.ReadAllText(src + ".hea").Replace($"0000{i}_hr", study));
            File.CreateSymbolicLink(Path.Combine(dir.Path, folder, study + ".dat"), src + ".dat");
            rec.Append($"{subject},{study},{study},2180-07-23 08:44:00,{folder.Replace('\\', '/')}/{study}\n");
            string report = i == 3 ? "Sinus rhythm,," : "Sinus rhythm,Normal EKG,Borderline ECG";
            mm.Append($"{subject},{study},{report}" + new string(',', 15) + "\n");
        }
        dir.File("record_list.csv", rec.ToString());
        dir.File("machine_measurements.csv", mm.ToString());
        var ds = DatasetCatalog.Load("mimic", dir.Path);
        Assert.Equal(2, ds.Entries.Count); // study 3's two-word report is dropped
        Assert.Equal("40000003", Assert.Single(ds.Skipped).Id);
        var r = Deri.Data.Store.EcgStoreBuilder.Build(ds, Path.Combine(dir.Path, "store"));
        using var store = Deri.Data.Store.EcgStore.Open(r.Directory);
        Assert.Equal(ds.Entries.Select(e => e.Id), store.Entries.Select(e => e.Id));
        Assert.Equal("sinus rhythm. normal ecg. borderline ecg", store.Entries[0].Report);
        Assert.Equal(0, store.Index.BadRecords);
    }
}
