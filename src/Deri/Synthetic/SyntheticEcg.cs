namespace Deri.Synthetic;

/// <summary>Kind of one ventricular beat in a synthetic record.</summary>
public enum BeatKind
{
    /// <summary>A supraventricular beat conducted through the normal (or blocked-bundle) pathway.</summary>
    Conducted,
    /// <summary>A premature ventricular complex.</summary>
    Ventricular,
    /// <summary>A premature atrial complex: an ectopic P wave conducted to a normal QRS (PTB-XL statement mode).</summary>
    AtrialPremature,
}

/// <summary>One ventricular beat: its QRS onset (seconds from the record start) and kind.</summary>
/// <param name="QrsOnset">QRS onset time in seconds; can be slightly negative or beyond the end for edge beats.</param>
/// <param name="Kind">Conducted or premature ventricular.</param>
/// <param name="HasPWave">Whether a sinus P wave precedes it.</param>
public readonly record struct SyntheticBeat(double QrsOnset, BeatKind Kind, bool HasPWave);

/// <summary>
/// The values the generator drew for one record: what a perfect measurement would find. Intervals are in
/// milliseconds and refer to the conducted beats; absent ones (no P wave in AF) are null.
/// </summary>
public sealed record SyntheticGroundTruth
{
    /// <summary>Ventricular rate in bpm, from the QRS onsets of the beats inside the record.</summary>
    public required double HeartRate { get; init; }
    /// <summary>Mean RR interval in ms over the beats inside the record.</summary>
    public required double MeanRr { get; init; }
    /// <summary>Atrial rate in bpm (sinus rate, flutter-wave rate, or the mean fibrillatory frequency).</summary>
    public required double AtrialRate { get; init; }
    /// <summary>PR interval (P onset to QRS onset) in ms; null without P waves.</summary>
    public required double? Pr { get; init; }
    /// <summary>P-wave duration in ms; null without P waves.</summary>
    public required double? PDuration { get; init; }
    /// <summary>QRS duration of conducted beats in ms.</summary>
    public required double Qrs { get; init; }
    /// <summary>QT interval (QRS onset to T end) of conducted beats in ms.</summary>
    public required double Qt { get; init; }
    /// <summary>Bazett-corrected QT in ms.</summary>
    public required double Qtc { get; init; }
    /// <summary>ST shift at J+60 ms in mV per lead (lead order of <see cref="SyntheticEcgGenerator.Leads"/>), from the ST-segment waves alone.</summary>
    public required float[] StShift { get; init; }
    /// <summary>Frontal-plane P axis in degrees; null without P waves.</summary>
    public required double? PAxis { get; init; }
    /// <summary>Frontal-plane QRS axis in degrees.</summary>
    public required double QrsAxis { get; init; }
    /// <summary>Frontal-plane T axis in degrees.</summary>
    public required double TAxis { get; init; }
    /// <summary>The ventricular beats, in time order (including edge beats partly outside the record).</summary>
    public required IReadOnlyList<SyntheticBeat> Beats { get; init; }
    /// <summary>Atrial-flutter conduction ratio (2 for 2:1 …); 0 for variable block; null when not flutter.</summary>
    public int? FlutterConduction { get; init; }
    /// <summary>Mains frequency of the interference (50 or 60 Hz).</summary>
    public required int MainsFrequency { get; init; }
    /// <summary>P-wave onsets in seconds, conducted or not, sinus and ectopic (PTB-XL statement mode; empty in the condition mode).</summary>
    public IReadOnlyList<double> PWaveOnsets { get; init; } = [];
}

/// <summary>One synthetic 12-lead ECG with its paired machine report and ground truth.</summary>
public sealed record SyntheticEcg
{
    /// <summary>Record index within the data set.</summary>
    public required int Index { get; init; }
    /// <summary>Sampling rate in Hz.</summary>
    public required double SamplingRate { get; init; }
    /// <summary>Samples per lead.</summary>
    public required int Samples { get; init; }
    /// <summary>Signal in mV, channel-major: lead <c>c</c> occupies <c>[c·Samples, (c+1)·Samples)</c>; lead order <see cref="SyntheticEcgGenerator.Leads"/>.</summary>
    public required float[] Signal { get; init; }
    /// <summary>The conditions present.</summary>
    public required IReadOnlySet<EcgCondition> Conditions { get; init; }
    /// <summary>Report statements, one machine statement each (like MIMIC-IV-ECG's <c>report_0…</c>).</summary>
    public required IReadOnlyList<string> Statements { get; init; }
    /// <summary>Age in years.</summary>
    public required int Age { get; init; }
    /// <summary>Sex: <c>M</c> or <c>F</c>.</summary>
    public required string Sex { get; init; }
    /// <summary>The drawn ground truth.</summary>
    public required SyntheticGroundTruth Truth { get; init; }

    /// <summary>The record's PTB-XL statements with their likelihoods, as in <c>scp_codes</c> (PTB-XL statement mode; empty in the condition mode).</summary>
    public IReadOnlyList<(string Code, double Likelihood)> ScpCodes { get; init; } = [];

    /// <summary>The report as the DERI pipeline forms it: non-empty statements joined with ". ".</summary>
    public string Report => string.Join(". ", Statements);

    /// <summary>Multi-label vector over <see cref="EcgConditions.All"/> (1 = present).</summary>
    public float[] LabelVector()
    {
        var v = new float[EcgConditions.Count];
        foreach (var c in Conditions) v[(int)c] = 1;
        return v;
    }

    /// <summary>The samples of one lead (a view into <see cref="Signal"/>).</summary>
    public ReadOnlySpan<float> Lead(int channel) => Signal.AsSpan(channel * Samples, Samples);
}
