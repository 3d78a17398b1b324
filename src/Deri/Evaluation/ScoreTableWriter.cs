using System.Globalization;
using Deri.IO;

namespace Deri.Evaluation;

/// <summary>
/// Writes per-record score and label matrices in the format <see cref="ScoreTableReader"/> and <c>deri metrics</c> read:
/// a header of class names (quoted where needed), then one row per record. Files are written atomically.
/// </summary>
public static class ScoreTableWriter
{
    /// <summary>Writes scores with round-trip precision.</summary>
    public static void WriteScores(string path, IReadOnlyList<string> classes, double[,] scores) =>
        AtomicFile.WriteAllLines(path, Lines(classes, scores, v => v.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Writes 0/1 labels.</summary>
    public static void WriteLabels(string path, IReadOnlyList<string> classes, int[,] labels) =>
        AtomicFile.WriteAllLines(path, Lines(classes, labels, v => v.ToString(CultureInfo.InvariantCulture)));

    private static IEnumerable<string> Lines<T>(IReadOnlyList<string> classes, T[,] values, Func<T, string> format)
    {
        if (values.GetLength(1) != classes.Count)
            throw new ArgumentException($"{values.GetLength(1)} columns but {classes.Count} class names");
        yield return string.Join(',', classes.Select(c => c.Contains(',') || c.Contains('"') ? "\"" + c.Replace("\"", "\"\"") + "\"" : c));
        for (int i = 0; i < values.GetLength(0); i++)
            yield return string.Join(',', Enumerable.Range(0, values.GetLength(1)).Select(j => format(values[i, j])));
    }
}
