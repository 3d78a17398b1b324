using System.Text.Json.Serialization;

namespace Deri.Measurements;

/// <summary>Fiducial points of one median beat, as sample indices into <see cref="MedianBeat.Samples"/>; null where a
/// point is absent (no P wave in atrial fibrillation or flutter) or could not be found.</summary>
/// <param name="POnset">P-wave onset.</param>
/// <param name="POffset">P-wave offset.</param>
/// <param name="QrsOnset">QRS onset.</param>
/// <param name="QrsOffset">QRS offset (J point).</param>
/// <param name="TEnd">T-wave end.</param>
public sealed record FiducialPoints(
    [property: JsonPropertyName("p_on")] int? POnset,
    [property: JsonPropertyName("p_off")] int? POffset,
    [property: JsonPropertyName("qrs_on")] int? QrsOnset,
    [property: JsonPropertyName("qrs_off")] int? QrsOffset,
    [property: JsonPropertyName("t_end")] int? TEnd);

/// <summary>The median beat of one lead with its fiducial points.</summary>
/// <param name="Lead">Lead name (I, II, III, aVR, aVL, aVF, V1–V6).</param>
/// <param name="SamplingRate">Hz of <paramref name="Samples"/>.</param>
/// <param name="Samples">The median beat, in the record's units (mV where known).</param>
/// <param name="Fiducials">Fiducial points of this lead's beat.</param>
public sealed record MedianBeat(
    [property: JsonPropertyName("lead")] string Lead,
    [property: JsonPropertyName("sampling_rate")] double SamplingRate,
    [property: JsonPropertyName("samples")] float[] Samples,
    [property: JsonPropertyName("fiducials")] FiducialPoints Fiducials);

/// <summary>
/// The global measurements an ECG reading starts with. Values are null where they are absent (PR without a P wave) or
/// cannot be measured (axes of a record without physical units); <see cref="Notes"/> says why.
/// </summary>
/// <param name="HeartRateBpm">Ventricular rate (bpm).</param>
/// <param name="RrMs">Mean RR interval (ms).</param>
/// <param name="PrMs">PR interval (ms).</param>
/// <param name="QrsMs">QRS duration (ms).</param>
/// <param name="QtMs">QT interval (ms).</param>
/// <param name="QtcBazettMs">QTc by Bazett (ms).</param>
/// <param name="QtcFridericiaMs">QTc by Fridericia (ms).</param>
/// <param name="PAxisDeg">Frontal P axis (degrees).</param>
/// <param name="QrsAxisDeg">Frontal QRS axis (degrees).</param>
/// <param name="TAxisDeg">Frontal T axis (degrees).</param>
/// <param name="Beats">Number of beats detected.</param>
/// <param name="Notes">Why a value is absent, and the method's limits that apply to this record.</param>
/// <param name="MedianBeats">Per-lead median beats with their fiducial points (global points shown on each lead).</param>
public sealed record EcgMeasurements(
    [property: JsonPropertyName("heart_rate_bpm")] double? HeartRateBpm,
    [property: JsonPropertyName("rr_ms")] double? RrMs,
    [property: JsonPropertyName("pr_ms")] double? PrMs,
    [property: JsonPropertyName("qrs_ms")] double? QrsMs,
    [property: JsonPropertyName("qt_ms")] double? QtMs,
    [property: JsonPropertyName("qtc_bazett_ms")] double? QtcBazettMs,
    [property: JsonPropertyName("qtc_fridericia_ms")] double? QtcFridericiaMs,
    [property: JsonPropertyName("p_axis_deg")] double? PAxisDeg,
    [property: JsonPropertyName("qrs_axis_deg")] double? QrsAxisDeg,
    [property: JsonPropertyName("t_axis_deg")] double? TAxisDeg,
    [property: JsonPropertyName("beats")] int Beats,
    [property: JsonPropertyName("notes")] IReadOnlyList<string> Notes,
    [property: JsonPropertyName("median_beats")] IReadOnlyList<MedianBeat> MedianBeats);
