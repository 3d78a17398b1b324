using System.Globalization;

namespace Deri.Signals;

/// <summary>One row of CPSC2018's <c>REFERENCE.csv</c> / <c>REFERENCE_with_text.csv</c>.</summary>
/// <param name="Recording">Record name, e.g. <c>A0001</c>.</param>
/// <param name="Labels">Class numbers 1–9 (first, second, third label; at least one).</param>
/// <param name="Text">Label text from <c>REFERENCE_with_text.csv</c> (<c>reports</c> column), when present.</param>
/// <param name="Sex">Sex, when the file has the column.</param>
/// <param name="Age">Age in years, when the file has the column and the age is known (negative ages mean unknown).</param>
public sealed record Cpsc2018Label(string Recording, IReadOnlyList<int> Labels, string? Text, string? Sex, int? Age);

/// <summary>
/// The CPSC2018 (ICBEB 2018) challenge data in its original layout: one MAT v5 file per record holding a
/// zlib-compressed struct <c>ECG{sex, age, data}</c>, where <c>data</c> is a 12×N double matrix in mV at 500 Hz
/// (leads I, II, III, aVR, aVL, aVF, V1–V6), and labels 1–9 in <c>REFERENCE.csv</c>.
/// </summary>
public static class Cpsc2018
{
    /// <summary>Sampling rate of every CPSC2018 record.</summary>
    public const double SamplingRate = 500;

    /// <summary>Gain used for <see cref="EcgRecord.Digital"/> (µV resolution); exact values are in <see cref="EcgRecord.ExactPhysical"/>.</summary>
    public const double Gain = 1000;

    /// <summary>Lead order of the <c>data</c> matrix rows.</summary>
    public static IReadOnlyList<string> Leads { get; } = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];

    /// <summary>Class names of labels 1–9 (index 0 unused).</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "", "Normal", "Atrial fibrillation (AF)", "First-degree atrioventricular block (I-AVB)", "Left bundle branch block (LBBB)",
        "Right bundle branch block (RBBB)", "Premature atrial contraction (PAC)", "Premature ventricular contraction (PVC)",
        "ST-segment depression (STD)", "ST-segment elevation (STE)",
    ];

    /// <summary>Reads one record's <c>.mat</c> file. NaN samples are kept as missing (NaN physical, <see cref="int.MinValue"/> digital).</summary>
    /// <exception cref="EcgFormatException">The file is missing, empty, not MAT v5, lacks the <c>ECG</c> struct or its
    /// <c>data</c> is not 12×N numeric; or missing samples are present and <paramref name="options"/> forbid them.</exception>
    public static EcgRecord Read(string path, RecordReadOptions? options = null)
    {
        options ??= RecordReadOptions.Default;
        RegularFile.Length(path, "file");
        var vars = MatV5.Read(File.ReadAllBytes(path), path, options.Limits.MaxInflatedBytes);
        if (!vars.TryGetValue("ECG", out var ecgVar) || ecgVar is not MatStruct ecg || ecg.Elements.Length != 1)
            throw new EcgFormatException(path, $"no 1×1 struct 'ECG' (variables: {string.Join(", ", vars.Keys)})");
        var fields = ecg.Elements[0];
        if (!fields.TryGetValue("data", out var dataVar) || dataVar is not MatNumeric data)
            throw new EcgFormatException(path, "struct ECG has no numeric field 'data'");
        if (data.Dims.Length != 2 || data.Dims[0] != 12)
            throw new EcgFormatException(path, $"ECG.data is {string.Join('×', data.Dims)}, expected 12×N (leads × samples)");
        int n = data.Dims[1];
        if (n == 0) throw new EcgFormatException(path, "ECG.data has no samples");
        options.Limits.Check(path, 12, n, SamplingRate);

        var exact = new double[12][];
        var digital = new int[12][];
        int missing = 0;
        for (int c = 0; c < 12; c++)
        {
            var e = new double[n];
            var d = new int[n];
            for (int t = 0, i = c; t < n; t++, i += 12)
            {
                double v = data.Real[i];
                e[t] = v;
                if (double.IsNaN(v))
                {
                    d[t] = int.MinValue;
                    missing++;
                    continue;
                }
                double scaled = Math.Round(v * Gain);
                if (!(scaled > int.MinValue && scaled <= int.MaxValue))
                    throw new EcgFormatException(path, $"ECG.data lead {Leads[c]} sample {t} is {v} mV, outside any ECG range");
                d[t] = (int)scaled;
            }
            exact[c] = e;
            digital[c] = d;
        }
        if (!options.AllowMissing && missing > 0)
            throw new EcgFormatException(path, $"{missing} NaN samples in ECG.data");

        string? sex = fields.TryGetValue("sex", out var s) ? s switch
        {
            MatChar ch when ch.Text.Trim().Length > 0 => ch.Text.Trim(),
            _ => null,
        } : null;
        int? age = fields.TryGetValue("age", out var a) && a is MatNumeric an && an.Real.Length == 1 && double.IsFinite(an.Real[0]) && an.Real[0] >= 0
            ? (int)Math.Round(an.Real[0]) : null;
        return new EcgRecord
        {
            Id = Path.GetFileNameWithoutExtension(path),
            SamplingRate = SamplingRate,
            Leads = Leads,
            Digital = digital,
            Gain = Enumerable.Repeat(Gain, 12).ToArray(),
            Baseline = new int[12],
            Units = Enumerable.Repeat("mV", 12).ToArray(),
            Age = age,
            Sex = sex,
            SourcePath = path,
            ExactPhysical = exact,
            MissingSamples = missing,
        };
    }

    /// <summary>
    /// Reads <c>REFERENCE.csv</c> (<c>Recording,First_label,Second_label,Third_label</c>) or
    /// <c>REFERENCE_with_text.csv</c> (the same columns plus <c>reports</c>, <c>sex</c>, <c>age</c> and leading index columns),
    /// keyed by recording name.
    /// </summary>
    /// <exception cref="EcgFormatException">The file is missing, lacks the needed columns or has a non-numeric label.</exception>
    public static IReadOnlyDictionary<string, Cpsc2018Label> ReadLabels(string path)
    {
        if (!File.Exists(path)) throw new EcgFormatException(path, "label file not found");
        using var reader = new StreamReader(path);
        string? headerLine = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(headerLine)) throw new EcgFormatException(path, "label file is empty");
        var header = SplitCsv(headerLine);
        int Col(string name, bool required)
        {
            int i = header.FindIndex(h => h.Trim().Equals(name, StringComparison.OrdinalIgnoreCase));
            if (i < 0 && required) throw new EcgFormatException(path, $"label file has no column '{name}' (columns: {string.Join(", ", header)})");
            return i;
        }
        int rec = Col("Recording", true);
        int[] labelCols = [Col("First_label", true), Col("Second_label", false), Col("Third_label", false)];
        int text = Col("reports", false), sexCol = Col("sex", false), ageCol = Col("age", false);
        var result = new Dictionary<string, Cpsc2018Label>(StringComparer.Ordinal);
        int line = 1;
        for (string? l = reader.ReadLine(); l is not null; l = reader.ReadLine())
        {
            line++;
            if (string.IsNullOrWhiteSpace(l)) continue;
            var f = SplitCsv(l);
            string Get(int i) => i >= 0 && i < f.Count ? f[i].Trim() : "";
            var labels = new List<int>();
            foreach (int c in labelCols)
            {
                string v = Get(c);
                if (v.Length == 0) continue;
                if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || x != Math.Floor(x) || x < 1 || x > 9)
                    throw new EcgFormatException(path, $"line {line}: label '{v}' is not a class number 1–9");
                labels.Add((int)x);
            }
            if (labels.Count == 0) throw new EcgFormatException(path, $"line {line}: record {Get(rec)} has no label");
            int? age = double.TryParse(Get(ageCol), NumberStyles.Float, CultureInfo.InvariantCulture, out double ag) && ag >= 0 ? (int)Math.Round(ag) : null;
            string sex = Get(sexCol);
            string t = Get(text);
            result[Get(rec)] = new Cpsc2018Label(Get(rec), labels, t.Length > 0 ? t : null, sex.Length > 0 ? sex : null, age);
        }
        return result;
    }

    /// <summary>Splits one CSV line (RFC 4180 quoting).</summary>
    private static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var sb = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else sb.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
