using Deri.Config;
using Deri.Runtime;
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
        if (problems.Any) throw new Deri.Config.ConfigException("augmentation: " + string.Join("; ", problems.Items));
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
        // The record length changes with the input: an owned Scalar, not a cached constant.
        using var samples = l.ToScalar();
        // Per record, whether an augmentation applies: (B) bool. p is a configured probability.
        Tensor Draw(double p) => rand(b, device: dev).lt(Scalars.Constant(p));

        var crop = config.Crop;
        if (crop.P > 0)
        {
            var on = Draw(crop.P);
            var frac = rand(b, device: dev).mul(Scalars.Constant(crop.MaxScale - crop.MinScale)).add(Scalars.Constant(crop.MinScale), Scalars.One);
            var length = where(on, frac.mul(samples).clamp_min(Scalars.Constant(2L)), ones(b, device: dev).mul(samples)); // (B) window lengths in samples
            var start = rand(b, device: dev) * length.negative().add(samples, Scalars.One);               // (B) window starts
            x = crop.Resize ? ResizedCrop(x, start, length) : ZeroOutside(x, start.floor(), length.floor());
        }
        var scale = config.Scale;
        if (scale.P > 0)
        {
            var factor = rand(b, device: dev).mul(Scalars.Constant(scale.Max - scale.Min)).add(Scalars.Constant(scale.Min), Scalars.One);
            x = x * where(Draw(scale.P), factor, ones(b, device: dev)).view(b, 1, 1);
        }
        var wander = config.BaselineWander;
        if (wander.P > 0)
        {
            var on = Draw(wander.P).to_type(ScalarType.Float32).view(b, 1, 1);
            var amplitude = rand(b, c, 1, device: dev).mul(Scalars.Constant(wander.Amplitude)) * on;
            var hz = rand(b, c, 1, device: dev).mul(Scalars.Constant(wander.MaxHz - wander.MinHz)).add(Scalars.Constant(wander.MinHz), Scalars.One);
            var phase = rand(b, c, 1, device: dev).mul(Scalars.Constant(2 * Math.PI));
            x = Wander(x, amplitude, hz, phase, samplingRate);
        }
        var noise = config.Noise;
        if (noise.P > 0)
        {
            var on = Draw(noise.P).to_type(ScalarType.Float32).view(b, 1, 1);
            x = x.add(randn(b, c, l, device: dev) * on.mul(Scalars.Constant(noise.Std)), Scalars.One);
        }
        var leadMask = config.LeadMask;
        if (leadMask.P > 0)
        {
            var on = Draw(leadMask.P).view(b, 1);
            var drop = rand(b, c, device: dev).lt(Scalars.Constant(leadMask.Ratio)).logical_and(on); // (B, leads)
            x = x * drop.logical_not().to_type(x.dtype).unsqueeze(-1);
        }
        var timeMask = config.TimeMask;
        if (timeMask.P > 0 && timeMask.Ratio > 0)
        {
            var on = Draw(timeMask.P);
            long width = (long)Math.Round(timeMask.Ratio * l);
            using var starts = (l - width + 1).ToScalar();
            using var samplesMasked = width.ToScalar();
            var start = rand(b, device: dev).mul(starts).floor();
            x = TimeMask(x, start, where(on, ones(b, device: dev).mul(samplesMasked), zeros(b, device: dev)));
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
        // Owned Scalars for the input's length (it changes at run time).
        using var samples = l.ToScalar();
        using var gaps = Math.Max(1, l - 1).ToScalar();
        using var last = (l - 1).ToScalar();
        var t = arange(Scalars.Zero, samples, Scalars.One, dtype: ScalarType.Float32, device: x.device).view(1, l); // (1, L)
        var step = length.to_type(ScalarType.Float32).sub(Scalars.One).div(gaps).view(b, 1);  // (B, 1)
        var pos = start.to_type(ScalarType.Float32).view(b, 1).add(t * step, Scalars.One).clamp(Scalars.Zero, last); // (B, L)
        var i0 = pos.floor().to_type(ScalarType.Int64);
        var i1 = i0.add(Scalars.One, Scalars.One).clamp_max(last);
        var w = (pos - i0.to_type(ScalarType.Float32)).unsqueeze(1).to_type(x.dtype);           // (B, 1, L)
        var g0 = x.gather(2, i0.unsqueeze(1).expand(b, c, l));
        var g1 = x.gather(2, i1.unsqueeze(1).expand(b, c, l));
        return g0.add((g1 - g0) * w, Scalars.One).MoveToOuterDisposeScope();
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
        // Owned Scalars: the length and the rate are the caller's run-time values.
        using var samples = x.shape[2].ToScalar();
        using var rate = samplingRate.ToScalar();
        var seconds = arange(Scalars.Zero, samples, Scalars.One, dtype: ScalarType.Float32, device: x.device).div(rate); // (L)
        var wave = amplitude * (hz.mul(Scalars.Constant(2 * Math.PI)) * seconds).add(phase, Scalars.One).sin();        // (B, leads, L)
        return x.add(wave.to_type(x.dtype), Scalars.One).MoveToOuterDisposeScope();
    }

    // (B, 1, L) bool: t in [start_i, start_i + length_i).
    private static Tensor Window(Tensor x, Tensor start, Tensor length)
    {
        long b = x.shape[0], l = x.shape[2];
        using var samples = l.ToScalar();
        var t = arange(Scalars.Zero, samples, Scalars.One, dtype: ScalarType.Float32, device: x.device).view(1, l);
        var s = start.to_type(ScalarType.Float32).view(b, 1);
        var e = s.add(length.to_type(ScalarType.Float32).view(b, 1), Scalars.One);
        return (t >= s).logical_and(t < e).unsqueeze(1);
    }
}
