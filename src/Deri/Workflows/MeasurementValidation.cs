using System.Collections.Concurrent;
using Deri.Data.Datasets;
using Deri.Evaluation;
using Deri.Measurements;
using Deri.Signals;
using Deri.Synthetic;

namespace Deri.Workflows;

/// <summary>Error distribution of one measured quantity against the synthetic generator's truth (measured − true).</summary>
/// <param name="Rate">Sampling rate of the records (Hz).</param>
/// <param name="Noise">Noise level of the records.</param>
/// <param name="Quantity">heart_rate_bpm, pr_ms, qrs_ms, qt_ms, qtc_bazett_ms, p_axis_deg, qrs_axis_deg, t_axis_deg.</param>
/// <param name="Count">Records where both values exist.</param>
/// <param name="Missing">Records whose truth has the value but the measurement has none.</param>
/// <param name="Mean">Mean error.</param>
/// <param name="Sd">Standard deviation of the error.</param>
/// <param name="P5">5th percentile of the error.</param>
/// <param name="P50">Median error.</param>
/// <param name="P95">95th percentile of the error.</param>
/// <param name="MeanAbsolute">Mean absolute error.</param>
public sealed record SyntheticErrorRow(double Rate, string Noise, string Quantity, int Count, int Missing,
    double Mean, double Sd, double P5, double P50, double P95, double MeanAbsolute);

/// <summary>How often PR is absent in synthetic records with and without P waves.</summary>
/// <param name="Rate">Sampling rate (Hz).</param>
/// <param name="Noise">Noise level.</param>
/// <param name="WithoutP">Records without P waves (atrial fibrillation, flutter).</param>
/// <param name="WithoutPNull">Of those, records whose PR is null.</param>
/// <param name="WithP">Sinus records.</param>
/// <param name="WithPNull">Of those, records whose PR is null.</param>
/// <param name="Failed">Records the measurement refused.</param>
public sealed record SyntheticPrRow(double Rate, string Noise, int WithoutP, int WithoutPNull, int WithP, int WithPNull, int Failed);

/// <summary>One label's separation by its measurement in one PTB-XL fold.</summary>
/// <param name="Dataset">ptbxl (500 Hz, mV) or ptbxl-zscore (100 Hz, z-scored).</param>
/// <param name="Fold">strat_fold; 0 for all folds together; -1 for folds 1–8 together (where settings are chosen, fold 9 held out).</param>
/// <param name="Label">SCP code.</param>
/// <param name="Measurement">The key of the measurement that scores it.</param>
/// <param name="Rule">The rule the label implies.</param>
/// <param name="Positives">Records with the label.</param>
/// <param name="Negatives">Records without it.</param>
/// <param name="Auc">ROC AUC of the measurement (negated for SBRAD) for the label; null without positives or negatives.</param>
/// <param name="RulePositives">Fraction of the positives for which the rule holds.</param>
/// <param name="RuleNegatives">Fraction of the negatives for which the rule holds.</param>
/// <param name="Missing">Records (positives and negatives) whose measurement is null; they count as not meeting the rule and rank lowest.</param>
/// <param name="MissingPositives">Positives whose measurement is null.</param>
/// <param name="AucMeasured">ROC AUC over the records that have the measurement (nulls left out).</param>
/// <param name="AucCi">95 % percentile record-bootstrap interval of <paramref name="Auc"/>
/// (<see cref="MeasurementValidation.BootstrapAuc(IReadOnlyList{double}, IReadOnlyList{int}, int, int)"/>); null with <paramref name="Auc"/>.</param>
public sealed record LabelRow(string Dataset, int Fold, string Label, string Measurement, string Rule, int Positives, int Negatives,
    double? Auc, double? RulePositives, double? RuleNegatives, int Missing, int MissingPositives, double? AucMeasured, AucInterval? AucCi);

/// <summary>
/// Validation of <see cref="EcgMeasurer"/>: errors on synthetic records whose true intervals the generator knows, and
/// on PTB-XL records the separation of the cardiologists' interval-defined labels by the measurement that defines them.
/// </summary>
public static partial class MeasurementValidation
{
    /// <summary>The labels checked and the measurement and rule each implies.</summary>
    public static IReadOnlyList<(string Label, string Key, string Rule, Func<EcgMeasurements, double?> Score, Func<double, bool> Holds)> Labels { get; } =
    [
        ("SBRAD", DeviceMeasurementKeys.HeartRate, "HR < 60", m => -m.HeartRateBpm, s => -s < 60),
        ("STACH", DeviceMeasurementKeys.HeartRate, "HR > 100", m => m.HeartRateBpm, s => s > 100),
        ("1AVB", DeviceMeasurementKeys.Pr, "PR > 200 ms", m => m.PrMs, s => s > 200),
        ("CLBBB", DeviceMeasurementKeys.Qrs, "QRS >= 120 ms", m => m.QrsMs, s => s >= 120),
        ("CRBBB", DeviceMeasurementKeys.Qrs, "QRS >= 120 ms", m => m.QrsMs, s => s >= 120),
        ("LNGQT", DeviceMeasurementKeys.QtcBazett, "QTc (Bazett) > 460 ms", m => m.QtcBazettMs, s => s > 460),
    ];

    /// <summary>Measures <paramref name="count"/> synthetic records (seed <paramref name="seed"/>) and compares with the truth.</summary>
    public static (IReadOnlyList<SyntheticErrorRow> Errors, SyntheticPrRow Pr) Synthetic(int count, double rate, NoiseLevel noise, long seed = 0, int workers = 1)
    {
        var gen = new SyntheticEcgGenerator(new SyntheticEcgConfig(seed, rate, 10, noise));
        var errors = new ConcurrentDictionary<string, ConcurrentBag<double>>();
        int failed = 0, withoutP = 0, withoutPNull = 0, withP = 0, withPNull = 0;
        var missing = new ConcurrentDictionary<string, int>();
        void Add(string key, double? measured, double? truth, bool angle = false)
        {
            if (truth is not { } t) return;
            if (measured is not { } m) { missing.AddOrUpdate(key, 1, (_, v) => v + 1); return; }
            double e = m - t;
            if (angle) e = Math.IEEERemainder(e, 360);
            errors.GetOrAdd(key, _ => []).Add(e);
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers) }, i =>
        {
            var ecg = gen.Generate(i);
            EcgMeasurements m;
            try { m = EcgMeasurer.Measure(ecg.Signal, ecg.Samples, rate, true, $"synthetic record {i}"); }
            catch (EcgFormatException) { Interlocked.Increment(ref failed); return; }
            var t = ecg.Truth;
            Add(DeviceMeasurementKeys.HeartRate, m.HeartRateBpm, t.HeartRate);
            Add(DeviceMeasurementKeys.Qrs, m.QrsMs, t.Qrs);
            Add(DeviceMeasurementKeys.Qt, m.QtMs, t.Qt);
            Add(DeviceMeasurementKeys.QtcBazett, m.QtcBazettMs, t.Qtc);
            Add(DeviceMeasurementKeys.QrsAxis, m.QrsAxisDeg, t.QrsAxis, angle: true);
            Add(DeviceMeasurementKeys.TAxis, m.TAxisDeg, t.TAxis, angle: true);
            if (t.Pr is null)
            {
                Interlocked.Increment(ref withoutP);
                if (m.PrMs is null) Interlocked.Increment(ref withoutPNull);
                return;
            }
            Interlocked.Increment(ref withP);
            if (m.PrMs is null) Interlocked.Increment(ref withPNull);
            Add(DeviceMeasurementKeys.Pr, m.PrMs, t.Pr);
            Add(DeviceMeasurementKeys.PAxis, m.PAxisDeg, t.PAxis, angle: true);
        });
        string level = noise.ToString().ToLowerInvariant();
        var keys = new[] { DeviceMeasurementKeys.HeartRate, DeviceMeasurementKeys.Pr, DeviceMeasurementKeys.Qrs, DeviceMeasurementKeys.Qt,
            DeviceMeasurementKeys.QtcBazett, DeviceMeasurementKeys.PAxis, DeviceMeasurementKeys.QrsAxis, DeviceMeasurementKeys.TAxis };
        var rows = new List<SyntheticErrorRow>();
        foreach (string k in keys)
        {
            var e = errors.TryGetValue(k, out var bag) ? bag.Order().ToArray() : [];
            int miss = missing.TryGetValue(k, out int v) ? v : 0;
            if (e.Length == 0) { rows.Add(new SyntheticErrorRow(rate, level, k, 0, miss, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN)); continue; }
            double mean = e.Average(), sd = e.Length > 1 ? Math.Sqrt(e.Sum(x => (x - mean) * (x - mean)) / (e.Length - 1)) : 0;
            rows.Add(new SyntheticErrorRow(rate, level, k, e.Length, miss, R(mean), R(sd), R(Pct(e, 5)), R(Pct(e, 50)), R(Pct(e, 95)), R(e.Average(Math.Abs))));
        }
        return (rows, new SyntheticPrRow(rate, level, withoutP, withoutPNull, withP, withPNull, failed));
    }

    /// <summary>
    /// Measures every record of a PTB-XL folder (<c>ptbxl_database.csv</c> with <c>scp_codes</c> and <c>strat_fold</c>) that
    /// has codes, at 500 Hz (<c>filename_hr</c>) when the folder has it, else 100 Hz, and scores each label per fold.
    /// </summary>
    /// <param name="root">Folder of <c>ptbxl_database.csv</c>.</param>
    /// <param name="name">Dataset name in the rows.</param>
    /// <param name="workers">Records measured in parallel.</param>
    /// <param name="failures">Receives each record the measurement refused, with the reason.</param>
    public static IReadOnlyList<LabelRow> PtbXl(string root, string name, int workers, Action<string> failures)
    {
        var db = CsvTable.Read(Path.Combine(root, "ptbxl_database.csv"));
        int cId = db.Column("ecg_id"), cCodes = db.Column("scp_codes"), cFold = db.Column("strat_fold");
        int cHr = db.TryColumn("filename_hr"), cLr = db.Column("filename_lr");
        var rows = new List<(int Fold, HashSet<string> Codes, string Path)>();
        for (int r = 0; r < db.Rows.Count; r++)
        {
            var row = db.Rows[r];
            if (string.IsNullOrWhiteSpace(row[cCodes])) continue;
            var codes = PtbXlDataset.ParseScpCodes(row[cCodes], db.Path, row[cId]).Select(c => c.Code).ToHashSet();
            string hr = cHr >= 0 ? row[cHr].Trim() : "", file = hr.Length > 0 && File.Exists(Path.Combine(root, hr + ".hea")) ? hr : row[cLr].Trim();
            if (file.Length == 0) continue;
            rows.Add((int.Parse(row[cFold], System.Globalization.CultureInfo.InvariantCulture), codes, Path.Combine(root, file)));
        }
        var measured = new EcgMeasurements?[rows.Count];
        Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers) }, i =>
        {
            try { measured[i] = EcgMeasurer.Measure(RecordReader.Read(rows[i].Path)); }
            catch (EcgFormatException e) { lock (failures) failures(e.Message); }
        });
        var result = new List<LabelRow>();
        var folds = rows.Select(r => r.Fold).Distinct().Order().Prepend(0).ToList();
        if (rows.Any(r => r.Fold == 9) && rows.Any(r => r.Fold is >= 1 and <= 8)) folds.Insert(1, -1);
        foreach (var (label, key, rule, score, holds) in Labels)
            foreach (int fold in folds)
            {
                var scores = new List<double>();
                var labels = new List<int>();
                int missing = 0, missingPos = 0, posHold = 0, negHold = 0;
                for (int i = 0; i < rows.Count; i++)
                {
                    if (measured[i] is not { } m || !InFold(rows[i].Fold, fold)) continue;
                    int y = rows[i].Codes.Contains(label) ? 1 : 0;
                    double? s = score(m);
                    if (s is null) { missing++; missingPos += y; }
                    bool h = s is { } v && holds(v);
                    if (h && y == 1) posHold++;
                    if (h && y == 0) negHold++;
                    scores.Add(s ?? -1e9);
                    labels.Add(y);
                }
                int p = labels.Count(v => v == 1), q = labels.Count - p;
                double? auc = p > 0 && q > 0 ? R(BinaryMetrics.RocAuc(scores.ToArray(), labels.ToArray()), 4) : null;
                var ci = auc is null ? null : BootstrapAuc(scores, labels) is { } b ? b with { Low = R(b.Low, 4), High = R(b.High, 4) } : null;
                var kept = Enumerable.Range(0, scores.Count).Where(i => scores[i] > -1e9).ToArray();
                int pk = kept.Count(i => labels[i] == 1);
                double? aucMeasured = pk > 0 && pk < kept.Length
                    ? R(BinaryMetrics.RocAuc(kept.Select(i => scores[i]).ToArray(), kept.Select(i => labels[i]).ToArray()), 4) : null;
                result.Add(new LabelRow(name, fold, label, key, rule, p, q, auc,
                    p > 0 ? R((double)posHold / p, 4) : null, q > 0 ? R((double)negHold / q, 4) : null, missing, missingPos, aucMeasured, ci));
            }
        return result;
    }

    private static bool InFold(int recordFold, int fold) => fold switch
    {
        0 => true,
        -1 => recordFold is >= 1 and <= 8,
        _ => recordFold == fold,
    };

    private static double Pct(double[] sorted, double p)
    {
        double pos = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(sorted.Length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    private static double R(double v, int digits = 1) => Math.Round(v, digits);
}
