using System.Collections.Concurrent;
using TorchSharp;

namespace Deri.Runtime;

/// <summary>
/// TorchSharp <see cref="Scalar"/>s that something owns, for every number Deri passes to a tensor operation.
/// <para>
/// <b>The rule.</b> Never let a .NET number become a Scalar implicitly (<c>t * 0.5</c>, <c>t + u</c> — whose hidden
/// <c>alpha</c> is an implicit <c>1</c> —, <c>t.pow(2)</c>, <c>clamp(min: 1e-8)</c>), and never call a TorchSharp method
/// that does so inside. In TorchSharp 0.107 such a Scalar's raw handle goes to native code while nothing keeps the
/// managed object alive, so the garbage collector may finalise it during the call and the operation reads freed
/// memory: runs died at random with "Scalar.h:140 toDouble" or "alpha must not be a floating point number"
/// (TorchSharp pull requests #1434 and #1496 are about this family). Use instead:
/// </para>
/// <list type="bullet">
/// <item><see cref="One"/>, <see cref="MinusOne"/>, <see cref="Zero"/> as the <c>alpha</c> of <c>add</c>/<c>sub</c>
/// (<c>a.add(b, Scalars.One)</c> for <c>a + b</c>); they are integral, so they also fit integer tensors;</item>
/// <item><see cref="Constant(double)"/> / <see cref="Constant(long)"/> for a number fixed in the code or by the
/// configuration (cached for the life of the process, so never finalised);</item>
/// <item><c>using var s = value.ToScalar();</c> for a value that changes at run time (a learning rate, a bias correction).</item>
/// </list>
/// <para><c>tests/Deri.Tests/Architecture/ScalarLifetimeTests</c> reads the compiled IL of every Deri assembly and fails on
/// any implicit conversion, any un-disposed <c>ToScalar()</c>, and any call into a TorchSharp method that makes an
/// unowned Scalar inside (it finds those by reading TorchSharp's own IL).</para>
/// </summary>
public static class Scalars
{
    /// <summary>At most this many distinct constants; more means a run-time value is being cached, which would grow without end.</summary>
    public const int MaxConstants = 4096;

    private static readonly ConcurrentDictionary<long, Scalar> Doubles = new();
    private static readonly ConcurrentDictionary<long, Scalar> Longs = new();

    /// <summary>The integer 1 (int64), e.g. the <c>alpha</c> of <c>a.add(b, One)</c>.</summary>
    public static Scalar One { get; } = Constant(1L);

    /// <summary>The integer −1 (int64).</summary>
    public static Scalar MinusOne { get; } = Constant(-1L);

    /// <summary>The integer 0 (int64).</summary>
    public static Scalar Zero { get; } = Constant(0L);

    /// <summary>A float64 Scalar for <paramref name="value"/>, made once and kept for the life of the process.</summary>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxConstants"/> distinct values were asked for.</exception>
    public static Scalar Constant(double value) =>
        Doubles.TryGetValue(BitConverter.DoubleToInt64Bits(value), out var s) ? s : Add(Doubles, BitConverter.DoubleToInt64Bits(value), () => value.ToScalar());

    /// <summary>An int64 Scalar for <paramref name="value"/>, made once and kept for the life of the process.</summary>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxConstants"/> distinct values were asked for.</exception>
    public static Scalar Constant(long value) =>
        Longs.TryGetValue(value, out var s) ? s : Add(Longs, value, () => value.ToScalar());

    private static Scalar Add(ConcurrentDictionary<long, Scalar> cache, long key, Func<Scalar> make)
    {
        if (cache.Count >= MaxConstants)
            throw new InvalidOperationException(
                $"more than {MaxConstants} distinct Scalar constants: a value that changes at run time needs an owned Scalar (`using var s = value.ToScalar()`), not Scalars.Constant");
        return cache.GetOrAdd(key, _ => make());
    }
}
