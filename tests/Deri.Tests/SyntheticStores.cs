using Deri.Data.Datasets;
using Deri.Data.Preprocessing;
using Deri.Data.Store;
using Deri.Synthetic;

namespace Deri.Tests;

/// <summary>Synthetic ECG–report pairs written in the MIMIC-IV-ECG layout and prepared into a 100 Hz, 10 s store, as test fixtures need them.</summary>
public static class SyntheticStores
{
    /// <summary>Writes <paramref name="records"/> synthetic records (generator seed <paramref name="seed"/>) to <paramref name="dataDir"/>
    /// and prepares them into <paramref name="storeDir"/> with validation fraction 0.1 and the given test fraction (split seed 1).</summary>
    public static void Make(string dataDir, string storeDir, int records, int seed, double testFraction)
    {
        SyntheticDatasetWriter.Write(new SyntheticDatasetOptions(dataDir, records, new SyntheticEcgConfig(Seed: seed)));
        var dataset = MimicIvEcgDataset.Load(dataDir, new MimicOptions { ValFraction = 0.1, TestFraction = testFraction, Seed = 1 });
        EcgStoreBuilder.Build(dataset, storeDir, new StoreBuildOptions { Preprocess = PreprocessConfig.Default with { TargetRate = 100, TargetLength = 1000 } });
    }
}
