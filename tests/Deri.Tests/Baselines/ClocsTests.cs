using Deri.Baselines;
using Deri.Config;
using Deri.Data.Datasets;
using Deri.Data.Store;
using Deri.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Deri.Tests.Baselines;

// Seeded draws from the torch default generator: no other test may draw from it meanwhile.
[Collection("torch-global-generator")]
public class ClocsTests(ITestOutputHelper output)
{
    // The paper's loss, written out: log-softmax by rows and columns of exp(cos/τ), diagonal terms, same-patient terms.
    private static double ExpectedLoss(float[] v, int views, int b, int e, string?[]? patients, double tau)
    {
        double[] Unit(int view, int i)
        {
            var x = Enumerable.Range(0, e).Select(c => (double)v[(view * b + i) * e + c]).ToArray();
            double n = Math.Sqrt(x.Sum(y => y * y));
            return x.Select(y => y / n).ToArray();
        }
        bool Same(int i, int j) => i != j && patients != null && patients[i] != null && patients[i] == patients[j];
        double total = 0;
        int combos = 0, terms = 2;
        bool anyUpper = false, anyLower = false;
        for (int a = 0; a < views; a++)
            for (int c = a + 1; c < views; c++)
            {
                var s = new double[b, b];
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < b; j++) s[i, j] = Unit(a, i).Zip(Unit(c, j), (x, y) => x * y).Sum() / tau;
                double RowLog(int i, int j) => s[i, j] - Math.Log(Enumerable.Range(0, b).Sum(k => Math.Exp(s[i, k])));
                double ColLog(int i, int j) => s[i, j] - Math.Log(Enumerable.Range(0, b).Sum(k => Math.Exp(s[k, j])));
                double d1 = 0, d2 = 0;
                for (int i = 0; i < b; i++) { d1 -= RowLog(i, i) / b; d2 -= ColLog(i, i) / b; }
                double loss = d1 + d2;
                var upper = new List<double>();
                var lower = new List<double>();
                for (int i = 0; i < b; i++)
                    for (int j = 0; j < b; j++)
                        if (Same(i, j)) { if (i < j) upper.Add(-RowLog(i, j)); else lower.Add(-ColLog(i, j)); }
                if (upper.Count > 0) { loss += upper.Average(); anyUpper = true; }
                if (lower.Count > 0) { loss += lower.Average(); anyLower = true; }
                total += loss;
                combos++;
            }
        if (anyUpper) terms++;
        if (anyLower) terms++;
        return total / (terms * combos);
    }

    [Fact]
    public void PatientContrastiveLossMatchesDoubleLoops()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var views = randn(3, 5, 4);
        var data = views.data<float>().ToArray();
        string?[] patients = ["p1", "p2", "p1", null, "p2"];
        Assert.Equal(ExpectedLoss(data, 3, 5, 4, patients, 0.1), Clocs.PatientContrastiveLoss(views, patients, 0.1).ToDouble(), 4);
        Assert.Equal(ExpectedLoss(data, 3, 5, 4, null, 0.1), Clocs.PatientContrastiveLoss(views, null, 0.1).ToDouble(), 4);
        // Unknown (null) patients and distinct patients are both instance-only positives.
        string?[] distinct = ["a", "b", "c", "d", "e"];
        Assert.Equal(Clocs.PatientContrastiveLoss(views, null, 0.1).ToDouble(),
            Clocs.PatientContrastiveLoss(views, distinct, 0.1).ToDouble(), 6);
        Assert.Equal(Clocs.PatientContrastiveLoss(views, null, 0.1).ToDouble(),
            Clocs.PatientContrastiveLoss(views, new string?[5], 0.1).ToDouble(), 6);
        Assert.Throws<ArgumentException>(() => Clocs.PatientContrastiveLoss(views, ["x"], 0.1));
    }

    [Fact]
    public void SamePatientRecordsArePositives()
    {
        using var scope = NewDisposeScope();
        // Three records, two views each identical to the record's embedding; records 0 and 1 share a patient.
        var apart = tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, [3, 3]);
        var together = tensor(new float[] { 1, 0, 0, 1, 0, 0, 0, 0, 1 }, [3, 3]);
        string?[] patients = ["p", "p", "q"];
        double Loss(Tensor emb, string?[]? p) => Clocs.PatientContrastiveLoss(stack([emb, emb]), p, 0.1).ToDouble();
        // Instance positives only: the same-patient record is a negative, so making it identical hurts (≈ 0 → 2·ln2/3).
        Assert.True(Loss(together, null) > Loss(apart, null) + 0.4);
        Assert.Equal(2 * Math.Log(2) / 3, Loss(together, null), 3);
        // Patient-aware: it is a positive, so keeping it apart costs ≈ 2·10/4 and together ≈ (4/3 + 2)·ln2/4.
        Assert.True(Loss(together, patients) < Loss(apart, patients) - 4);
        Assert.Equal((4.0 / 3 + 2) * Math.Log(2) / 4, Loss(together, patients), 3);
    }

    [Theory]
    [InlineData("cmsc", 2)]
    [InlineData("cmlc", 2)]
    [InlineData("cmsmlc", 4)]
    public void ViewsAreAdjacentSegmentsAndLeadGroups(string mode, int expectedViews)
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        using var method = Clocs.Create(SslTestData.TinyResNet, 300, new ClocsConfig { Mode = mode, SegmentLength = 100 });
        Assert.Equal(100, method.SegmentLength);
        var x = randn(3, 12, 300);
        var (views, count) = method.MakeViews(x);
        Assert.Equal(expectedViews, count);
        Assert.Equal([count * 3L, 12, 100], views.shape);
        var v = views.view(count, 3, 12, 100);
        var limb = tensor(new float[] { 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0 }).view(1, 12, 1);
        // Find the segment start of the first view from its unmasked leads.
        long start = Enumerable.Range(0, 201).Single(o => v[0, .., ..6].allclose(x[.., ..6, o..(o + 100)]));
        Tensor Seg(long o) => x[.., .., (int)o..(int)(o + 100)];
        switch (mode)
        {
            case "cmsc":
                Assert.True(v[0].allclose(Seg(start)) && v[1].allclose(Seg(start + 100)));
                break;
            case "cmlc":
                Assert.True(v[0].allclose(Seg(start) * limb) && v[1].allclose(Seg(start) * (1 - limb)));
                break;
            default:
                Assert.True(v[0].allclose(Seg(start) * limb) && v[1].allclose(Seg(start) * (1 - limb)));
                Assert.True(v[2].allclose(Seg(start + 100) * limb) && v[3].allclose(Seg(start + 100) * (1 - limb)));
                break;
        }
    }

    [Fact]
    public void RepresentationAveragesTheSegments()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        using var method = Clocs.Create(SslTestData.TinyResNet, 256, new ClocsConfig());
        method.eval();
        using var _ = no_grad();
        var x = randn(2, 12, 256);
        var rep = method.Represent(x);
        Assert.Equal([2L, method.RepresentationDim], rep.shape);
        // Same as representing each half on its own and averaging.
        var halves = (method.Represent(x[.., .., ..128]) + method.Represent(x[.., .., 128..])) / 2;
        Assert.True(rep.allclose(halves, rtol: 1e-4, atol: 1e-5));
        var terms = new ClocsConfig { Mode = "cmlc", LeadGroups = [[0, 12]] };
        Assert.Contains("clocs.lead_groups", Assert.Throws<ConfigException>(() => Clocs.Create(SslTestData.TinyResNet, 256, terms)).Message);
        Assert.Contains("clocs.mode", Assert.Throws<ConfigException>(() => Clocs.Create(SslTestData.TinyResNet, 256, new ClocsConfig { Mode = "x" })).Message);
        Assert.Contains("clocs.segment_length", Assert.Throws<ConfigException>(
            () => Clocs.Create(SslTestData.TinyResNet, 256, new ClocsConfig { SegmentLength = 200 })).Message);
    }

    [Fact]
    public void AVitBackboneIsBuiltForOneSegment()
    {
        using var scope = NewDisposeScope();
        manual_seed(15);
        // A ViT has a fixed token count, so the segment-based methods build it for the segment and cut records into segments.
        var vit = new Deri.Config.NetworkConfig { EcgModel = "vit_tiny", PatchSize = 32, NumLeads = 12 };
        using var clocs = Clocs.Create(vit, 256, new ClocsConfig { Mode = "cmsmlc" });
        using var astcl = Astcl.Create(vit, 256, new AstclConfig());
        using var batch = SslTestData.Batch(SslTestData.Signals(2, 256, 2), 256, [0, 1]);
        Assert.True(double.IsFinite(clocs.Losses(batch)[Clocs.LossTerm].ToDouble()));
        Assert.True(double.IsFinite(astcl.Losses(batch)[Astcl.TemporalTerm].ToDouble()));
        clocs.eval();
        using var _ = no_grad();
        Assert.Equal([2L, 192], clocs.Represent(batch.Ecg).shape);
    }

    [Fact]
    public void ShortTrainingReducesTheLoss()
    {
        manual_seed(14);
        using var method = Clocs.Create(SslTestData.TinyResNet, 256, new ClocsConfig { Mode = "cmsmlc" });
        var (before, after) = SslTestData.Train(method, count: 32, length: 256, batchSize: 8, epochs: 4, lr: 3e-3);
        output.WriteLine($"probe loss {before:F4} → {after:F4}");
        Assert.True(after < before * 0.9, $"loss {before:F4} → {after:F4}");
    }

    [Fact]
    public void PatientsReachTheStoreFromPtbXlAndMimic()
    {
        using var dir = new TempDir();
        var full = PtbXlDataset.Load(DataFiles.Shared("ptbxl"), new PtbXlOptions { Task = PtbXlTask.None });
        Assert.Equal("15709", full.Entries[0].Patient); // patient_id "15709.0" of ecg_id 1
        Assert.All(full.Entries, e => Assert.False(string.IsNullOrEmpty(e.Patient)));
        var small = new EcgDataset("ptbxl", full.LabelNames, full.Entries.Take(3).ToList(), full.Preprocess);
        string path = Path.Combine(dir.Path, "store");
        EcgStoreBuilder.Build(small, path);
        using (var store = EcgStore.Open(path))
            Assert.Equal(small.Entries.Select(e => e.Patient), store.Entries.Select(e => e.Patient));
        Assert.Contains("\"patient\": \"15709\"", File.ReadAllText(Path.Combine(path, EcgStore.IndexFile)).Replace("\":\"", "\": \""));

        // MIMIC: subject_id of record_list.csv; a blank cell is an unknown patient.
        dir.File("mimic/record_list.csv",
            "subject_id,study_id,file_name,ecg_time,path\n" +
            "10000032,40689238,40689238,2180-07-23 08:44:00,files/p1000/p10000032/s40689238/40689238\n" +
            ",40689239,40689239,2180-07-23 08:45:00,files/p1000/p10000033/s40689239/40689239\n");
        dir.File("mimic/machine_measurements.csv",
            "subject_id,study_id,report_0\n10000032,40689238,Sinus rhythm with borderline ECG\n,40689239,Sinus rhythm with borderline ECG\n");
        var mimic = MimicIvEcgDataset.Load(Path.Combine(dir.Path, "mimic"), new MimicOptions { ValFraction = 0 });
        Assert.Equal(["10000032", null], mimic.Entries.Select(e => e.Patient));
    }
}
