using System.Diagnostics;
using System.Globalization;
using System.Text;
using Deri.IO;
using Deri.Signals;

namespace Deri.Synthetic;

/// <summary>What <see cref="SyntheticDatasetWriter.Write"/> should produce.</summary>
/// <param name="OutputDirectory">Folder of the data set; it must not exist or be empty unless <paramref name="Overwrite"/>.</param>
/// <param name="Count">Number of records.</param>
/// <param name="Generator">Generator configuration (seed, rate, length, noise).</param>
/// <param name="Threads">Worker threads; 0 = one per processor.</param>
/// <param name="Overwrite">Replace an existing non-empty output folder that holds an earlier synthetic data set.</param>
/// <param name="FirstIndex">Index of the first record: a held-out split of the same seed is e.g. records 100000 onwards; subject and study ids follow the index, so splits never share ids.</param>
/// <param name="Statements">PTB-XL statement mode: each record's statements are one real record's set from this source; <c>null</c> = the condition mode.</param>
/// <param name="ComposedFraction">Statement mode: fraction of reports in PTB-XL's statement wording (the rest machine statements).</param>
public sealed record SyntheticDatasetOptions(string OutputDirectory, int Count, SyntheticEcgConfig Generator, int Threads = 0, bool Overwrite = false, int FirstIndex = 0,
    PtbXlStatementSource? Statements = null, double ComposedFraction = 0.5);

/// <summary>Outcome of writing a synthetic data set.</summary>
/// <param name="OutputDirectory">Absolute path of the data set.</param>
/// <param name="Records">Records written.</param>
/// <param name="Failed">Records that failed, as "index: message" (skipped, not in the CSVs).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record SyntheticDatasetSummary(string OutputDirectory, int Records, IReadOnlyList<string> Failed, double Seconds);

/// <summary>
/// Writes a synthetic data set in the MIMIC-IV-ECG layout:
/// <c>files/pNNNN/pNNNNNNNN/sNNNNNNNN/NNNNNNNN.hea/.dat</c> (WFDB format 16, gain 200/mV, lead order I, II,
/// III, aVR, aVF, aVL, V1–V6), <c>record_list.csv</c>, <c>machine_measurements.csv</c> (the real columns,
/// <c>report_0…report_17</c> one statement each, intervals and axes from the ground truth),
/// <c>labels.csv</c> (study_id and one 0/1 column per label), <c>patients.csv</c> (subject_id, gender,
/// anchor_age) and the zero-shot prompts. In the PTB-XL statement mode <c>labels.csv</c> has one column per PTB-XL
/// statement, and the data set is also a PTB-XL folder: <c>ptbxl_database.csv</c> (<c>scp_codes</c>, <c>strat_fold</c> =
/// index mod 10 + 1, <c>filename_hr</c>/<c>filename_lr</c> = the record) and a copy of <c>scp_statements.csv</c>, so that
/// <c>deri data prepare --dataset ptbxl</c> derives the super/sub/form/rhythm labels exactly as for PTB-XL. Records are generated in parallel; each depends only on
/// (seed, index), so the bytes do not depend on the thread count. Everything is written into a temporary
/// sibling folder that is renamed into place at the end.
/// </summary>
public static class SyntheticDatasetWriter
{
    /// <summary>ADC gain of the written records, digital units per mV (MIMIC-IV-ECG's).</summary>
    public const double Gain = 200;

    /// <summary>First subject id; record <c>i</c> belongs to subject <c>FirstSubjectId + i</c>.</summary>
    public const int FirstSubjectId = 10000000;

    /// <summary>First study id; record <c>i</c> is study <c>FirstStudyId + i</c>.</summary>
    public const int FirstStudyId = 40000000;

    private static readonly DateTime FirstTime = new(2180, 1, 1, 8, 0, 0, DateTimeKind.Unspecified);

    /// <summary>Relative record path (without extension) of record <paramref name="index"/>, as in <c>record_list.csv</c>.</summary>
    public static string RecordPath(int index)
    {
        int subject = FirstSubjectId + index, study = FirstStudyId + index;
        string s = subject.ToString(CultureInfo.InvariantCulture);
        return $"files/p{s[..4]}/p{s}/s{study}/{study}";
    }

    /// <summary>Acquisition time of record <paramref name="index"/> (deterministic).</summary>
    public static DateTime EcgTime(int index) => FirstTime.AddMinutes(index * 97L % 5_000_000);

    /// <summary>Generates and writes the data set.</summary>
    /// <exception cref="ArgumentException">Bad count or configuration.</exception>
    /// <exception cref="IOException">The output folder exists and is not empty (without overwrite).</exception>
    public static SyntheticDatasetSummary Write(SyntheticDatasetOptions o, IProgress<int>? progress = null)
    {
        if (o.Count < 1) throw new ArgumentException($"record count must be at least 1, got {o.Count}");
        if (o.Count > 50_000_000) throw new ArgumentException($"record count {o.Count} is too large (at most 50,000,000)");
        if (o.FirstIndex < 0 || (long)o.FirstIndex + o.Count > 50_000_000) throw new ArgumentException($"records {o.FirstIndex}…{(long)o.FirstIndex + o.Count - 1} are out of range (indices 0 to 49,999,999)");
        if (o.Threads < 0) throw new ArgumentException($"threads must be 0 (one per processor) or positive, got {o.Threads}");
        var gen = o.Statements is null ? new SyntheticEcgGenerator(o.Generator) : new SyntheticEcgGenerator(o.Generator, o.Statements, o.ComposedFraction);
        string outDir = Path.GetFullPath(o.OutputDirectory);
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
        {
            if (!o.Overwrite) throw new IOException($"output folder {outDir} exists and is not empty (use overwrite / --force to replace it)");
            // Replacing deletes the folder: only ever do that to an earlier synthetic data set.
            if (!File.Exists(Path.Combine(outDir, "record_list.csv")) || !File.Exists(Path.Combine(outDir, SyntheticPrompts.FileName)))
                throw new IOException($"refusing to replace {outDir}: it is not empty and does not look like a synthetic data set (no record_list.csv and {SyntheticPrompts.FileName})");
        }
        if (File.Exists(outDir)) throw new IOException($"output path {outDir} is a file");

        var sw = Stopwatch.StartNew();
        var rows = new Row?[o.Count];
        var failed = new string?[o.Count];
        int done = 0;
        // Replace: the checks above allow replacing only an earlier synthetic data set.
        AtomicFile.WriteFolder(outDir, ExistingFolder.Replace, tmp =>
        {
            var po = new ParallelOptions { MaxDegreeOfParallelism = o.Threads > 0 ? o.Threads : Environment.ProcessorCount };
            Parallel.For(0, o.Count, po, i =>
            {
                try
                {
                    rows[i] = WriteRecord(gen, tmp, o.FirstIndex + i);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    failed[i] = $"{o.FirstIndex + i}: {ex.Message}";
                }
                int d = Interlocked.Increment(ref done);
                if (progress is not null && d % 1000 == 0) progress.Report(d);
            });
            WriteCsvs(tmp, rows, o.Generator, o.Statements);
            if (o.Statements is null) SyntheticPrompts.WriteTo(Path.Combine(tmp, SyntheticPrompts.FileName));
            else WritePtbXlFiles(tmp, rows, o.Statements);
        });
        var failures = failed.Where(f => f is not null).Select(f => f!).ToList();
        return new SyntheticDatasetSummary(outDir, rows.Count(r => r is not null), failures, sw.Elapsed.TotalSeconds);
    }

    /// <summary>What the CSVs need from one record.</summary>
    private sealed record Row(int Index, IReadOnlyList<string> Statements, SyntheticGroundTruth Truth, float[] Labels, int Age, string Sex,
        IReadOnlyList<(string Code, double Likelihood)> ScpCodes);

    private static Row WriteRecord(SyntheticEcgGenerator gen, string root, int index)
    {
        var ecg = gen.Generate(index);
        string rel = RecordPath(index);
        string dir = Path.Combine(root, Path.GetDirectoryName(rel)!);
        string name = Path.GetFileName(rel);
        var comments = new List<string>
        {
            $"Age: {ecg.Age}",
            $"Sex: {(ecg.Sex == "M" ? "Male" : "Female")}",
            gen.Statements is null
                ? $"Labels: {string.Join(',', ecg.Conditions.OrderBy(c => c).Select(EcgConditions.Code))}"
                : $"Labels: {string.Join(',', ecg.ScpCodes.Select(c => c.Code))}",
            $"Report: {ecg.Report}",
        };
        var rec = WfdbWriter.FromPhysical(name, ecg.Signal, SyntheticEcgGenerator.Leads, ecg.SamplingRate, Gain, 0, "mV", comments);
        WfdbWriter.Write(dir, rec, EcgTime(index), atomic: false);
        var labels = ecg.LabelVector();
        if (gen.Statements is { } source)
        {
            labels = new float[source.Codes.Count];
            foreach (var (code, _) in ecg.ScpCodes)
            {
                int k = IndexOf(source.Codes, code);
                if (k >= 0) labels[k] = 1;
            }
        }
        // Drop the beat list: the CSVs do not need it, and a long job keeps one row per record.
        return new Row(index, ecg.Statements, ecg.Truth with { Beats = [], PWaveOnsets = [] }, labels, ecg.Age, ecg.Sex, ecg.ScpCodes);
    }

    private static int IndexOf(IReadOnlyList<string> codes, string code)
    {
        for (int i = 0; i < codes.Count; i++) if (codes[i] == code) return i;
        return -1;
    }

    private static void WriteCsvs(string root, Row?[] rows, SyntheticEcgConfig cfg, PtbXlStatementSource? source)
    {
        var inv = CultureInfo.InvariantCulture;
        var recordList = new StringBuilder("subject_id,study_id,file_name,ecg_time,path\n");
        var mm = new StringBuilder("subject_id,study_id,cart_id,ecg_time,");
        for (int k = 0; k < 18; k++) mm.Append(inv, $"report_{k},");
        mm.Append("bandwidth,filtering,rr_interval,p_onset,p_end,qrs_onset,qrs_end,t_end,p_axis,qrs_axis,t_axis\n");
        var labels = new StringBuilder("study_id,").Append(string.Join(',', (source?.Codes ?? EcgConditions.Codes).Select(Csv))).Append('\n');
        var patients = new StringBuilder("subject_id,gender,anchor_age\n");
        string bandwidth = $"0.005-{(cfg.SamplingRate * 0.3).ToString("0", inv)} Hz";
        foreach (var r in rows)
        {
            if (r is null) continue;
            int subject = FirstSubjectId + r.Index, study = FirstStudyId + r.Index;
            string time = EcgTime(r.Index).ToString("yyyy-MM-dd HH:mm:ss", inv);
            recordList.Append(inv, $"{subject},{study},{study},{time},{RecordPath(r.Index)}\n");

            mm.Append(inv, $"{subject},{study},{6800000 + r.Index % 97 * 131},{time},");
            for (int k = 0; k < 18; k++) mm.Append(k < r.Statements.Count ? Csv(r.Statements[k]) : "").Append(',');
            var t = r.Truth;
            // Fiducial points in ms within the machine's representative-beat window, like the real columns.
            const int pOnset = 40;
            int qrsOnset = t.Pr is { } pr ? pOnset + (int)Math.Round(pr) : 200;
            string P(double? v) => v is { } x ? ((int)Math.Round(x)).ToString(inv) : "";
            mm.Append(inv, $"{bandwidth},{t.MainsFrequency} Hz notch Baseline filter,{Math.Round(t.MeanRr)},");
            mm.Append(inv, $"{P(t.Pr is null ? null : pOnset)},{P(t.PDuration is { } pd ? pOnset + pd : null)},{qrsOnset},");
            mm.Append(inv, $"{qrsOnset + (int)Math.Round(t.Qrs)},{qrsOnset + (int)Math.Round(t.Qt)},{P(t.PAxis)},{P(t.QrsAxis)},{P(t.TAxis)}\n");

            labels.Append(inv, $"{study}");
            foreach (float v in r.Labels) labels.Append(v > 0 ? ",1" : ",0");
            labels.Append('\n');
            patients.Append(inv, $"{subject},{r.Sex},{r.Age}\n");
        }
        AtomicFile.WriteAllText(Path.Combine(root, "record_list.csv"), recordList.ToString());
        AtomicFile.WriteAllText(Path.Combine(root, "machine_measurements.csv"), mm.ToString());
        AtomicFile.WriteAllText(Path.Combine(root, "labels.csv"), labels.ToString());
        AtomicFile.WriteAllText(Path.Combine(root, "patients.csv"), patients.ToString());
    }

    /// <summary>
    /// The PTB-XL side of a statement-mode data set: <c>ptbxl_database.csv</c> (one row per record, its report as the
    /// <c>report</c> column) and <c>scp_statements.csv</c> as read.
    /// </summary>
    private static void WritePtbXlFiles(string root, Row?[] rows, PtbXlStatementSource source)
    {
        var inv = CultureInfo.InvariantCulture;
        var db = new StringBuilder("ecg_id,patient_id,age,sex,report,scp_codes,strat_fold,filename_lr,filename_hr\n");
        foreach (var r in rows)
        {
            if (r is null) continue;
            int subject = FirstSubjectId + r.Index, study = FirstStudyId + r.Index;
            string codes = "{" + string.Join(", ", r.ScpCodes.Select(c => $"'{c.Code}': {c.Likelihood.ToString("0.0##", inv)}")) + "}";
            string path = RecordPath(r.Index);
            // PTB-XL's sex column: 0 male, 1 female.
            db.Append(inv, $"{study},{subject}.0,{r.Age}.0,{(r.Sex == "M" ? 0 : 1)},{Csv(string.Join(". ", r.Statements))},{Csv(codes)},{r.Index % 10 + 1},{path},{path}\n");
        }
        AtomicFile.WriteAllText(Path.Combine(root, "ptbxl_database.csv"), db.ToString());
        File.Copy(source.StatementsPath, Path.Combine(root, "scp_statements.csv"));
        AtomicFile.WriteAllText(Path.Combine(root, SyntheticPrompts.FileName), StatementPrompts(source));
    }

    /// <summary>Zero-shot prompts of the statement mode: each statement's PTB-XL description and its first machine phrase.</summary>
    private static string StatementPrompts(PtbXlStatementSource source)
    {
        var d = new Dictionary<string, string>();
        foreach (string code in source.Codes)
        {
            string desc = source.Statements[code].Description;
            d[code] = StatementReports.Machine.TryGetValue(code, out var m) ? $"{desc}, {m.Phrases[0]}" : desc;
        }
        return System.Text.Json.JsonSerializer.Serialize(d, new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    private static string Csv(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
