using System.Globalization;

namespace Deri.Signals.Clinical;

/// <summary>One channel as a clinical-format reader decoded it, before the record is assembled.</summary>
/// <param name="Name">Lead name as the file gives it (a code's meaning, a label).</param>
/// <param name="Digital">Integer samples <c>[samples]</c>; <see cref="int.MinValue"/> marks a missing sample.</param>
/// <param name="Gain">Digital units per mV.</param>
/// <param name="Baseline">Digital value of 0 mV.</param>
/// <param name="Exact">Exact physical values in mV when the file's calibration has no integer baseline; else null.</param>
internal sealed record ChannelData(string Name, int[] Digital, double Gain, int Baseline, double[]? Exact = null);

/// <summary>
/// Assembles the <see cref="EcgRecord"/> every clinical-format reader (DICOM, aECG, MUSE, EDF) returns: canonical lead
/// names, the 4 limb leads derived when a file stores only the 8 independent leads (I, II, V1–V6), the 12 standard leads
/// first in <see cref="LeadOrder.Standard"/> order followed by any other channels, units mV.
/// </summary>
internal static class ClinicalRecord
{
    /// <summary>Leads derived from I and II (Einthoven and Goldberger): III = II − I, aVR = −(I+II)/2, aVL = I − II/2, aVF = II − I/2.</summary>
    public static IReadOnlyList<string> Derivable { get; } = ["III", "aVR", "aVL", "aVF"];

    public static EcgRecord Build(string path, string id, double rate, IReadOnlyList<ChannelData> stored,
        IReadOnlyDictionary<string, double>? measurements = null, IReadOnlyList<string>? statements = null,
        EcgRecord? median = null, int? age = null, string? sex = null, IReadOnlyList<string>? comments = null)
    {
        if (!(rate > 0) || !double.IsFinite(rate)) throw new EcgFormatException(path, $"sampling rate {rate.ToString(CultureInfo.InvariantCulture)} Hz is not a positive number");
        if (stored.Count == 0) throw new EcgFormatException(path, "no signal channels");
        int n = stored[0].Digital.Length;
        foreach (var c in stored)
        {
            if (c.Digital.Length != n) throw new EcgFormatException(path, $"lead {c.Name} has {c.Digital.Length} samples, lead {stored[0].Name} has {n}");
            if (!(c.Gain > 0) || !double.IsFinite(c.Gain)) throw new EcgFormatException(path, $"lead {c.Name} has gain {c.Gain.ToString(CultureInfo.InvariantCulture)} (digital units per mV); it must be a positive number");
        }
        var channels = stored.Select(c => c with { Name = LeadOrder.Normalize(c.Name) ?? c.Name.Trim() }).ToList();
        var derived = new List<string>();
        var byName = channels.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        if (byName.TryGetValue("I", out var one) && byName.TryGetValue("II", out var two) && Derivable.All(l => !byName.ContainsKey(l)))
        {
            foreach (var d in Derive(one, two)) channels.Add(d);
            derived.AddRange(Derivable);
            byName = channels.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        }
        // The 12 standard leads first, in the standard order, then every other channel in file order.
        var ordered = new List<ChannelData>();
        if (LeadOrder.Standard.All(byName.ContainsKey))
        {
            ordered.AddRange(LeadOrder.Standard.Select(l => byName[l]));
            ordered.AddRange(channels.Where(c => !ordered.Contains(c)));
        }
        else ordered.AddRange(channels);
        double[][]? exact = null;
        if (ordered.Any(c => c.Exact is not null))
            exact = ordered.Select(c => c.Exact ?? Physical(c)).ToArray();
        int missing = 0;
        foreach (var c in ordered)
            foreach (int v in c.Digital)
                if (v == int.MinValue) missing++;
        return new EcgRecord
        {
            Id = id,
            SamplingRate = rate,
            Leads = ordered.Select(c => c.Name).ToArray(),
            Digital = ordered.Select(c => c.Digital).ToArray(),
            Gain = ordered.Select(c => c.Gain).ToArray(),
            Baseline = ordered.Select(c => c.Baseline).ToArray(),
            Units = ordered.Select(_ => "mV").ToArray(),
            ExactPhysical = exact,
            SourcePath = path,
            DeviceMeasurements = measurements ?? new Dictionary<string, double>(),
            DeviceStatements = statements ?? [],
            DerivedLeads = derived,
            StoredMedianBeat = median,
            MissingSamples = missing,
            Age = age,
            Sex = sex,
            Comments = comments ?? [],
        };
    }

    private static double[] Physical(ChannelData c)
    {
        var o = new double[c.Digital.Length];
        for (int t = 0; t < o.Length; t++) o[t] = c.Digital[t] == int.MinValue ? double.NaN : (c.Digital[t] - c.Baseline) / c.Gain;
        return o;
    }

    // III at gain G and aVR, aVL, aVF at gain 2G stay exact integers when I and II share their gain and have no exact values:
    // with a = I − baseline, b = II − baseline, III = b − a, 2·aVR = −(a + b), 2·aVL = 2a − b, 2·aVF = 2b − a.
    private static IEnumerable<ChannelData> Derive(ChannelData one, ChannelData two)
    {
        int n = one.Digital.Length;
        if (one.Exact is null && two.Exact is null && one.Gain == two.Gain)
        {
            var iii = new int[n]; var avr = new int[n]; var avl = new int[n]; var avf = new int[n];
            for (int t = 0; t < n; t++)
            {
                int x = one.Digital[t], y = two.Digital[t];
                if (x == int.MinValue || y == int.MinValue)
                {
                    iii[t] = avr[t] = avl[t] = avf[t] = int.MinValue;
                    continue;
                }
                long a = (long)x - one.Baseline, b = (long)y - two.Baseline;
                iii[t] = Clamp(b - a); avr[t] = Clamp(-(a + b)); avl[t] = Clamp(2 * a - b); avf[t] = Clamp(2 * b - a);
            }
            double g = one.Gain;
            return [new("III", iii, g, 0), new("aVR", avr, 2 * g, 0), new("aVL", avl, 2 * g, 0), new("aVF", avf, 2 * g, 0)];
        }
        // Different gains or exact values: derive in mV and keep exact values (digital rounded at lead I's gain).
        var p1 = one.Exact ?? Physical(one);
        var p2 = two.Exact ?? Physical(two);
        double gain = one.Gain;
        ChannelData Make(string name, Func<double, double, double> f)
        {
            var e = new double[n];
            var d = new int[n];
            for (int t = 0; t < n; t++)
            {
                e[t] = f(p1[t], p2[t]);
                d[t] = double.IsNaN(e[t]) ? int.MinValue : Clamp((long)Math.Round(e[t] * gain));
            }
            return new ChannelData(name, d, gain, 0, e);
        }
        return [Make("III", (a, b) => b - a), Make("aVR", (a, b) => -(a + b) / 2), Make("aVL", (a, b) => a - b / 2), Make("aVF", (a, b) => b - a / 2)];
    }

    private static int Clamp(long v) => (int)Math.Clamp(v, int.MinValue + 1, int.MaxValue);

    /// <summary>
    /// Gain (digital units per mV) and integer baseline of a linear calibration <c>mV = scale·(d + offset)</c>:
    /// <c>gain = 1/scale</c> (rounded to 12 significant digits so that e.g. 2.5 µV/bit gives exactly 400), baseline
    /// <c>−offset</c> when that is an integer. Returns false when the baseline is not an integer (the caller then keeps exact values).
    /// </summary>
    public static bool Calibration(double scale, double offset, out double gain, out int baseline)
    {
        gain = RoundSignificant(1 / scale, 12);
        double b = -offset;
        baseline = 0;
        if (!double.IsFinite(b) || Math.Abs(b - Math.Round(b)) > 1e-6 || Math.Abs(b) > int.MaxValue / 2) return false;
        baseline = (int)Math.Round(b);
        return true;
    }

    /// <summary>Rounds to <paramref name="digits"/> significant digits (removes binary noise such as 1000.0000000000001).</summary>
    public static double RoundSignificant(double v, int digits)
    {
        if (v == 0 || !double.IsFinite(v)) return v;
        double scale = Math.Pow(10, digits - 1 - (int)Math.Floor(Math.Log10(Math.Abs(v))));
        double r = Math.Round(v * scale) / scale;
        return double.IsFinite(r) ? r : v;
    }

    /// <summary>A channel from samples and a calibration <c>mV = scale·(d + offset)</c>, exact values kept when the baseline is not an integer.</summary>
    public static ChannelData Channel(string name, int[] digital, double scaleMv, double offsetDigital, string path)
    {
        if (!(scaleMv > 0) || !double.IsFinite(scaleMv))
            throw new EcgFormatException(path, $"lead {name}: amplitude resolution {scaleMv.ToString(CultureInfo.InvariantCulture)} mV per unit is not a positive number");
        if (!double.IsFinite(offsetDigital)) throw new EcgFormatException(path, $"lead {name}: baseline is not a finite number");
        if (Calibration(scaleMv, offsetDigital, out double gain, out int baseline)) return new ChannelData(name, digital, gain, baseline);
        var exact = new double[digital.Length];
        for (int t = 0; t < exact.Length; t++) exact[t] = digital[t] == int.MinValue ? double.NaN : scaleMv * (digital[t] + offsetDigital);
        return new ChannelData(name, digital, gain, (int)Math.Clamp(Math.Round(-offsetDigital), int.MinValue + 1, int.MaxValue), exact);
    }

    /// <summary>Factor from an amplitude unit (UCUM or spelled out) to mV; null when unknown.</summary>
    public static double? ToMillivolts(string unit) => unit.Trim().ToLowerInvariant() switch
    {
        "uv" or "µv" or "μv" or "microvolts" or "microvolt" => 0.001,
        "mv" or "millivolts" or "millivolt" => 1,
        "v" or "volts" or "volt" => 1000,
        "nv" or "nanovolts" => 1e-6,
        _ => null,
    };

    /// <summary>A measurement converted to the unit of its key (ms, bpm, degrees); null when the unit does not fit the key.</summary>
    public static double? MeasurementValue(string key, double value, string? unit)
    {
        string u = (unit ?? "").Trim().ToLowerInvariant();
        bool interval = key is DeviceMeasurementKeys.Rr or DeviceMeasurementKeys.Pr or DeviceMeasurementKeys.Qrs or DeviceMeasurementKeys.Qt
            or DeviceMeasurementKeys.QtcBazett or DeviceMeasurementKeys.QtcFridericia or DeviceMeasurementKeys.QtcUnspecified;
        if (!double.IsFinite(value)) return null;
        if (interval) return u switch { "" or "ms" or "msec" => value, "s" or "sec" => value * 1000, _ => null };
        if (key == DeviceMeasurementKeys.HeartRate) return u is "" or "/min" or "bpm" or "{h.b.}/min" or "{beats}/min" or "1/min" or "{beat}/min" ? value : null;
        return u is "" or "deg" or "degrees" or "°" ? value : null;
    }
}
