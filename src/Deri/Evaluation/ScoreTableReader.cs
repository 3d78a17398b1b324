using System.Globalization;

namespace Deri.Evaluation;

/// <summary>A numeric table read from CSV: a header row of column names, then one row per sample.</summary>
/// <param name="Path">The file it was read from.</param>
/// <param name="Columns">Column names from the header.</param>
/// <param name="Values">Values <c>(rows, columns)</c>.</param>
public sealed record NumericTable(string Path, IReadOnlyList<string> Columns, double[,] Values)
{
    /// <summary>Number of data rows.</summary>
    public int Rows => Values.GetLength(0);
}

/// <summary>
/// Reads the score and label CSV files of <c>deri metrics</c>: comma-separated, a header row, one column per
/// class. Every problem is reported with the file, the 1-based line number and the column name.
/// </summary>
public static class ScoreTableReader
{
    /// <summary>Reads a table of finite scores.</summary>
    /// <exception cref="InvalidDataException">Empty file, ragged row, non-numeric or non-finite value.</exception>
    public static NumericTable ReadScores(string path) => Read(path, labels: false);

    /// <summary>Reads a table of 0/1 labels (written as integers or as 0.0/1.0).</summary>
    /// <exception cref="InvalidDataException">Empty file, ragged row, or a value other than 0 or 1.</exception>
    public static NumericTable ReadLabels(string path) => Read(path, labels: true);

    /// <summary>Converts a label table read by <see cref="ReadLabels"/> to integers.</summary>
    public static int[,] AsLabels(NumericTable table)
    {
        var v = table.Values;
        var r = new int[v.GetLength(0), v.GetLength(1)];
        for (int i = 0; i < v.GetLength(0); i++)
            for (int j = 0; j < v.GetLength(1); j++) r[i, j] = (int)v[i, j];
        return r;
    }

    /// <summary>
    /// Checks that a score table and a label table describe the same samples and classes
    /// (same columns in the same order, same number of rows).
    /// </summary>
    /// <exception cref="InvalidDataException">They differ; the message names both files.</exception>
    public static void CheckPaired(NumericTable scores, NumericTable labels)
    {
        if (scores.Columns.Count != labels.Columns.Count)
            throw new InvalidDataException(
                $"{scores.Path} has {scores.Columns.Count} columns ({string.Join(",", scores.Columns)}) but {labels.Path} has {labels.Columns.Count} ({string.Join(",", labels.Columns)})");
        for (int j = 0; j < scores.Columns.Count; j++)
            if (scores.Columns[j] != labels.Columns[j])
                throw new InvalidDataException(
                    $"column {j + 1} is '{scores.Columns[j]}' in {scores.Path} but '{labels.Columns[j]}' in {labels.Path}: the files must list the same classes in the same order");
        if (scores.Rows != labels.Rows)
            throw new InvalidDataException($"{scores.Path} has {scores.Rows} data rows but {labels.Path} has {labels.Rows}");
    }

    private static NumericTable Read(string path, bool labels)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        var lines = File.ReadAllLines(path);
        int first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first < 0) throw new InvalidDataException($"{path}: empty file (expected a header row of class names)");
        var header = Split(lines[first]);
        for (int j = 0; j < header.Length; j++)
        {
            if (header[j].Length == 0) throw new InvalidDataException($"{path}, line {first + 1}: column {j + 1} of the header has no name");
            if (double.TryParse(header[j], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                throw new InvalidDataException($"{path}, line {first + 1}: the first row must be a header of class names, found the number '{header[j]}'");
        }
        var dup = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidDataException($"{path}, line {first + 1}: column name '{dup.Key}' appears twice");
        var rows = new List<(int Line, double[] Values)>();
        for (int i = first + 1; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var cells = Split(lines[i]);
            if (cells.Length != header.Length)
                throw new InvalidDataException($"{path}, line {i + 1}: {cells.Length} values but the header has {header.Length} columns");
            var values = new double[cells.Length];
            for (int j = 0; j < cells.Length; j++)
            {
                string where = $"{path}, line {i + 1}, column '{header[j]}'";
                if (!double.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InvalidDataException($"{where}: '{cells[j]}' is not a number");
                if (double.IsNaN(v)) throw new InvalidDataException($"{where}: value is NaN");
                if (!double.IsFinite(v)) throw new InvalidDataException($"{where}: value is infinite");
                if (labels && v is not (0.0 or 1.0)) throw new InvalidDataException($"{where}: label '{cells[j]}' is not 0 or 1");
                values[j] = v;
            }
            rows.Add((i + 1, values));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path}: no data rows after the header");
        var m = new double[rows.Count, header.Length];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < header.Length; j++) m[i, j] = rows[i].Values[j];
        return new NumericTable(path, header, m);
    }

    // Comma-separated cells, trimmed, with optional double quotes around a cell ("" inside quotes is a quote).
    private static string[] Split(string line)
    {
        var cells = new List<string>();
        var cur = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { cur.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else cur.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { cells.Add(cur.ToString().Trim()); cur.Clear(); }
            else cur.Append(ch);
        }
        cells.Add(cur.ToString().Trim());
        return cells.ToArray();
    }
}
