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

    /// <summary>Number of channels.</summary>
    public int Channels => Digital.Length;

    /// <summary>Samples per channel.</summary>
    public int Samples => Digital.Length == 0 ? 0 : Digital[0].Length;

    /// <summary>Physical value of one sample, <c>(d − baseline) / gain</c>; NaN for a missing sample.</summary>
    public double Physical(int channel, int t)
    {
        int d = Digital[channel][t];
        return d == int.MinValue ? double.NaN : (d - Baseline[channel]) / Gain[channel];
    }
}
