namespace Deri.Config;

/// <summary>
/// <c>ssl.augment</c>: each augmentation is applied to each record of each view independently with its
/// probability <c>p</c>, in the order crop → scale → baseline wander → noise → lead mask → time mask.
/// Amplitudes are in the store's signal units (min–max normalised records span [0, 1]).
/// </summary>
public sealed record AugmentConfig
{
    /// <summary><c>crop</c>: a random window of the record, stretched back to full length (or zero outside it).</summary>
    public CropAugment Crop { get; init; } = new();

    /// <summary><c>scale</c>: multiply the record by a random factor.</summary>
    public ScaleAugment Scale { get; init; } = new();

    /// <summary><c>baseline_wander</c>: add a slow sinusoid per lead.</summary>
    public WanderAugment BaselineWander { get; init; } = new();

    /// <summary><c>noise</c>: add white Gaussian noise.</summary>
    public NoiseAugment Noise { get; init; } = new();

    /// <summary><c>lead_mask</c>: zero random leads.</summary>
    public LeadMaskAugment LeadMask { get; init; } = new();

    /// <summary><c>time_mask</c>: zero one random segment of all leads.</summary>
    public TimeMaskAugment TimeMask { get; init; } = new();

    /// <summary>Adds a problem, naming its full key (<c>ssl.augment.noise.std</c>), for every value out of range.</summary>
    public void Validate(ConfigProblems problems)
    {
        void P(string key, double p) => problems.Require(p is >= 0 and <= 1, $"ssl.augment.{key}.p", p, "must be in [0, 1]");
        void Range(string key, double lo, double hi, double min, double max) =>
            problems.Require(double.IsFinite(lo) && double.IsFinite(hi) && lo >= min && hi <= max && lo <= hi,
                $"ssl.augment.{key}", $"[{lo}, {hi}]", $"needs {min} <= min <= max <= {max}");
        P("crop", Crop.P);
        Range("crop.min_scale..max_scale", Crop.MinScale, Crop.MaxScale, 1e-3, 1);
        P("scale", Scale.P);
        Range("scale.min..max", Scale.Min, Scale.Max, 0, double.MaxValue);
        P("baseline_wander", BaselineWander.P);
        Range("baseline_wander.amplitude", 0, BaselineWander.Amplitude, 0, double.MaxValue);
        Range("baseline_wander.min_hz..max_hz", BaselineWander.MinHz, BaselineWander.MaxHz, 0, double.MaxValue);
        P("noise", Noise.P);
        Range("noise.std", 0, Noise.Std, 0, double.MaxValue);
        P("lead_mask", LeadMask.P);
        Range("lead_mask.ratio", 0, LeadMask.Ratio, 0, 1);
        P("time_mask", TimeMask.P);
        Range("time_mask.ratio", 0, TimeMask.Ratio, 0, 1);
    }
}

/// <summary><c>ssl.augment.crop</c>: random resized crop.</summary>
public sealed record CropAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 1.0;

    /// <summary><c>min_scale</c>: smallest window, as a fraction of the record length.</summary>
    public double MinScale { get; init; } = 0.5;

    /// <summary><c>max_scale</c>: largest window, as a fraction of the record length.</summary>
    public double MaxScale { get; init; } = 1.0;

    /// <summary><c>resize</c>: stretch the window back to full length by linear interpolation (true) or keep it in place and zero the rest (false).</summary>
    public bool Resize { get; init; } = true;
}

/// <summary><c>ssl.augment.scale</c>: amplitude scaling.</summary>
public sealed record ScaleAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>min</c>: smallest factor.</summary>
    public double Min { get; init; } = 0.8;

    /// <summary><c>max</c>: largest factor.</summary>
    public double Max { get; init; } = 1.25;
}

/// <summary><c>ssl.augment.baseline_wander</c>: a low-frequency sinusoid of random frequency, phase and amplitude per lead.</summary>
public sealed record WanderAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>amplitude</c>: largest amplitude (each lead draws one uniformly below it).</summary>
    public double Amplitude { get; init; } = 0.05;

    /// <summary><c>min_hz</c>: lowest frequency in Hz.</summary>
    public double MinHz { get; init; } = 0.05;

    /// <summary><c>max_hz</c>: highest frequency in Hz (respiration and movement stay below about 0.5 Hz).</summary>
    public double MaxHz { get; init; } = 0.5;
}

/// <summary><c>ssl.augment.noise</c>: additive white Gaussian noise.</summary>
public sealed record NoiseAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>std</c>: standard deviation of the noise.</summary>
    public double Std { get; init; } = 0.01;
}

/// <summary><c>ssl.augment.lead_mask</c>: zero each lead with probability <c>ratio</c>.</summary>
public sealed record LeadMaskAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.2;

    /// <summary><c>ratio</c>: probability of each lead being zeroed in a masked record.</summary>
    public double Ratio { get; init; } = 0.25;
}

/// <summary><c>ssl.augment.time_mask</c>: zero one contiguous segment.</summary>
public sealed record TimeMaskAugment
{
    /// <summary><c>p</c>: probability per record.</summary>
    public double P { get; init; } = 0.5;

    /// <summary><c>ratio</c>: segment length as a fraction of the record.</summary>
    public double Ratio { get; init; } = 0.1;
}
