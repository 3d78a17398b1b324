using Deri.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter, decoupled weight decay) exactly as PyTorch's <c>torch.optim.AdamW</c> (single-tensor
/// path, no amsgrad), with every Scalar owned.
/// <para>
/// It derives from TorchSharp's <see cref="TorchSharp.Modules.AdamW"/> for its parameter groups, learning-rate
/// control and state (so checkpoints written with TorchSharp's optimizer load unchanged), and replaces only
/// <see cref="step"/>: TorchSharp's own step turns <c>1 − lr·wd</c>, <c>β</c>, <c>1 − β</c>, <c>ε</c> and the step size
/// into Scalars implicitly, which the garbage collector may finalise during the native call that reads them (see
/// <see cref="Scalars"/>). Here the per-step values are made once per group and disposed after the step, and the
/// per-parameter arithmetic is the same sequence of in-place operations as PyTorch's
/// (<c>tools/training/adamw_reference.py</c> writes a float64 trajectory of <c>torch.optim.AdamW</c> that
/// <c>Training/AdamWTests</c> matches to 1e-14).
/// </para>
/// </summary>
public sealed class AdamW : TorchSharp.Modules.AdamW
{
    /// <summary>Creates the optimizer over one parameter group.</summary>
    /// <param name="parameters">Parameters to optimise.</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="eps">ε.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    public AdamW(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad: false, maximize: false)
    {
    }

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        double lr = o.LearningRate!.Value, beta1 = o.beta1!.Value, beta2 = o.beta2!.Value;
        double eps = o.eps!.Value, weightDecay = o.weight_decay!.Value;
        if (o.amsgrad == true || o.maximize == true)
            throw new NotSupportedException("Deri's AdamW implements neither amsgrad nor maximize");

        // The values shared by every parameter of the group in this step; each is owned and disposed here.
        using var decay = (1 - lr * weightDecay).ToScalar();
        using var b1 = beta1.ToScalar();
        using var oneMinusB1 = (1 - beta1).ToScalar();
        using var b2 = beta2.ToScalar();
        using var oneMinusB2 = (1 - beta2).ToScalar();
        using var epsilon = eps.ToScalar();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;

            // Bias corrections depend on the parameter's own step count, as in PyTorch.
            double bc1 = 1 - Math.Pow(beta1, state.step);
            double bc2 = 1 - Math.Pow(beta2, state.step);
            using var bc2Sqrt = Math.Sqrt(bc2).ToScalar();
            using var negStepSize = (-lr / bc1).ToScalar();

            param.mul_(decay);
            state.exp_avg.mul_(b1).add_(grad, oneMinusB1);
            state.exp_avg_sq.mul_(b2).addcmul_(grad, grad, oneMinusB2);
            // denom = sqrt(v) / sqrt(bc2) + ε; step: p += −(lr / bc1) · m / denom. (B…) shapes of the parameter.
            using var denom = state.exp_avg_sq.sqrt().div_(bc2Sqrt).add_(epsilon, Scalars.One);
            param.addcdiv_(state.exp_avg, denom, negStepSize);
        }
    }, closure);
}
