namespace Deri.Signals;

/// <summary>
/// The names under which global ECG measurements are keyed, both for the values a recording device stored
/// (<see cref="EcgRecord.DeviceMeasurements"/>) and for Deri's own measurements, so that the two can be shown side by side.
/// Intervals are in milliseconds, rates in beats per minute, axes in degrees.
/// </summary>
public static class DeviceMeasurementKeys
{
    /// <summary>Ventricular heart rate (bpm).</summary>
    public const string HeartRate = "heart_rate_bpm";

    /// <summary>Mean RR interval (ms).</summary>
    public const string Rr = "rr_ms";

    /// <summary>PR interval (ms).</summary>
    public const string Pr = "pr_ms";

    /// <summary>QRS duration (ms).</summary>
    public const string Qrs = "qrs_ms";

    /// <summary>QT interval (ms).</summary>
    public const string Qt = "qt_ms";

    /// <summary>QT corrected by Bazett's formula, QT / sqrt(RR in s) (ms).</summary>
    public const string QtcBazett = "qtc_bazett_ms";

    /// <summary>QT corrected by Fridericia's formula, QT / cbrt(RR in s) (ms).</summary>
    public const string QtcFridericia = "qtc_fridericia_ms";

    /// <summary>A corrected QT whose formula the device does not name (ms).</summary>
    public const string QtcUnspecified = "qtc_ms";

    /// <summary>Frontal P axis (degrees).</summary>
    public const string PAxis = "p_axis_deg";

    /// <summary>Frontal QRS axis (degrees).</summary>
    public const string QrsAxis = "qrs_axis_deg";

    /// <summary>Frontal T axis (degrees).</summary>
    public const string TAxis = "t_axis_deg";

    /// <summary>Every key, in the order a reading lists them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [HeartRate, Rr, Pr, Qrs, Qt, QtcBazett, QtcFridericia, QtcUnspecified, PAxis, QrsAxis, TAxis];
}
