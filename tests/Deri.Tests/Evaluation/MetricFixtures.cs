using System.Text.Json;

namespace Deri.Tests.Evaluation;

/// <summary>Finds the committed fixtures of tools/metrics/make_metric_fixtures.py.</summary>
internal static class MetricFixtures
{
    public static string Dir => TestFixtures.Dir("metrics");

    public static string File(string name) => Path.Combine(Dir, name);

    public static JsonDocument Json(string name) => JsonDocument.Parse(System.IO.File.ReadAllText(File(name)));

    public static double[,] Matrix(JsonElement rows)
    {
        int n = rows.GetArrayLength(), c = rows[0].GetArrayLength();
        var m = new double[n, c];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++) m[i, j] = rows[i][j].GetDouble();
        return m;
    }

    public static int[,] IntMatrix(JsonElement rows)
    {
        int n = rows.GetArrayLength(), c = rows[0].GetArrayLength();
        var m = new int[n, c];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++) m[i, j] = rows[i][j].GetInt32();
        return m;
    }

    /// <summary>A temporary folder deleted on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("deri-eval-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() => Directory.Delete(Path, true);
    }
}
