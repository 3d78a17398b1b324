using Deri.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Baselines;

/// <summary>
/// ECG augmentations as batched tensor ops on <c>(B, leads, L)</c> signals. The deterministic primitives
/// (<see cref="ResizedCrop"/>, <see cref="ZeroOutside"/>, <see cref="Wander"/>, …) take their parameters as tensors;
/// <see cref="Apply"/> draws those parameters per record from the torch default generator (so a checkpointed
/// generator repeats them on resume) and applies each augmentation with its configured probability, in the order
/// crop → scale → baseline wander → noise → lead mask → time mask. Never used in data loading: call it inside a
/// method's loss, on the training device.
/// </summary>
public sealed class EcgAugmentation
{
    private readonly AugmentConfig config;
    private readonly double samplingRate;

    /// <summary>An augmentation pipeline for records sampled at <paramref name="samplingRate"/> Hz.</summary>
    /// <exception cref="ArgumentException">A probability or strength is out of range, or the rate is not positive.</exception>
    public EcgAugmentation(AugmentConfig config, double samplingRate)
    {
        var problems = new ConfigProblems();
        config.Validate(problems);
        problems.Require(samplingRate > 0, "dataset.sampling_rate", samplingRate, "must be positive");
        if (problems.Any) throw new ArgumentException("augmentation: " + string.Join("; ", problems.Items));
        this.config = config;
        this.samplingRate = samplingRate;
    }

    /// <summary>The configuration.</summary>
    public AugmentConfig Config => config;

    /// <summary>Two independently augmented views of <paramref name="ecg"/> <c>(B, leads, L)</c>.</summary>
    public (Tensor View1, Tensor View2) TwoViews(Tensor ecg) => (Apply(ecg), Apply(ecg));

    /// <summary>One augmented view <c>(B, leads, L)</c>; the input is not changed.</summary>
    /// <exception cref="ArgumentException">The input is not 3-D.</exception>
    public Tensor Apply(Tensor ecg)
    {
        if (ecg.dim() != 3) throw new ArgumentException($"augmentation expects (B, leads, L) signals, got [{string.Join(", ", ecg.shape)}]");
        using var scope = NewDisposeScope();
        long b = ecg.shape[0], c = ecg.shape[1], l = ecg.shape[2];
        var dev = ecg.device;
        var x = ecg;
        // Per record, whether an augmentation applies: (B) bool.
        Tensor Draw(double p) => rand(b, device: dev) < p;

        var crop = config.Crop;
        if (crop.P > 0)
        {
            var on = Draw(crop.P);
            var frac = crop.MinScale + (crop.MaxScale - crop.MinScale) * rand(b, device: dev);
            var length = where(on, (frac * l).clamp_min(2), ones(b, device: dev) * l);      // (B) window lengths in samples
            var start = rand(b, device: dev) * (l - length);                                        // (B) window starts
            x = crop.Resize ? ResizedCrop(x, start, length) : ZeroOutside(x, start.floor(), length.floor());
        }
        var scale = config.Scale;
        if (scale.P > 0)
        {
            var factor = scale.Min + (scale.Max - scale.Min) * rand(b, device: dev);
            x = x * where(Draw(scale.P), factor, ones(b, device: dev)).view(b, 1, 1);
        }
        var wander = config.BaselineWander;
        if (wander.P > 0)
        {
            var on = Draw(wander.P).to_type(ScalarType.Float32).view(b, 1, 1);
            var amplitude = wander.Amplitude * rand(b, c, 1, device: dev) * on;
            var hz = wander.MinHz + (wander.MaxHz - wander.MinHz) * rand(b, c, 1, device: dev);
            var phase = 2 * Math.PI * rand(b, c, 1, device: dev);
            x = Wander(x, amplitude, hz, phase, samplingRate);
        }
        var noise = config.Noise;
        if (noise.P > 0)
        {
            var on = Draw(noise.P).to_type(ScalarType.Float32).view(b, 1, 1);
            x = x + randn(b, c, l, device: dev) * (noise.Std * on);
        }
        var leadMask = config.LeadMask;
        if (leadMask.P > 0)
        {
            var on = Draw(leadMask.P).view(b, 1);
            var drop = (rand(b, c, device: dev) < leadMask.Ratio).logical_and(on);                 // (B, leads)
            x = x * drop.logical_not().to_type(x.dtype).unsqueeze(-1);
        }
        var timeMask = config.TimeMask;
        if (timeMask.P > 0 && timeMask.Ratio > 0)
        {
            var on = Draw(timeMask.P);
            long width = (long)Math.Round(timeMask.Ratio * l);
            var start = (rand(b, device: dev) * (l - width + 1)).floor();
            x = TimeMask(x, start, where(on, ones(b, device: dev) * width, zeros(b, device: dev)));
        }
        return (ReferenceEquals(x, ecg) ? ecg.clone() : x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Random resized crop: output sample t of record i is the input at <c>start_i + t·(length_i − 1)/(L − 1)</c>,
    /// linearly interpolated, so the window <c>[start, start + length − 1]</c> is stretched over all L samples
    /// (<c>start = 0, length = L</c> is the identity).
    /// </summary>
    /// <param name="x">Signals <c>(B, leads, L)</c>.</param>
    /// <param name="start">Window starts in samples <c>(B)</c>.</param>
    /// <param name="length">Window lengths in samples <c>(B)</c>, at least 1 and at most <c>L − start</c>.</param>
    public static Tensor ResizedCrop(Tensor x, Tensor start, Tensor length)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], l = x.shape[2];
        var t = arange(l, dtype: ScalarType.Float32, device: x.device).view(1, l);              // (1, L)
        var step = ((length.to_type(ScalarType.Float32) - 1) / Math.Max(1, l - 1)).view(b, 1);  // (B, 1)
        var pos = (start.to_type(ScalarType.Float32).view(b, 1) + t * step).clamp(0, l - 1);     // (B, L)
        var i0 = pos.floor().to_type(ScalarType.Int64);
        var i1 = (i0 + 1).clamp_max(l - 1);
        var w = (pos - i0.to_type(ScalarType.Float32)).unsqueeze(1).to_type(x.dtype);           // (B, 1, L)
        var g0 = x.gather(2, i0.unsqueeze(1).expand(b, c, l));
        var g1 = x.gather(2, i1.unsqueeze(1).expand(b, c, l));
        return (g0 + (g1 - g0) * w).MoveToOuterDisposeScope();
    }

    /// <summary>Crop without resizing: keeps samples <c>[start_i, start_i + length_i)</c> of record i in place and zeroes the rest.</summary>
    /// <param name="x">Signals <c>(B, leads, L)</c>.</param>
    /// <param name="start">Window starts in samples <c>(B)</c>.</param>
    /// <param name="length">Window lengths in samples <c>(B)</c>.</param>
    public static Tensor ZeroOutside(Tensor x, Tensor start, Tensor length)
    {
        using var scope = NewDisposeScope();
        var inside = Window(x, start, length);
        return (x * inside.to_type(x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>Time masking: zeroes samples <c>[start_i, start_i + length_i)</c> of every lead of record i.</summary>
    /// <param name="x">Signals <c>(B, leads, L)</c>.</param>
    /// <param name="start">Segment starts in samples <c>(B)</c>.</param>
    /// <param name="length">Segment lengths in samples <c>(B)</c> (0 leaves the record unchanged).</param>
    public static Tensor TimeMask(Tensor x, Tensor start, Tensor length)
    {
        using var scope = NewDisposeScope();
        var inside = Window(x, start, length);
        return (x * inside.logical_not().to_type(x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Baseline wander: adds <c>amplitude · sin(2π · hz · t / rate + phase)</c> to each lead, t the sample index.
    /// </summary>
    /// <param name="x">Signals <c>(B, leads, L)</c>.</param>
    /// <param name="amplitude">Amplitudes, broadcastable to <c>(B, leads, 1)</c>.</param>
    /// <param name="hz">Frequencies in Hz, broadcastable to <c>(B, leads, 1)</c>.</param>
    /// <param name="phase">Phases in radians, broadcastable to <c>(B, leads, 1)</c>.</param>
    /// <param name="samplingRate">Samples per second.</param>
    public static Tensor Wander(Tensor x, Tensor amplitude, Tensor hz, Tensor phase, double samplingRate)
    {
        using var scope = NewDisposeScope();
        var seconds = arange(x.shape[2], dtype: ScalarType.Float32, device: x.device) / samplingRate;   // (L)
        var wave = amplitude * (2 * Math.PI * hz * seconds + phase).sin();                               // (B, leads, L)
        return (x + wave.to_type(x.dtype)).MoveToOuterDisposeScope();
    }

    // (B, 1, L) bool: t in [start_i, start_i + length_i).
    private static Tensor Window(Tensor x, Tensor start, Tensor length)
    {
        long b = x.shape[0], l = x.shape[2];
        var t = arange(l, dtype: ScalarType.Float32, device: x.device).view(1, l);
        var s = start.to_type(ScalarType.Float32).view(b, 1);
        var e = s + length.to_type(ScalarType.Float32).view(b, 1);
        return (t >= s).logical_and(t < e).unsqueeze(1);
    }
}
