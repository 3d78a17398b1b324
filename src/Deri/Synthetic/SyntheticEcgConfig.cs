namespace Deri.Synthetic;

/// <summary>How much recording noise the generator adds.</summary>
public enum NoiseLevel
{
    /// <summary>No noise at all: the clean cardiac signal (for tests and illustrations).</summary>
    None,
    /// <summary>A well-prepared resting ECG: slight baseline wander, little mains and muscle noise.</summary>
    Low,
    /// <summary>A typical clinical recording (the default).</summary>
    Medium,
    /// <summary>A difficult recording: strong wander, mains, muscle noise and electrode-motion artefacts.</summary>
    High,
}

/// <summary>
/// Configuration of <see cref="SyntheticEcgGenerator"/>. Every record is a pure function of
/// (<see cref="Seed"/>, record index) and this configuration.
/// </summary>
/// <param name="Seed">Data-set seed.</param>
/// <param name="SamplingRate">Samples per second per lead (Hz).</param>
/// <param name="DurationSeconds">Record length in seconds.</param>
/// <param name="Noise">Noise level.</param>
/// <param name="NormalFraction">Probability that a record is a normal ECG (no finding at all); the rest draw conditions independently with clinical exclusions.</param>
public sealed record SyntheticEcgConfig(
    long Seed = 0,
    double SamplingRate = 500,
    double DurationSeconds = 10,
    NoiseLevel Noise = NoiseLevel.Medium,
    double NormalFraction = 0.3)
{
    /// <summary>Samples per lead, <c>round(SamplingRate · DurationSeconds)</c>.</summary>
    public int Samples => (int)Math.Round(SamplingRate * DurationSeconds);

    /// <summary>Checks the values and throws a clear error for a bad one.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (!(SamplingRate >= 100 && SamplingRate <= 10000))
            throw new ArgumentException($"synthetic ECG sampling rate {SamplingRate} Hz is out of range (100–10000 Hz)");
        if (!(DurationSeconds >= 2 && DurationSeconds <= 600))
            throw new ArgumentException($"synthetic ECG duration {DurationSeconds} s is out of range (2–600 s)");
        if (!(NormalFraction >= 0 && NormalFraction <= 1))
            throw new ArgumentException($"normal fraction {NormalFraction} must be in [0, 1]");
        if (!Enum.IsDefined(Noise))
            throw new ArgumentException($"unknown noise level {Noise}");
    }

    /// <summary>Parses <c>none</c>, <c>low</c>, <c>medium</c> or <c>high</c> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown level.</exception>
    public static NoiseLevel ParseNoise(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" or "off" => NoiseLevel.None,
        "low" => NoiseLevel.Low,
        "medium" or "med" => NoiseLevel.Medium,
        "high" => NoiseLevel.High,
        _ => throw new ArgumentException($"unknown noise level '{text}': expected none, low, medium or high"),
    };
}
