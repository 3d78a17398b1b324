using System.Globalization;
using Deri.Data.Datasets;
using Deri.IO;

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
/// class (read with <see cref="CsvTable"/>). Every problem is reported with the file, the 1-based line number and the
/// column name.
/// </summary>
public static class ScoreTableReader
{
    /// <summary>Reads a table of finite scores.</summary>
    /// <exception cref="InputFormatException">Empty file, ragged row, non-numeric or non-finite value.</exception>
    public static NumericTable ReadScores(string path) => Read(path, labels: false);

    /// <summary>Reads a table of 0/1 labels (written as integers or as 0.0/1.0).</summary>
    /// <exception cref="InputFormatException">Empty file, ragged row, or a value other than 0 or 1.</exception>
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
    /// <exception cref="InputFormatException">They differ; the message names both files.</exception>
    public static void CheckPaired(NumericTable scores, NumericTable labels)
    {
        if (scores.Columns.Count != labels.Columns.Count)
            throw new InputFormatException(
                $"{scores.Path} has {scores.Columns.Count} columns ({string.Join(",", scores.Columns)}) but {labels.Path} has {labels.Columns.Count} ({string.Join(",", labels.Columns)})");
        for (int j = 0; j < scores.Columns.Count; j++)
            if (scores.Columns[j] != labels.Columns[j])
                throw new InputFormatException(
                    $"column {j + 1} is '{scores.Columns[j]}' in {scores.Path} but '{labels.Columns[j]}' in {labels.Path}: the files must list the same classes in the same order");
        if (scores.Rows != labels.Rows)
            throw new InputFormatException($"{scores.Path} has {scores.Rows} data rows but {labels.Path} has {labels.Rows}");
    }

    private static NumericTable Read(string path, bool labels)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: file not found", path);
        if (new FileInfo(path).Length == 0 || File.ReadAllText(path).Trim().Length == 0)
            throw new InputFormatException($"{path}: empty file (expected a header row of class names)");
        // The project's one CSV reader: RFC 4180 quoting, the line each row starts on, ragged rows refused by line.
        var table = CsvTable.Read(path);
        var header = table.Header;
        for (int j = 0; j < header.Count; j++)
        {
            if (header[j].Length == 0) throw new InputFormatException($"{path}, line 1: column {j + 1} of the header has no name");
            if (double.TryParse(header[j], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                throw new InputFormatException($"{path}, line 1: the first row must be a header of class names, found the number '{header[j]}'");
        }
        var dup = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InputFormatException($"{path}, line 1: column name '{dup.Key}' appears twice");
        if (table.Rows.Count == 0) throw new InputFormatException($"{path}: no data rows after the header");
        var m = new double[table.Rows.Count, header.Count];
        for (int i = 0; i < table.Rows.Count; i++)
        {
            for (int j = 0; j < header.Count; j++)
            {
                string cell = table.Rows[i][j].Trim();
                string where = $"{path}, line {table.Lines[i]}, column '{header[j]}'";
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InputFormatException($"{where}: '{cell}' is not a number");
                if (double.IsNaN(v)) throw new InputFormatException($"{where}: value is NaN");
                if (!double.IsFinite(v)) throw new InputFormatException($"{where}: value is infinite");
                if (labels && v is not (0.0 or 1.0)) throw new InputFormatException($"{where}: label '{cell}' is not 0 or 1");
                m[i, j] = v;
            }
        }
        return new NumericTable(path, header, m);
    }
}
