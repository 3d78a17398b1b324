using Deri.Data.Preprocessing;

namespace Deri.Tests.Interop;

/// <summary>A few PTB-XL records from the shared data, preprocessed the project's way (500 Hz, 5000 samples, min–max, model lead order).</summary>
internal static class RealRecords
{
    public static readonly string[] Ids = ["00001_hr", "00002_hr", "00003_hr"];

    /// <summary>The records as one row-major block <c>(N, 12, 5000)</c>.</summary>
    public static float[] Load(int count = 3)
    {
        var pre = new EcgPreprocessor(PreprocessConfig.Default);
        var data = new float[count * pre.OutputSize];
        for (int i = 0; i < count; i++)
            pre.ProcessFile(Path.Combine(SharedData.Data, "ptbxl", "records500", "00000", Ids[i]), data.AsSpan(i * pre.OutputSize, pre.OutputSize));
        return data;
    }
}
