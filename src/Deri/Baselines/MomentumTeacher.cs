using Deri.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Baselines;

/// <summary>
/// The momentum (EMA) teacher of BYOL and MoCo v3: frozen copies of online modules that follow them by
/// <c>target ← m·target + (1 − m)·online</c> before every optimizer step, the momentum rising from
/// <c>m_base</c> to 1 on a cosine over the run (<see cref="SslHeads.CosineMomentum"/>). The step counter is the
/// owner's buffer <c>ema_step</c>, so it is saved in checkpoints and a resumed run continues the schedule.
/// </summary>
/// <remarks>
/// Not a module itself: the online and target modules stay fields of the method, so their state-dict keys
/// (<c>target_encoder.*</c>, <c>momentum_projector.*</c>, …) are the method's own.
/// </remarks>
public sealed class MomentumTeacher
{
    /// <summary>Name of the owner's buffer that counts target updates.</summary>
    public const string StepBuffer = "ema_step";

    private readonly Module owner;
    private readonly (Module Online, Module Target)[] pairs;
    private readonly double baseMomentum;
    private readonly long totalSteps;

    /// <summary>
    /// Registers <see cref="StepBuffer"/> on <paramref name="owner"/> and makes every target a frozen copy of its
    /// online module. Call after the owner's <c>RegisterComponents</c>.
    /// </summary>
    /// <param name="owner">The method whose modules these are.</param>
    /// <param name="baseMomentum">m_base, the momentum at step 0.</param>
    /// <param name="totalSteps">Optimizer steps of the whole run (K of the schedule); 0 keeps the momentum constant.</param>
    /// <param name="pairs">Each online module and its target (same architecture).</param>
    /// <exception cref="ArgumentException">A target does not have its online module's parameters.</exception>
    public MomentumTeacher(Module owner, double baseMomentum, long totalSteps, params (Module Online, Module Target)[] pairs)
    {
        this.owner = owner;
        this.pairs = pairs;
        this.baseMomentum = baseMomentum;
        this.totalSteps = totalSteps;
        owner.register_buffer(StepBuffer, zeros(1, dtype: ScalarType.Int64));
        foreach (var (online, target) in pairs) SslHeads.CopyToTarget(online, target);
    }

    /// <summary>Target updates done so far (the k of the momentum schedule).</summary>
    // Looked up by name: moving the owner to a device replaces the buffer tensor.
    public long Steps => owner.get_buffer(StepBuffer)!.item<long>();

    /// <summary>The momentum the next update uses.</summary>
    public double CurrentMomentum => SslHeads.CosineMomentum(baseMomentum, Steps, totalSteps);

    /// <summary>Moves every target towards its online module by the current momentum and counts the update.</summary>
    public void Update()
    {
        double m = CurrentMomentum;
        foreach (var (online, target) in pairs) SslHeads.Ema(online, target, m);
        using var _ = no_grad();
        owner.get_buffer(StepBuffer)!.add_(Scalars.One, Scalars.One);
    }
}
