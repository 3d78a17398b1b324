using System.Text.Json.Serialization;
using Deri.IO;

namespace Deri.Data.Preprocessing;

/// <summary>How a record's amplitudes are scaled after cropping.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Normalization>))]
public enum Normalization
{
    /// <summary>Global min–max over the whole record (all leads together): <c>(x − min) / (max − min + 1e−8)</c>. DERI's default.</summary>
    MinMax,

    /// <summary>Physical units (mV) as read.</summary>
    None,

    /// <summary>Each lead to zero mean and unit standard deviation: <c>(x − μ) / (σ + 1e−8)</c>.</summary>
    ZScorePerLead,
}

/// <summary>
/// Everything that turns a raw record into the model's <c>(12, TargetLength)</c> float32 input. The
/// steps run in this order: physical units → non-finite repair → resampling to <see cref="TargetRate"/>
/// → crop <c>[CropStart, CropStart + CropLength)</c> → zero-pad to <see cref="TargetLength"/> →
/// normalisation → lead reorder to the model order (I, II, III, aVR, aVF, aVL, V1–V6).
/// </summary>
public sealed record PreprocessConfig
{
    /// <summary>Number of leads of the output (the model's 12).</summary>
    public const int Leads = 12;

    /// <summary>Output sampling rate in Hz (500).</summary>
    public int TargetRate { get; init; } = 500;

    /// <summary>Output samples per lead (5000 = 10 s at 500 Hz).</summary>
    public int TargetLength { get; init; } = 5000;

    /// <summary>First sample kept, counted at <see cref="TargetRate"/> (after resampling).</summary>
    public int CropStart { get; init; }

    /// <summary>Samples kept from <see cref="CropStart"/> before zero-padding; <c>null</c> = <see cref="TargetLength"/>.
    /// CPSC2018 keeps 2500 (5 s) and pads to 5000.</summary>
    public int? CropLength { get; init; }

    /// <summary>Replace NaN/±Inf samples by the mean of the finite samples within ±<see cref="RepairRadius"/>.</summary>
    public bool RepairNonFinite { get; init; } = true;

    /// <summary>Neighbourhood half-width of the non-finite repair (6).</summary>
    public int RepairRadius { get; init; } = 6;

    /// <summary>Amplitude normalisation (global min–max by default).</summary>
    public Normalization Normalization { get; init; } = Normalization.MinMax;

    /// <summary>When true the statistics of the normalisation include the zero padding and the padding is
    /// normalised too; when false (default) only the recorded samples are normalised and padding stays 0.</summary>
    public bool NormalizeAfterPadding { get; init; }

    /// <summary>Reorder the leads by name to the model order; when false the first 12 channels are kept as stored.</summary>
    public bool ReorderLeads { get; init; } = true;

    /// <summary>Kaiser window β of the resampling filter (scipy's default 5.0).</summary>
    public double KaiserBeta { get; init; } = 5.0;

    /// <summary>Samples actually kept from the signal (<see cref="CropLength"/> or <see cref="TargetLength"/>).</summary>
    [JsonIgnore]
    public int EffectiveCropLength => CropLength ?? TargetLength;

    /// <summary>DERI's preprocessing for MIMIC-IV-ECG, PTB-XL and CSN: first 5000 samples at 500 Hz, min–max.</summary>
    public static PreprocessConfig Default { get; } = new();

    /// <summary>DERI's preprocessing for CPSC2018: first 2500 samples (5 s) zero-padded to 5000, min–max.</summary>
    public static PreprocessConfig Cpsc2018 { get; } = new() { CropLength = 2500 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (TargetRate <= 0) throw new InputValueException($"TargetRate must be positive, got {TargetRate}");
        if (TargetLength <= 0) throw new InputValueException($"TargetLength must be positive, got {TargetLength}");
        if (CropStart < 0) throw new InputValueException($"CropStart must be ≥ 0, got {CropStart}");
        if (CropLength is int c && (c <= 0 || c > TargetLength))
            throw new InputValueException($"CropLength must be in 1..TargetLength ({TargetLength}), got {c}");
        if (RepairRadius < 1) throw new InputValueException($"RepairRadius must be ≥ 1, got {RepairRadius}");
        if (!(KaiserBeta >= 0) || !double.IsFinite(KaiserBeta)) throw new InputValueException($"KaiserBeta must be finite and ≥ 0, got {KaiserBeta}");
        if (!Enum.IsDefined(Normalization)) throw new InputValueException($"unknown normalisation {Normalization}");
    }
}
