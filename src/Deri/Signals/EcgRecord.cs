namespace Deri.Signals;

/// <summary>
/// One multi-lead ECG recording as read from disk, before preprocessing: digital samples with the
/// per-channel calibration needed to turn them into physical units, plus the record's metadata.
/// Readers of every format (WFDB, MAT v4/v5) produce this type; preprocessing consumes it.
/// </summary>
public sealed class EcgRecord
{
    /// <summary>Record name (file stem, e.g. <c>00001_hr</c>).</summary>
    public required string Id { get; init; }

    /// <summary>Sampling frequency in Hz.</summary>
    public required double SamplingRate { get; init; }

    /// <summary>Channel descriptions as stored (e.g. <c>I</c>, <c>AVR</c>, <c>V1</c>).</summary>
    public required IReadOnlyList<string> Leads { get; init; }

    /// <summary>Digital samples, channel-major: <c>Digital[c][t]</c>, each of length <see cref="Samples"/>.
    /// Missing samples (WFDB's invalid value) are <see cref="int.MinValue"/>.</summary>
    public required int[][] Digital { get; init; }

    /// <summary>ADC gain per channel (digital units per physical unit).</summary>
    public required double[] Gain { get; init; }

    /// <summary>Baseline per channel (digital value of physical zero).</summary>
    public required int[] Baseline { get; init; }

    /// <summary>Physical units per channel (usually <c>mV</c>).</summary>
    public required string[] Units { get; init; }

    /// <summary>Age in years, when the record states it.</summary>
    public int? Age { get; init; }

    /// <summary>Sex as stated (<c>Male</c>, <c>Female</c> …), when the record states it.</summary>
    public string? Sex { get; init; }

    /// <summary>Diagnosis codes (SNOMED CT in the challenge datasets), when the record states them.</summary>
    public IReadOnlyList<string> Diagnoses { get; init; } = [];

    /// <summary>Free-text comment lines of the header, without the leading <c>#</c>.</summary>
    public IReadOnlyList<string> Comments { get; init; } = [];

    /// <summary>File the record was read from (header or <c>.mat</c>), when read from disk.</summary>
    public string? SourcePath { get; init; }

    /// <summary>Exact physical values, channel-major like <see cref="Digital"/>, for sources that store floating-point
    /// samples (CPSC2018 MAT v5 files hold doubles in mV); <see cref="Digital"/> then holds them rounded at
    /// <see cref="Gain"/>. Null for integer sources, whose physical values follow from the calibration. NaN marks a missing sample.</summary>
    public double[][]? ExactPhysical { get; init; }

    /// <summary>The parsed WFDB header, for records read from WFDB files.</summary>
    public WfdbHeader? Header { get; init; }

    /// <summary>Checksums declared in the header per channel (16 bits), null entries where none is stated; null for non-WFDB sources.</summary>
    public int?[]? DeclaredChecksums { get; init; }

    /// <summary>Checksums of the stored samples per channel (sum modulo 2^16, as <c>0..65535</c>); null for non-WFDB sources.</summary>
    public int[]? ComputedChecksums { get; init; }

    /// <summary>Measurements the recording device (an ECG cart or management system) stored in the file, keyed by the
    /// names of <see cref="DeviceMeasurementKeys"/> (for example <c>pr_ms</c>); empty when the format or file has none.</summary>
    public IReadOnlyDictionary<string, double> DeviceMeasurements { get; init; } = new Dictionary<string, double>();

    /// <summary>Interpretive statements the recording device stored in the file (e.g. "Sinus rhythm"), in file order; empty when none.</summary>
    public IReadOnlyList<string> DeviceStatements { get; init; } = [];

    /// <summary>Leads the reader computed from others rather than read (e.g. III, aVR, aVL, aVF from I and II when a
    /// format stores 8 leads); empty when every lead was stored.</summary>
    public IReadOnlyList<string> DerivedLeads { get; init; } = [];

    /// <summary>The representative (median or average) beat the file stores beside the rhythm data, as a record of its own
    /// (same leads, its own rate and length); null when the file has none.</summary>
    public EcgRecord? StoredMedianBeat { get; init; }

    /// <summary>Number of missing samples over all channels (WFDB invalid values, NaN in floating-point sources).</summary>
    public int MissingSamples { get; init; }

    /// <summary>Whether channel <paramref name="channel"/>'s samples match its declared checksum; null when no checksum is declared or computed.
    /// Writers differ in writing checksums signed or unsigned, so both are compared modulo 2^16.</summary>
    public bool? ChecksumMatches(int channel)
    {
        if (DeclaredChecksums is null || ComputedChecksums is null || DeclaredChecksums[channel] is not int declared) return null;
        return (declared & 0xFFFF) == (ComputedChecksums[channel] & 0xFFFF);
    }

    /// <summary>Channels whose declared checksum does not match the stored samples.</summary>
    public IReadOnlyList<int> ChecksumMismatches()
    {
        var bad = new List<int>();
        for (int c = 0; c < Channels; c++)
            if (ChecksumMatches(c) == false) bad.Add(c);
        return bad;
    }

    /// <summary>Number of channels.</summary>
    public int Channels => Digital.Length;

    /// <summary>Samples per channel.</summary>
    public int Samples => Digital.Length == 0 ? 0 : Digital[0].Length;

    /// <summary>Physical value of one sample, <c>(d − baseline) / gain</c> (or the exact stored value, see <see cref="ExactPhysical"/>); NaN for a missing sample.</summary>
    public double Physical(int channel, int t)
    {
        if (ExactPhysical is not null) return ExactPhysical[channel][t];
        int d = Digital[channel][t];
        return d == int.MinValue ? double.NaN : (d - Baseline[channel]) / Gain[channel];
    }

    /// <summary>Physical values of one channel, <c>[Samples]</c>; NaN for missing samples.</summary>
    public double[] PhysicalChannel(int channel)
    {
        if (ExactPhysical is not null) return (double[])ExactPhysical[channel].Clone();
        var d = Digital[channel];
        var o = new double[d.Length];
        double g = Gain[channel];
        int b = Baseline[channel];
        for (int t = 0; t < d.Length; t++) o[t] = d[t] == int.MinValue ? double.NaN : (d[t] - b) / g;
        return o;
    }
}
