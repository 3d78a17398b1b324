using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.Signals;

namespace Deri.Tests.Data;

public class SnomedDatasetTests
{
    private static string SplitsDir(string name) => Path.Combine(SharedData.Root, "splits", name);

    [Fact]
    public void LabelsComeFromExactCodesNotSubstringsOfNames()
    {
        var csn = SnomedLabelMap.Csn;
        Assert.Equal(38, csn.Names.Count);
        string[] Set(params string[] codes) => csn.Names.Where((n, i) => csn.Map(codes)[i] > 0).ToArray();
        Assert.Equal(["AFIB"], Set("164889003"));          // atrial fibrillation: not also AF (flutter)
        Assert.Equal(["AF"], Set("164890007"));
        Assert.Equal(["CCR"], Set("251199005"));           // counterclockwise rotation: not also CR
        Assert.Equal(["ST"], Set("427084000"));            // sinus tachycardia: not STE/STTC/STTU/STDD
        Assert.Empty(Set("426177001", "55930002"));        // sinus bradycardia and "ST change" are not among the 38
        Assert.Equal(["VPB"], Set("427172004"));           // the CinC 2021 code of the same class
        Assert.Equal(["VPC"], SnomedLabelMap.Cpsc2018.Names.Where((n, i) => SnomedLabelMap.Cpsc2018.Map(["164884008"])[i] > 0));
        Assert.Equal(9, SnomedLabelMap.Cpsc2018.Names.Count);
    }

    [Fact]
    public void CinC2021CsnHeadersMatchThePapersDiagnoseColumn()
    {
        // The chapman CSVs list each record's diagnoses by acronym; mapping the header's SNOMED codes must give the same classes.
        var diagnose = new Dictionary<string, string>();
        foreach (string split in new[] { "train", "val", "test" })
        {
            var t = CsvTable.Read(Path.Combine(SplitsDir("chapman"), $"chapman_{split}.csv"));
            foreach (var r in t.Rows) diagnose[Path.GetFileNameWithoutExtension(r[t.Column("ecg_path")])] = r[t.Column("diagnose")];
        }
        var csn = SnomedLabelMap.Csn;
        int compared = 0;
        foreach (string hea in Directory.GetFiles(DataFiles.Shared("cinc2021"), "JS*.hea").Order())
        {
            string id = Path.GetFileNameWithoutExtension(hea);
            if (!diagnose.TryGetValue(id, out string? names)) continue;
            var labels = csn.Map(WfdbHeader.Read(hea).Diagnoses);
            var derived = csn.Names.Where((n, i) => labels[i] > 0).Order();
            var listed = names.Split(',').Where(csn.Names.Contains).Order();
            Assert.Equal(listed, derived);
            compared++;
        }
        Assert.True(compared >= 8, $"only {compared} shared CSN records are in the chapman splits");
    }

    [Fact]
    public void CsnOriginalLayoutWithAndWithoutThePapersSplits()
    {
        string root = DataFiles.Shared("csn-original");
        var seeded = CsnDataset.Load(root);
        var e = Assert.Single(seeded.Entries);
        Assert.Equal("JS00001", e.Id);
        Assert.Equal(["AFIB", "RBBB", "TWC"], seeded.LabelNames.Where((n, i) => e.Labels[i] > 0).Order());
        Assert.Contains("atrial fibrillation", e.Report);

        var paper = CsnDataset.Load(root, new ChallengeOptions { SplitsDir = SplitsDir("chapman") });
        Assert.Equal(DataSplits.Train, Assert.Single(paper.Entries).Split);
        // The paper's CSV columns were made by substring matching: AFIB also set AF there.
        var fromFiles = CsnDataset.Load(root, new ChallengeOptions { SplitsDir = SplitsDir("chapman"), Labels = LabelSource.SplitFiles });
        var f = Assert.Single(fromFiles.Entries);
        Assert.Equal(["AF", "AFIB", "RBBB", "TWC"], fromFiles.LabelNames.Where((n, i) => f.Labels[i] > 0).Order());
        Assert.Equal(PreprocessConfig.Default, paper.Preprocess);
    }

    [Fact]
    public void CpscOriginalLayoutLabelsMatchTheIcbebSplits()
    {
        string root = DataFiles.Shared("cpsc2018");
        var derived = Cpsc2018Dataset.Load(root, new ChallengeOptions { SplitsDir = SplitsDir("icbeb") });
        var files = Cpsc2018Dataset.Load(root, new ChallengeOptions { SplitsDir = SplitsDir("icbeb"), Labels = LabelSource.SplitFiles });
        Assert.Equal(10, derived.Entries.Count);
        Assert.Equal(6867, derived.Skipped.Count(s => s.Reason == "record file missing"));
        Assert.Equal(["AFIB", "VPC", "NORM", "1AVB", "CRBBB", "STE", "PAC", "CLBBB", "STD"], derived.LabelNames);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(files.Entries[i].Id, derived.Entries[i].Id);
            Assert.Equal(files.Entries[i].Labels, derived.Entries[i].Labels);
            Assert.Equal(1, derived.Entries[i].Labels.Sum());
        }
        var a1980 = derived.Entries.Single(x => x.Id == "A1980");
        Assert.Equal("premature atrial contraction", a1980.Report);
        Assert.Equal(1, a1980.Labels[6]); // PAC
        Assert.Equal(2500, derived.Preprocess.EffectiveCropLength);

        // The MAT v5 record goes through the CPSC preprocessing: 5 s kept, the second half zero.
        var y = new float[12 * 5000];
        new EcgPreprocessor(derived.Preprocess).ProcessFile(a1980.RecordPath, y);
        for (int l = 0; l < 12; l++) Assert.All(y.AsSpan(l * 5000 + 2500, 2500).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(1f, y.Max(), 5);
    }

    [Fact]
    public void CpscChallengeLayoutReadsDxCodes()
    {
        using var dir = new TempDir();
        // A CinC-style CPSC header beside a copy-free pointer to a real MAT v4 signal file.
        string src = DataFiles.Shared("cinc2021", "JS20001.hea");
        string hea = File.ReadAllText(src).Replace("JS20001", "A0001").Replace("# Dx: 284470004,427084000,698252002", "# Dx: 164889003,59118001");
        dir.File("A0001.hea", hea);
        File.CreateSymbolicLink(Path.Combine(dir.Path, "A0001.mat"), DataFiles.Shared("cinc2021", "JS20001.mat"));
        var ds = Cpsc2018Dataset.Load(dir.Path);
        var e = Assert.Single(ds.Entries);
        Assert.Equal(["AFIB", "CRBBB"], ds.LabelNames.Where((n, i) => e.Labels[i] > 0));
        Assert.Equal("atrial fibrillation. right bundle branch block", e.Report);
    }

    [Fact]
    public void GenericCsvWithLabelsAndSplits()
    {
        using var dir = new TempDir();
        string rec = DataFiles.Shared("ptbxl", "records500", "00000", "00001_hr");
        string rec2 = DataFiles.Shared("ptbxl", "records500", "00000", "00002_hr");
        // A record path may omit .hea or give it; each record is listed once.
        dir.File("records.csv", $"record,report,split,NORM,MI\n{rec},normal ecg,train,1,0\n{rec2}.hea,\"old mi, sinus\",test,0,1\n");
        var ds = GenericDataset.Load(dir.Path);
        Assert.Equal(["NORM", "MI"], ds.LabelNames);
        Assert.Equal(2, ds.Entries.Count);
        Assert.Equal("old mi, sinus", ds.Entries[1].Report);
        Assert.Equal(DataSplits.Test, ds.Entries[1].Split);
        Assert.Equal(rec + ".hea", ds.Entries[0].RecordPath);
        Assert.Equal(rec2 + ".hea", ds.Entries[1].RecordPath);
        dir.File("bad.csv", "record,report,split\nx,y,holdout\n");
        var ex = Assert.Throws<InputFormatException>(() => GenericDataset.Load(dir.Path, new GenericOptions { Csv = "bad.csv" }));
        Assert.Contains("holdout", ex.Message);
    }

    [Fact]
    public void CatalogRejectsUnknownDatasets()
    {
        var ex = Assert.Throws<Deri.IO.InputException>(() => DatasetCatalog.Load("ukbb", SharedData.Data));
        Assert.Contains("mimic, ptbxl, cpsc, csn, generic", ex.Message);
    }
}
