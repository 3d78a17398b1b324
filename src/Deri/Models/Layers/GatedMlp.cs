using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Deri.Models.Layers;

/// <summary>Gated MLP <c>fc2(SiLU(drop(fc1 x)) ⊙ drop(fc3 x))</c> (METHOD §2.7).</summary>
public sealed class GatedMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1, fc2, fc3;
    private readonly double dropout;

    /// <summary><paramref name="input"/> → <paramref name="hidden"/> → <paramref name="output"/>, dropout <paramref name="dropout"/> in training.</summary>
    public GatedMlp(string name, long input, long hidden, long output, double dropout = 0) : base(name)
    {
        fc1 = Linear(input, hidden);
        fc2 = Linear(hidden, output);
        fc3 = Linear(input, hidden);
        this.dropout = dropout;
        RegisterComponents();
    }

    /// <summary>x: (…, input) → (…, output).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(Gate(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// mean over dimension 1 of <see cref="forward"/>: x (B, n, input) → (B, output). fc2 is affine, so
    /// the mean is taken before it and fc2 runs once per record instead of once per token.
    /// </summary>
    public Tensor ForwardMean(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc2.forward(Gate(x).mean([1])).MoveToOuterDisposeScope();
    }

    // SiLU(drop(fc1 x)) ⊙ drop(fc3 x): (…, input) → (…, hidden).
    private Tensor Gate(Tensor x)
    {
        Tensor a = fc1.forward(x), g = fc3.forward(x);
        if (dropout > 0 && training)
        {
            a = functional.dropout(a, dropout, true);
            g = functional.dropout(g, dropout, true);
        }
        return functional.silu(a).mul_(g);
    }
}
