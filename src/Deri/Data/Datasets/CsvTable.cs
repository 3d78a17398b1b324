using System.Text;

namespace Deri.Data.Datasets;

/// <summary>A small in-memory CSV table with named-column access and clear errors for missing files and columns.</summary>
public sealed class CsvTable
{
    private readonly Dictionary<string, int> _columns;

    /// <summary>Path the table was read from.</summary>
    public string Path { get; }

    /// <summary>Header names, in file order.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>Data rows (each as long as the header; short rows padded with empty strings).</summary>
    public IReadOnlyList<string[]> Rows { get; }

    private CsvTable(string path, string[] header, List<string[]> rows)
    {
        Path = path;
        Header = header;
        Rows = rows;
        _columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++) _columns.TryAdd(header[i], i);
    }

    /// <summary>Reads a whole CSV file (RFC 4180 quoting, first line is the header).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty or cannot be parsed.</exception>
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file not found: {path}", path);
        var rows = new List<string[]>();
        using var reader = new StreamReader(path, Encoding.UTF8);
        var first = ReadRecord(reader, path) ?? throw new InvalidDataException($"{path}: empty CSV file (no header)");
        string[] header = first.Select(h => h.Trim().TrimStart('\uFEFF')).ToArray();
        while (ReadRecord(reader, path) is { } r)
        {
            if (r.Length == 1 && r[0].Length == 0) continue;
            if (r.Length < header.Length)
            {
                var padded = new string[header.Length];
                Array.Copy(r, padded, r.Length);
                for (int i = r.Length; i < header.Length; i++) padded[i] = "";
                r = padded;
            }
            rows.Add(r);
        }
        return new CsvTable(path, header, rows);
    }

    /// <summary>Reads one RFC 4180 record (quoted fields may hold commas, doubled quotes and newlines); null at end of file.</summary>
    private static string[]? ReadRecord(TextReader reader, string path)
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
                if (c < 0) throw new InvalidDataException($"{path}: unterminated quoted field at end of file");
                if (c == '"')
                {
                    if (reader.Peek() == '"') { reader.Read(); field.Append('"'); }
                    else quoted = false;
                }
                else field.Append((char)c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (c == '\n' || c < 0) break;
            else if (c == '\r') { if (reader.Peek() == '\n') reader.Read(); break; }
            else field.Append((char)c);
            c = reader.Read();
        }
        fields.Add(field.ToString());
        return fields.ToArray();
    }

    /// <summary>Index of a column; throws naming the file and the columns present when it is missing.</summary>
    public int Column(string name) =>
        _columns.TryGetValue(name, out int i)
            ? i
            : throw new InvalidDataException($"{Path}: missing column '{name}' (columns: {string.Join(", ", Header)})");

    /// <summary>Index of a column, or −1 when it is absent.</summary>
    public int TryColumn(string name) => _columns.TryGetValue(name, out int i) ? i : -1;
}
