using System.Text;
using Deri.IO;

namespace Deri.Data.Datasets;

/// <summary>
/// A small in-memory CSV table with named-column access and clear errors for missing files, missing columns and
/// ragged rows (a row whose field count differs from the header's).
/// </summary>
public sealed class CsvTable
{
    private readonly Dictionary<string, int> _columns;

    /// <summary>Path the table was read from.</summary>
    public string Path { get; }

    /// <summary>Header names, in file order.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Data rows, each exactly as long as the header.</summary>
    public IReadOnlyList<string[]> Rows { get; }

    /// <summary>The 1-based line of the file on which each row of <see cref="Rows"/> starts (the header is line 1).</summary>
    public IReadOnlyList<int> Lines { get; }

    private CsvTable(string path, string[] header, List<string[]> rows, List<int> lines)
    {
        Path = path;
        Header = header;
        Rows = rows;
        Lines = lines;
        _columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++) _columns.TryAdd(header[i], i);
    }

    /// <summary>Reads a whole CSV file (RFC 4180 quoting, first line is the header; blank lines are ignored).</summary>
    /// <exception cref="InputFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InputFormatException">The file is empty, cannot be parsed, or has a ragged row (named by its line).</exception>
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"CSV file not found: {path}", path);
        var rows = new List<string[]>();
        var lines = new List<int>();
        using var reader = new StreamReader(path, Encoding.UTF8);
        int line = 1;
        var first = ReadRecord(reader, path, ref line) ?? throw new InputFormatException($"{path}: empty CSV file (no header)");
        string[] header = first.Select(h => h.Trim().TrimStart('\uFEFF')).ToArray();
        while (true)
        {
            int start = line;
            if (ReadRecord(reader, path, ref line) is not { } r) break;
            if (r.Length == 1 && r[0].Length == 0) continue;
            // A missing or extra field shifts every later column: report the row, not whatever column it lands in.
            if (r.Length != header.Length)
                throw new InputFormatException($"{path}: line {start}: ragged row: {r.Length} fields, the header has {header.Length}");
            rows.Add(r);
            lines.Add(start);
        }
        return new CsvTable(path, header, rows, lines);
    }

    /// <summary>Where row <paramref name="row"/> (index into <see cref="Rows"/>) is, for messages: <c>FILE: line N</c>.</summary>
    public string At(int row) => $"{Path}: line {Lines[row]}";

    /// <summary>Reads one RFC 4180 record (quoted fields may hold commas, doubled quotes and newlines); null at end of file.</summary>
    /// <remarks><paramref name="line"/> is the line the record starts on, advanced past every line break the record consumes.</remarks>
    private static string[]? ReadRecord(TextReader reader, string path, ref int line)
    {
        int c = reader.Read();
        if (c < 0) return null;
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        while (true)
        {
            if (quoted)
            {
                if (c < 0) throw new InputFormatException($"{path}: unterminated quoted field at end of file");
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append((char)c);
                }
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (c < 0) break;
            else if (c == '\n') { line++; break; }
            else if (c == '\r') { if (reader.Peek() == '\n') reader.Read(); line++; break; }
            else field.Append((char)c);
            c = reader.Read();
        }
        fields.Add(field.ToString());
        return fields.ToArray();
    }

    /// <summary>This table, if it has at least one row.</summary>
    /// <exception cref="InputFormatException">The file holds only a header: preparing it would give an empty store.</exception>
    public CsvTable RequireRows() =>
        Rows.Count > 0 ? this : throw new InputFormatException($"{Path}: no records (the file holds only a header)");

    /// <summary>Index of a column; throws naming the file and the columns present when it is missing.</summary>
    public int Column(string name) =>
        _columns.TryGetValue(name, out int i)
            ? i
            : throw new InputFormatException($"{Path}: missing column '{name}' (columns: {string.Join(", ", Header)})");

    /// <summary>Index of a column, or −1 when it is absent.</summary>
    public int TryColumn(string name) => _columns.TryGetValue(name, out int i) ? i : -1;
}
