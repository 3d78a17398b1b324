using System.Globalization;
using Deri.Data.Datasets;
using Deri.IO;

namespace Deri.Synthetic;

/// <summary>
/// The 71 PTB-XL statements (<c>scp_statements.csv</c>) and the statement sets of real records
/// (<c>scp_codes</c> of a PTB-XL metadata CSV such as <c>ptbxl_reports.csv</c> or <c>ptbxl_database.csv</c>), restricted
/// to some stratification folds: the generator's PTB-XL statement mode draws each record's statements as one real
/// record's set, so statement frequencies and co-occurrences are those of the data while the evaluation folds are
/// never copied.
/// </summary>
public sealed class PtbXlStatementSource
{
    /// <summary>The default folds drawn from: 1–7, so that the evaluation folds 8 and 9 (and 10) are never copied.</summary>
    public static IReadOnlyList<int> DefaultFolds { get; } = [1, 2, 3, 4, 5, 6, 7];

    private readonly (string Code, double Likelihood)[][] _sets;

    private PtbXlStatementSource(IReadOnlyDictionary<string, ScpStatement> statements, IReadOnlyList<string> codes, (string, double)[][] sets, IReadOnlyList<int> folds, string statementsPath)
    {
        Statements = statements;
        Codes = codes;
        _sets = sets;
        Folds = folds;
        StatementsPath = statementsPath;
    }

    /// <summary><c>scp_statements.csv</c> keyed by code.</summary>
    public IReadOnlyDictionary<string, ScpStatement> Statements { get; }

    /// <summary>The statement codes in the order of <c>scp_statements.csv</c> (the column order of the written <c>labels.csv</c>).</summary>
    public IReadOnlyList<string> Codes { get; }

    /// <summary>The folds the sets were taken from.</summary>
    public IReadOnlyList<int> Folds { get; }

    /// <summary>Full path of the <c>scp_statements.csv</c> read (copied beside a written data set).</summary>
    public string StatementsPath { get; }

    /// <summary>Number of real statement sets drawn from.</summary>
    public int Count => _sets.Length;

    /// <summary>Statement set <paramref name="i"/> (codes with their likelihoods, as in <c>scp_codes</c>).</summary>
    public IReadOnlyList<(string Code, double Likelihood)> Set(int i) => _sets[i];

    /// <summary>Reads the statements and the real statement sets of <paramref name="folds"/>.</summary>
    /// <param name="statementsCsv"><c>scp_statements.csv</c>.</param>
    /// <param name="recordsCsv">A PTB-XL metadata CSV with <c>scp_codes</c> and <c>strat_fold</c>.</param>
    /// <param name="folds">Folds (1–10) whose records' sets are drawn; <c>null</c> = <see cref="DefaultFolds"/>.</param>
    /// <exception cref="InputException">A file is missing or malformed, a code is not in <c>scp_statements.csv</c>, or the folds hold no record with statements.</exception>
    public static PtbXlStatementSource Load(string statementsCsv, string recordsCsv, IReadOnlyList<int>? folds = null)
    {
        folds ??= DefaultFolds;
        if (folds.Count == 0) throw new InputException("no fold to draw PTB-XL statement sets from");
        foreach (int f in folds)
            if (f is < 1 or > 10) throw new InputException($"PTB-XL fold {f} is outside 1–10");
        IReadOnlyDictionary<string, ScpStatement> statements;
        CsvTable table;
        try
        {
            statements = PtbXlDataset.ReadStatements(statementsCsv);
            table = CsvTable.Read(recordsCsv).RequireRows();
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new InputException(e.Message, e);
        }
        var codes = CsvTable.Read(statementsCsv).Rows.Select(r => r[0].Trim()).Where(c => c.Length > 0).ToList();
        int cCodes = ColumnOrThrow(table, "scp_codes"), cFold = ColumnOrThrow(table, "strat_fold");
        var wanted = folds.ToHashSet();
        var sets = new List<(string, double)[]>();
        for (int r = 0; r < table.Rows.Count; r++)
        {
            var row = table.Rows[r];
            if (!int.TryParse(row[cFold].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int fold))
                throw new InputException($"{table.At(r)}: strat_fold '{row[cFold]}' is not an integer");
            if (!wanted.Contains(fold) || string.IsNullOrWhiteSpace(row[cCodes])) continue;
            IReadOnlyList<(string Code, double Likelihood)> set;
            try
            {
                set = PtbXlDataset.ParseScpCodes(row[cCodes], table.At(r));
            }
            catch (InvalidDataException e)
            {
                throw new InputException(e.Message, e);
            }
            foreach (var (code, _) in set)
                if (!statements.ContainsKey(code))
                    throw new InputException($"{table.At(r)}: statement '{code}' is not in {statementsCsv}");
            if (set.Count > 0) sets.Add(set.ToArray());
        }
        if (sets.Count == 0) throw new InputException($"{recordsCsv}: folds {string.Join(",", folds)} hold no record with scp_codes");
        return new PtbXlStatementSource(statements, codes, sets.ToArray(), folds.ToArray(), Path.GetFullPath(statementsCsv));
    }

    /// <summary>A source over given statement sets (tests and callers with their own sets).</summary>
    /// <param name="statements"><c>scp_statements.csv</c> keyed by code.</param>
    /// <param name="codes">Code order.</param>
    /// <param name="sets">The statement sets to draw from.</param>
    /// <param name="statementsPath"><c>scp_statements.csv</c> to copy beside a written data set.</param>
    /// <exception cref="InputException">No set, or a code not among <paramref name="statements"/>.</exception>
    public static PtbXlStatementSource FromSets(IReadOnlyDictionary<string, ScpStatement> statements, IReadOnlyList<string> codes,
        IReadOnlyList<IReadOnlyList<(string Code, double Likelihood)>> sets, string statementsPath)
    {
        if (sets.Count == 0) throw new InputException("no PTB-XL statement set to draw from");
        foreach (var s in sets)
            foreach (var (code, _) in s)
                if (!statements.ContainsKey(code)) throw new InputException($"statement '{code}' is not in {statementsPath}");
        return new PtbXlStatementSource(statements, codes, sets.Select(s => s.ToArray()).ToArray(), [], Path.GetFullPath(statementsPath));
    }

    /// <summary>Draws one real statement set, uniformly over the records of the folds.</summary>
    public IReadOnlyList<(string Code, double Likelihood)> Draw(SyntheticRandom rng) => _sets[rng.Int(0, _sets.Length)];

    /// <summary>
    /// Parses a fold list: comma-separated folds (1–10) or ranges <c>a-b</c>, e.g. <c>1-7</c> or <c>1-6,8</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An empty list, a fold outside 1–10, a reversed range or a repeated fold.</exception>
    public static IReadOnlyList<int> ParseFolds(string text)
    {
        var folds = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            if (ends.Length > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v is >= 1 and <= 10))
                throw new ArgumentException($"statement folds '{text}': '{part}' is not a fold (1–10) or a range of folds such as 1-7");
            int a = int.Parse(ends[0], CultureInfo.InvariantCulture), b = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (b < a) throw new ArgumentException($"statement folds '{text}': range '{part}' is reversed (write {b}-{a})");
            for (int f = a; f <= b; f++)
            {
                if (folds.Contains(f)) throw new ArgumentException($"statement folds '{text}': fold {f} is listed twice");
                folds.Add(f);
            }
        }
        if (folds.Count == 0) throw new ArgumentException($"statement folds '{text}' list no fold");
        return folds;
    }

    private static int ColumnOrThrow(CsvTable t, string name) =>
        t.TryColumn(name) is >= 0 and var c ? c : throw new InputException($"{t.Path}: no column '{name}' (a PTB-XL metadata CSV such as ptbxl_database.csv or ptbxl_reports.csv is needed)");
}
