namespace Deri.Synthetic;

/// <summary>A 3-D vector in the body frame used by the dipole model: x to the patient's left, y inferior, z anterior.</summary>
/// <param name="X">Leftward component.</param>
/// <param name="Y">Inferior component.</param>
/// <param name="Z">Anterior component.</param>
public readonly record struct Vec3(double X, double Y, double Z)
{
    /// <summary>Sum.</summary>
    public static Vec3 operator +(Vec3 a, Vec3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);
    /// <summary>Difference.</summary>
    public static Vec3 operator -(Vec3 a, Vec3 b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);
    /// <summary>Scaling.</summary>
    public static Vec3 operator *(double k, Vec3 a) => new(k * a.X, k * a.Y, k * a.Z);
    /// <summary>Negation.</summary>
    public static Vec3 operator -(Vec3 a) => new(-a.X, -a.Y, -a.Z);
    /// <summary>Dot product.</summary>
    public double Dot(Vec3 b) => X * b.X + Y * b.Y + Z * b.Z;
    /// <summary>Euclidean length.</summary>
    public double Length => Math.Sqrt(Dot(this));
    /// <summary>Unit vector in the same direction.</summary>
    public Vec3 Normalized() => (1.0 / Length) * this;

    /// <summary>Rotation in the frontal plane (about the anteroposterior axis) by <paramref name="degrees"/>, positive towards inferior (clockwise as the hexaxial diagram is drawn).</summary>
    public Vec3 RotateFrontal(double degrees)
    {
        double a = degrees * Math.PI / 180, c = Math.Cos(a), s = Math.Sin(a);
        return new(c * X - s * Y, s * X + c * Y, Z);
    }

    /// <summary>Rotation in the horizontal plane (about the vertical axis) by <paramref name="degrees"/>, positive towards anterior.</summary>
    public Vec3 RotateHorizontal(double degrees)
    {
        double a = degrees * Math.PI / 180, c = Math.Cos(a), s = Math.Sin(a);
        return new(c * X - s * Z, Y, s * X + c * Z);
    }

    /// <summary>Frontal-plane axis in degrees (0 = lead I, +90 = aVF), as the ECG axis is measured.</summary>
    public double FrontalAxis => Math.Atan2(Y, X) * 180 / Math.PI;
}

/// <summary>
/// One component of the cardiac dipole: either a Gaussian pulse (P, Q, R, S, T and their parts) or a
/// smooth plateau (the ST-segment injury current), with a fixed direction and amplitude.
/// Times are in seconds relative to the beat's QRS onset.
/// </summary>
/// <param name="Center">Gaussian centre, or plateau start (its rise midpoint).</param>
/// <param name="Width">Gaussian standard deviation, or plateau end (its fall midpoint).</param>
/// <param name="Amplitude">Dipole vector at the peak, in mV as seen by a unit lead vector.</param>
/// <param name="IsPlateau">Plateau instead of Gaussian.</param>
/// <param name="Edge">Plateau rise time constant (logistic scale) in seconds.</param>
/// <param name="FallEdge">Plateau fall time constant in seconds: the ST shift merges smoothly into the T wave.</param>
public readonly record struct DipoleWave(double Center, double Width, Vec3 Amplitude, bool IsPlateau = false, double Edge = 0, double FallEdge = 0)
{
    /// <summary>A Gaussian wave.</summary>
    public static DipoleWave Gauss(double center, double sigma, Vec3 amplitude) => new(center, sigma, amplitude);

    /// <summary>A plateau rising at <paramref name="start"/> (time constant <paramref name="edge"/>) and falling at <paramref name="end"/> (time constant <paramref name="fallEdge"/>).</summary>
    public static DipoleWave Plateau(double start, double end, double edge, Vec3 amplitude, double fallEdge) => new(start, end, amplitude, true, edge, fallEdge);

    /// <summary>Shape value at time <paramref name="t"/> (0–1).</summary>
    public double Shape(double t)
    {
        if (!IsPlateau)
        {
            double u = (t - Center) / Width;
            return Math.Exp(-0.5 * u * u);
        }
        return 1.0 / (1.0 + Math.Exp(-(t - Center) / Edge)) / (1.0 + Math.Exp((t - Width) / FallEdge));
    }

    /// <summary>First time with a non-negligible value.</summary>
    public double Start => IsPlateau ? Center - 8 * Edge : Center - 4.5 * Width;

    /// <summary>Last time with a non-negligible value.</summary>
    public double End => IsPlateau ? Width + 8 * FallEdge : Center + 4.5 * Width;

    /// <summary>The integral of the shape (area), to weight a wave in the axis calculation.</summary>
    public double Area => IsPlateau ? Width - Center : Width * Math.Sqrt(2 * Math.PI);
}

/// <summary>
/// A beat template: the dipole waves of one beat type, pre-rendered at the sampling rate so that placing a
/// beat costs one vector addition per sample.
/// </summary>
internal sealed class BeatTemplate
{
    /// <summary>Offset of sample 0 of the rendering relative to QRS onset, in samples.</summary>
    public int StartOffset { get; }
    /// <summary>Rendered dipole, (3, Length) row-major: x, then y, then z.</summary>
    public float[] Data { get; }
    /// <summary>Samples in the rendering.</summary>
    public int Length { get; }

    public BeatTemplate(IEnumerable<DipoleWave> waveSeq, double fs)
    {
        var waves = waveSeq.ToList();
        double start = waves.Min(w => w.Start), end = waves.Max(w => w.End);
        StartOffset = (int)Math.Floor(start * fs);
        Length = (int)Math.Ceiling(end * fs) - StartOffset + 1;
        Data = new float[3 * Length];
        foreach (var w in waves)
        {
            int a = Math.Max(0, (int)Math.Floor(w.Start * fs) - StartOffset);
            int b = Math.Min(Length, (int)Math.Ceiling(w.End * fs) - StartOffset + 1);
            for (int i = a; i < b; i++)
            {
                double s = w.Shape((i + StartOffset) / fs);
                Data[i] += (float)(s * w.Amplitude.X);
                Data[Length + i] += (float)(s * w.Amplitude.Y);
                Data[2 * Length + i] += (float)(s * w.Amplitude.Z);
            }
        }
    }

    /// <summary>Adds the template with its QRS onset at sample <paramref name="onset"/> into a (3, n) dipole buffer.</summary>
    public void AddTo(float[] dipole, int n, int onset)
    {
        int first = onset + StartOffset;
        int a = Math.Max(0, -first), b = Math.Min(Length, n - first);
        if (b <= a) return;
        for (int d = 0; d < 3; d++)
        {
            var src = Data.AsSpan(d * Length + a, b - a);
            var dst = dipole.AsSpan(d * n + first + a, src.Length);
            for (int i = 0; i < src.Length; i++) dst[i] += src[i];
        }
    }
}
