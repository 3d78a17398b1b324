using System.Globalization;
using Deri.Data.Preprocessing;
using Deri.Signals;

namespace Deri.Measurements;

/// <summary>
/// The global measurements of a resting 12-lead ECG — heart rate, PR, QRS, QT, QTc (Bazett, Fridericia), frontal P, QRS
/// and T axes — from median beats, the way electrocardiographs measure them:
/// <list type="number">
/// <item>QRS complexes by a multi-lead Pan–Tompkins detector (<see cref="QrsDetector"/>); the ventricular rate from all
/// of them.</item>
/// <item>Beats whose QRS (0.5–40 Hz, −60…+100 ms) correlates with the record's median QRS at r ≥ 0.85, after a shift of
/// up to ±10 ms that maximises it, are the dominant beats; ectopic beats are left out. A median beat per lead is the
/// sample-wise median of the dominant beats (−0.55…+0.85 s around the aligned QRS).</item>
/// <item>The median beats are delineated as one spatial beat of the eight independent leads (I, II, V1–V6), upsampled
/// to at least 500 Hz: QRS onset and offset where the spatial velocity (Euclidean norm of the leads' slopes) falls below
/// 5 % of its QRS peak above the isoelectric level for 20 ms, the derivative-threshold principle of Laguna et al. (Comput.
/// Biomed. Res. 27, 1994) applied to the multi-lead signal; T end, P onset and P offset by the trapezium-area method of
/// Vázquez-Seisdedos et al. (BioMed. Eng. OnLine 10:43, 2011) on the spatial magnitude (root mean square of the
/// baseline-corrected leads); the P wave is the hump nearest the QRS after the previous beat's T end, and where there is
/// no distinct one (a P wave on the previous T wave, as in first-degree AV block), the hump nearest the QRS of the leads
/// high-passed by subtracting their 160 ms moving average, in a window reaching 120 ms into the previous T wave.</item>
/// <item>No P wave when the dominant RR intervals are irregular (coefficient of variation &gt; 0.08) and the beats' P
/// regions do not repeat (mean correlation with the median beat's P wave &lt; 0.4), as in atrial fibrillation: PR is
/// then null and a note says why.</item>
/// <item>Frontal axes from the net areas of the P, QRS and T waves in leads I and aVF (Einthoven's triangle:
/// aVF = (√3/2)·|E|·sin θ), only for records in physical voltage units.</item>
/// </list>
/// Intervals use only thresholds relative to the record's own signal, so they do not change when the signal is scaled.
/// See <c>src/Deri/Measurements/README.md</c> for the limits (paced rhythms, flutter with regular conduction, heavy
/// noise, very low amplitude).
/// </summary>
public static class EcgMeasurer
{
    /// <summary>Shortest record measured (s): two or more beats even at 40 bpm need it.</summary>
    public const double MinimumSeconds = 2;

    /// <summary>Median-beat window before the aligned QRS (s).</summary>
    public const double BeatBefore = 0.55;

    /// <summary>Median-beat window after the aligned QRS (s).</summary>
    public const double BeatAfter = 0.85;

    // The eight independent leads in model order (I, II, V1–V6): III, aVR, aVL, aVF are linear in I and II.
    private static readonly int[] Independent = [0, 1, 6, 7, 8, 9, 10, 11];
    private const int LeadI = 0, LeadAvf = 4;

    /// <summary>Measures a record read by <see cref="RecordReader"/>: its 12 standard leads (extra channels ignored),
    /// from <paramref name="fromSeconds"/> to the end. Axes are given when every lead is in a voltage unit (V, mV, µV).</summary>
    /// <exception cref="EcgFormatException">A lead is missing, has missing samples, the record is too short or flat.</exception>
    public static EcgMeasurements Measure(EcgRecord record, double fromSeconds = 0)
    {
        string source = record.SourcePath ?? record.Id;
        int[] idx = LeadOrder.Indices(record.Leads, source);
        if (!(fromSeconds >= 0) || !double.IsFinite(fromSeconds))
            throw new ArgumentException($"the start time must be a non-negative number of seconds, got {fromSeconds}");
        int from = (int)Math.Round(fromSeconds * record.SamplingRate);
        if (from >= record.Samples)
            throw new EcgFormatException(source, $"the record is {Fmt(record.Samples / record.SamplingRate)} s long; it has nothing from {Fmt(fromSeconds)} s on");
        int n = record.Samples - from;
        var scales = idx.Select(i => ToMillivolts(record.Units[i])).ToArray();
        bool millivolts = scales.All(s => s is not null);
        var values = new float[12 * n];
        for (int k = 0; k < 12; k++)
        {
            var ch = record.PhysicalChannel(idx[k]);
            double s = millivolts ? scales[k]!.Value : 1;
            for (int t = 0; t < n; t++) values[k * n + t] = (float)(ch[from + t] * s);
        }
        var units = idx.Select(i => record.Units[i]).Distinct().ToList();
        return Measure(values, n, record.SamplingRate, millivolts, source,
            millivolts ? null : $"the record's units are {string.Join(", ", units.Select(u => $"'{u}'"))}, not a voltage");
    }

    /// <summary>The factor from a WFDB unit string to millivolts; null for a unit that is not a voltage (e.g. z-scores).</summary>
    public static double? ToMillivolts(string units) => units.Trim() switch
    {
        "mV" or "mv" or "MV" => 1,
        "uV" or "µV" or "μV" or "uv" => 0.001,
        "V" or "v" => 1000,
        _ => null,
    };

    /// <summary>
    /// Measures 12 leads in <see cref="LeadOrder.Model"/> order (I, II, III, aVR, aVF, aVL, V1–V6), channel-major
    /// <c>[12 × samples]</c>.
    /// </summary>
    /// <param name="leads">The leads, <c>[12 × samples]</c>; mV when <paramref name="millivolts"/>, else any common scale.</param>
    /// <param name="samples">Samples per lead.</param>
    /// <param name="samplingRate">Hz (any positive rate, also fractional).</param>
    /// <param name="millivolts">Whether the values are millivolts; axes are measured only then.</param>
    /// <param name="source">File or record named in errors.</param>
    /// <param name="unitsNote">Why the record is not in millivolts, for the note (when <paramref name="millivolts"/> is false).</param>
    /// <exception cref="EcgFormatException">Missing or non-finite samples, a record shorter than <see cref="MinimumSeconds"/>, or every lead flat.</exception>
    public static EcgMeasurements Measure(ReadOnlySpan<float> leads, int samples, double samplingRate, bool millivolts, string source, string? unitsNote = null)
    {
        if (!(samplingRate > 0) || !double.IsFinite(samplingRate))
            throw new EcgFormatException(source, $"sampling rate {samplingRate} Hz is not a positive number");
        if (leads.Length != 12 * samples)
            throw new EcgFormatException(source, $"expected 12 leads × {samples} samples = {12 * samples} values, got {leads.Length}");
        if (samples < MinimumSeconds * samplingRate)
            throw new EcgFormatException(source, $"the record is {Fmt(samples / samplingRate)} s long; measurements need at least {Fmt(MinimumSeconds)} s");
        var raw = new double[12][];
        bool anyVaries = false;
        for (int l = 0; l < 12; l++)
        {
            var src = leads.Slice(l * samples, samples);
            var x = raw[l] = new double[samples];
            int bad = 0;
            for (int t = 0; t < samples; t++)
            {
                float v = src[t];
                if (!float.IsFinite(v)) bad++;
                x[t] = v;
            }
            if (bad > 0)
                throw new EcgFormatException(source, $"lead {LeadOrder.Model[l]} has {bad} missing or non-finite samples; measurements need complete leads");
            for (int t = 1; t < samples && !anyVaries; t++) anyVaries = x[t] != x[0];
        }
        if (!anyVaries) throw new EcgFormatException(source, "every lead is flat (constant): there is no ECG to measure");
        return new Measurement(raw, samplingRate, millivolts, unitsNote).Run();
    }

    internal static string Fmt(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>One record's measurement, step by step.</summary>
    private sealed class Measurement(double[][] raw, double fs, bool millivolts, string? unitsNote)
    {
        private readonly List<string> notes = [];
        private int Samples => raw[0].Length;

        private int S(double seconds) => (int)Math.Round(seconds * fs);

        public EcgMeasurements Run()
        {
            int n = Samples;
            var peaks = QrsDetector.Detect(raw, fs);
            if (!millivolts)
                notes.Add($"axes need millivolts: {unitsNote ?? "the record has no physical units"}, so the P, QRS and T axes are not given");
            if (peaks.Length < 2)
            {
                notes.Add(peaks.Length == 0 ? "no QRS complex found: nothing is measured" : "only one QRS complex found: no rate, and nothing else is measured from a single beat");
                return new EcgMeasurements(null, null, null, null, null, null, null, null, null, null, peaks.Length, notes, []);
            }
            double rrMean = (peaks[^1] - peaks[0]) / (double)(peaks.Length - 1) / fs;   // s, over every ventricular beat

            var filtered = new double[12][];
            for (int l = 0; l < 12; l++)
            {
                filtered[l] = (double[])raw[l].Clone();
                ZeroPhaseFilter.BandPass(filtered[l], fs, 0.5, 40);
            }
            var (aligned, dominant) = DominantBeats(filtered, peaks);
            if (dominant.Count < peaks.Length)
                notes.Add($"{peaks.Length - dominant.Count} of {peaks.Length} beats differ in shape from the dominant beat (ectopic or noisy) and are left out of the median beat");

            int pre = S(BeatBefore), post = S(BeatAfter), len = pre + post + 1;
            var medians = new double[12][];
            for (int l = 0; l < 12; l++) medians[l] = MedianBeat(filtered[l], dominant.Select(i => aligned[i]).ToList(), pre, len);

            // Delineate at ≥ 500 Hz: the median beat is band-limited to 40 Hz, so band-limited interpolation is exact enough.
            int up = Math.Max(1, (int)Math.Ceiling(500 / fs - 1e-9));
            double fd = fs * up;
            var fine = up == 1 ? medians : medians.Select(m => Upsample(m, up)).ToArray();
            double rrDominant = DominantRr(peaks, dominant, out double rrCv);
            var d = Delineator.Delineate(fine, Independent, pre * up, fd, rrDominant);
            notes.AddRange(d.Notes);

            double? pr = null, pAxis = null;
            if (d.POnset is not null)
            {
                double consistency = PConsistency(filtered, dominant.Select(i => aligned[i]).ToList(), medians, pre, d.POnset.Value / up, d.POffset!.Value / up);
                bool irregular = rrCv > 0.08;
                if (irregular && consistency < 0.4)
                {
                    notes.Add($"no P wave: the RR intervals are irregular (coefficient of variation {rrCv:0.00}) and no P wave repeats before the QRS (mean correlation {consistency:0.00}), as in atrial fibrillation; PR and the P axis are not given");
                    d = d with { POnset = null, POffset = null };
                }
                else pr = (d.QrsOnset - d.POnset.Value) / fd * 1000;
            }
            else if (d.Notes.Count == 0 || !d.Notes.Any(x => x.Contains("P wave", StringComparison.Ordinal)))
                notes.Add("no P wave found before the QRS: PR and the P axis are not given");

            double qrs = (d.QrsOffset - d.QrsOnset) / fd * 1000;
            double? qt = d.TEnd is { } te ? (te - d.QrsOnset) / fd * 1000 : null;
            double? qrsAxis = null, tAxis = null;
            if (millivolts)
            {
                qrsAxis = Axis(fine, d.Baseline, d.QrsOnset, d.QrsOffset);
                if (d.TEnd is { } tEnd) tAxis = Axis(fine, d.Baseline, d.QrsOffset, tEnd);
                if (d.POnset is { } po) pAxis = Axis(fine, d.PBaseline!, po, d.POffset!.Value);
            }

            var fid = new FiducialPoints(Round(d.POnset, up), Round(d.POffset, up), Round(d.QrsOnset, up), Round(d.QrsOffset, up), Round(d.TEnd, up));
            var beats = new List<MedianBeat>(12);
            foreach (string lead in LeadOrder.Standard)
            {
                int k = LeadOrder.Model.ToList().IndexOf(lead);
                beats.Add(new MedianBeat(lead, fs, medians[k].Select(v => (float)v).ToArray(), fid));
            }
            double rrMs = rrMean * 1000;
            return new EcgMeasurements(
                Math.Round(60 / rrMean, 1), Math.Round(rrMs), R(pr), Math.Round(qrs), R(qt),
                qt is { } q1 ? Math.Round(q1 / Math.Sqrt(rrMean)) : null,
                qt is { } q2 ? Math.Round(q2 / Math.Cbrt(rrMean)) : null,
                R(pAxis), R(qrsAxis), R(tAxis), peaks.Length, notes, beats);
        }

        private static double? R(double? v) => v is { } x ? Math.Round(x) : null;

        private static int? Round(double? fineIndex, int up) => fineIndex is { } f ? (int)Math.Round(f / up) : null;

        /// <summary>Aligned beat positions (record samples) and the indices of the dominant beats among them.</summary>
        private (int[] Aligned, List<int> Dominant) DominantBeats(double[][] f, int[] peaks)
        {
            int a = S(0.06), b = S(0.1), shift = Math.Max(1, S(0.01)), n = Samples;
            int m = Independent.Length, segLen = a + b + 1;
            var aligned = (int[])peaks.Clone();
            var usable = Enumerable.Range(0, peaks.Length).Where(i => peaks[i] - a - shift >= 0 && peaks[i] + b + shift < n).ToList();
            if (usable.Count < 2) return (aligned, usable.Count == 0 ? Enumerable.Range(0, peaks.Length).ToList() : usable);
            double[] Segment(int at)
            {
                var s = new double[m * segLen];
                for (int j = 0; j < m; j++) Array.Copy(f[Independent[j]], at - a, s, j * segLen, segLen);
                return s;
            }
            var corr = new double[peaks.Length];
            var chosen = usable;
            for (int iter = 0; iter < 2; iter++)
            {
                var segs = chosen.Select(i => Segment(aligned[i])).ToList();
                var template = new double[m * segLen];
                var column = new double[segs.Count];
                for (int t = 0; t < template.Length; t++)
                {
                    for (int k = 0; k < segs.Count; k++) column[k] = segs[k][t];
                    template[t] = Median(column);
                }
                foreach (int i in usable)
                {
                    double best = double.NegativeInfinity;
                    int bestAt = peaks[i];
                    for (int sft = -shift; sft <= shift; sft++)
                    {
                        double c = Pearson(Segment(peaks[i] + sft), template);
                        if (c > best) { best = c; bestAt = peaks[i] + sft; }
                    }
                    corr[i] = best;
                    aligned[i] = bestAt;
                }
                var next = usable.Where(i => corr[i] >= 0.85).ToList();
                if (next.Count < 2) break;
                chosen = next;
            }
            return (aligned, chosen);
        }

        /// <summary>Mean RR (samples → s) of consecutive dominant beats, and their coefficient of variation.</summary>
        private double DominantRr(int[] peaks, List<int> dominant, out double cv)
        {
            var set = dominant.ToHashSet();
            var rr = new List<double>();
            for (int i = 1; i < peaks.Length; i++)
                if (set.Contains(i) && set.Contains(i - 1)) rr.Add((peaks[i] - peaks[i - 1]) / fs);
            if (rr.Count == 0)
                for (int i = 1; i < peaks.Length; i++) rr.Add((peaks[i] - peaks[i - 1]) / fs);
            double mean = rr.Average();
            cv = rr.Count < 2 ? 0 : Math.Sqrt(rr.Sum(x => (x - mean) * (x - mean)) / (rr.Count - 1)) / mean;
            return mean;
        }

        private double[] MedianBeat(double[] x, List<int> at, int pre, int len)
        {
            var beat = new double[len];
            var column = new double[at.Count];
            int n = x.Length;
            double last = double.NaN;
            int firstFilled = -1;
            for (int t = 0; t < len; t++)
            {
                int c = 0;
                foreach (int r in at)
                {
                    int i = r - pre + t;
                    if (i >= 0 && i < n) column[c++] = x[i];
                }
                if (c == 0) { beat[t] = last; continue; }
                beat[t] = last = Median(column.AsSpan(0, c));
                if (firstFilled < 0) firstFilled = t;
            }
            // Samples no beat covers (a beat window beyond the record on every beat) hold the nearest covered value.
            for (int t = 0; t < firstFilled; t++) beat[t] = beat[firstFilled];
            return beat;
        }

        private static double[] Upsample(double[] m, int up)
        {
            // Remove the line through the ends first: the resampler pads with zeros, which must not make steps.
            int n = m.Length;
            double a = m[0], b = m[^1];
            var y = new double[n];
            for (int t = 0; t < n; t++) y[t] = m[t] - (a + (b - a) * t / (n - 1));
            var o = new PolyphaseResampler(up, 1).Resample(y);
            for (int t = 0; t < o.Length; t++) o[t] += a + (b - a) * (t / (double)up) / (n - 1);
            return o;
        }

        /// <summary>Mean correlation of each dominant beat's P region (8 leads, each lead's mean removed) with the median beat's.</summary>
        private double PConsistency(double[][] f, List<int> at, double[][] medians, int pre, double pOn, double pOff)
        {
            int a = (int)Math.Floor(pOn) - S(0.01), b = (int)Math.Ceiling(pOff) + S(0.01);
            a = Math.Max(0, a);
            b = Math.Min(medians[0].Length - 1, b);
            int len = b - a + 1, m = Independent.Length;
            if (len < 3) return 0;
            var reference = new double[m * len];
            for (int j = 0; j < m; j++) Centre(medians[Independent[j]].AsSpan(a, len), reference.AsSpan(j * len, len));
            double sum = 0;
            int count = 0;
            var seg = new double[m * len];
            foreach (int r in at)
            {
                int start = r - pre + a;
                if (start < 0 || start + len > Samples) continue;
                for (int j = 0; j < m; j++) Centre(f[Independent[j]].AsSpan(start, len), seg.AsSpan(j * len, len));
                sum += Pearson(seg, reference);
                count++;
            }
            return count == 0 ? 0 : sum / count;
        }

        private static void Centre(ReadOnlySpan<double> x, Span<double> o)
        {
            double mean = 0;
            foreach (double v in x) mean += v;
            mean /= x.Length;
            for (int i = 0; i < x.Length; i++) o[i] = x[i] - mean;
        }

        /// <summary>Frontal axis of the net area of leads I and aVF over [from, to] above their baseline.</summary>
        private static double Axis(double[][] beats, double[] baseline, double from, double to)
        {
            int a = (int)Math.Round(from), b = (int)Math.Round(to);
            double i = 0, f = 0;
            for (int t = a; t <= b; t++)
            {
                i += beats[LeadI][t] - baseline[LeadI];
                f += beats[LeadAvf][t] - baseline[LeadAvf];
            }
            return FrontalAxis(i, f);
        }
    }

    /// <summary>Axis (degrees, (−180, 180]) of a frontal vector given by its projections on leads I and aVF:
    /// I = |E|·cos θ and aVF = (√3/2)·|E|·sin θ for a dipole E at angle θ (Einthoven's triangle), so θ = atan2(2·aVF/√3, I).</summary>
    public static double FrontalAxis(double leadI, double leadAvf)
    {
        double deg = Math.Atan2(2 / Math.Sqrt(3) * leadAvf, leadI) * 180 / Math.PI;
        return deg <= -180 ? deg + 360 : deg;
    }

    internal static double Median(Span<double> values)
    {
        var copy = values.ToArray();
        Array.Sort(copy);
        int n = copy.Length;
        return n % 2 == 1 ? copy[n / 2] : (copy[n / 2 - 1] + copy[n / 2]) / 2;
    }

    internal static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double mx = 0, my = 0;
        for (int i = 0; i < x.Length; i++) { mx += x[i]; my += y[i]; }
        mx /= x.Length;
        my /= y.Length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double a = x[i] - mx, b = y[i] - my;
            sxy += a * b;
            sxx += a * a;
            syy += b * b;
        }
        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : 0;
    }
}
