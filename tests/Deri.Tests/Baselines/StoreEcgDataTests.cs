using System.Text.Json.Nodes;
using Deri.Baselines;
using Deri.Data.Store;
using Deri.Tests.Pretraining;

namespace Deri.Tests.Baselines;

/// <summary>The ECG-only training data: signals of a split and the patient of each record.</summary>
public sealed class StoreEcgDataTests(TinyPretrainingData data) : IClassFixture<TinyPretrainingData>
{
    [Fact]
    public void BatchesCarryTheSignalsAndThePatientsOfTheStoreEntries()
    {
        // A copy of the tiny store whose index names a patient for every other record.
        string dir = Path.Combine(data.Root, "store-patients");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(data.StoreDir, "signals.f32"), Path.Combine(dir, "signals.f32"), overwrite: true);
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(data.StoreDir, EcgStore.IndexFile)))!;
        var entries = index["entries"]!.AsArray();
        for (int i = 0; i < entries.Count; i += 2) entries[i]!["patient"] = $"p{i / 4}";
        File.WriteAllText(Path.Combine(dir, EcgStore.IndexFile), index.ToJsonString());

        using var store = EcgStore.Open(dir);
        var train = StoreEcgData.ForSplit(store, "train");
        Assert.Equal(store.IndicesOf("train").Length, train.Count);
        using var batch = train.Load([0, 1, 2]);
        Assert.Equal(new long[] { 3, store.Index.Leads, store.Index.Length }, batch.Ecg.shape);
        var expected = new[] { 0, 1, 2 }.Select(i => store.Entries[train.Rows[i]].Patient).ToArray();
        Assert.Equal(expected, batch.Patients);
        Assert.Contains(expected, p => p is not null);
        using var first = store.ReadTensor([train.Rows[1]]);
        Assert.Equal(first[0].data<float>().ToArray(), batch.Ecg[1].contiguous().data<float>().ToArray());
    }
}
