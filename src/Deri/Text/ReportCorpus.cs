using Deri.Data.Datasets;
using Deri.IO;

namespace Deri.Text;

/// <summary>Reports read from a file, with the rows that had none.</summary>
/// <param name="Path">The file.</param>
/// <param name="Reports">Non-empty reports, in file order (duplicates kept).</param>
/// <param name="Skipped">Rows whose report was empty or missing, by 1-based data row number.</param>
public sealed record ReportCorpus(string Path, IReadOnlyList<string> Reports, IReadOnlyList<int> Skipped)
{
    /// <summary>
    /// Reads reports from a CSV file (column <paramref name="column"/>, e.g. PTB-XL's
    /// <c>ptbxl_database.csv</c> <c>report</c>) or, for any other extension, one report per non-blank line.
    /// Empty reports are skipped and listed, not fatal.
    /// </summary>
    /// <exception cref="InputFormatException">The CSV has no such column.</exception>
    public static ReportCorpus Read(string path, string column = "report")
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: report file not found", path);
        var reports = new List<string>();
        var skipped = new List<int>();
        if (!path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            int line = 0;
            foreach (var text in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) skipped.Add(line);
                else reports.Add(text.Trim());
            }
            return new ReportCorpus(path, reports, skipped);
        }
        var table = CsvTable.Read(path);
        int index = table.TryColumn(column);
        if (index < 0) throw new InputFormatException($"{path}: no column '{column}' (columns: {string.Join(", ", table.Header)})");
        for (int row = 0; row < table.Rows.Count; row++)
        {
            string text = table.Rows[row][index];
            if (string.IsNullOrWhiteSpace(text)) skipped.Add(row + 1);
            else reports.Add(text.Trim());
        }
        return new ReportCorpus(path, reports, skipped);
    }
}
