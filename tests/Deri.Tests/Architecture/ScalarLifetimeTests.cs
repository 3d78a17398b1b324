using System.Reflection;
using TorchSharp;
using Xunit.Abstractions;

namespace Deri.Tests.Architecture;

/// <summary>
/// Guards the rule of <see cref="ScalarLifetimeAnalysis"/>: no Deri assembly makes a TorchSharp Scalar that nothing owns.
/// </summary>
public sealed class ScalarLifetimeTests(ITestOutputHelper output)
{
    private static readonly Assembly[] DeriAssemblies =
    [
        typeof(Deri.Runtime.DeviceSettings).Assembly,
        typeof(Deri.Cli.Program).Assembly,
        typeof(Deri.Server.DeriServer).Assembly,
    ];

    [Fact]
    public void NoDeriCodeMakesAnUnownedScalar()
    {
        var violations = ScalarLifetimeAnalysis.Check(DeriAssemblies);
        foreach (var v in violations) output.WriteLine(v.ToString());
        Assert.True(violations.Count == 0,
            $"{violations.Count} places make a TorchSharp Scalar that nothing owns (see Deri.Runtime.Scalars):\n" +
            string.Join("\n", violations.Take(60)));
    }

    [Fact]
    public void TheAnalysisKnowsTorchSharpsOwnUnsafeMethods()
    {
        // The checker must be able to fail: these TorchSharp 0.107 methods convert a number internally.
        var names = ScalarLifetimeAnalysis.UnsafeTorchSharpMethods
            .Select(m => $"{m.DeclaringType?.Name}::{m.Name}({string.Join(",", m.GetParameters().Select(p => p.ParameterType.Name))})")
            .ToHashSet();
        Assert.Contains("Tensor::add(Tensor)", names);
        Assert.Contains("Tensor::op_Addition(Tensor,Tensor)", names);
        Assert.Contains("AdamW::step(Func`1)", names);
        Assert.Contains("BatchNorm::forward(Tensor)", names);
        Assert.DoesNotContain("Tensor::add(Tensor,Scalar)", names);
    }

    [Fact]
    public void TheAnalysisFindsAnImplicitConversionInCompiledCode()
    {
        var violations = ScalarLifetimeAnalysis.Check([typeof(Offender).Assembly])
            .Where(v => v.Method.Contains(nameof(Offender), StringComparison.Ordinal)).ToList();
        Assert.Contains(violations, v => v.Method.EndsWith("::Implicit", StringComparison.Ordinal) && v.Callee.StartsWith("Scalar::op_Implicit", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Method.EndsWith("::Operator", StringComparison.Ordinal) && v.Callee.StartsWith("Tensor::op_Addition", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Method.EndsWith("::Undisposed", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Method.EndsWith("::InheritedForward", StringComparison.Ordinal) && v.Callee.StartsWith("nn::BatchNorm1d", StringComparison.Ordinal));
        Assert.DoesNotContain(violations, v => v.Method.EndsWith("::Owned", StringComparison.Ordinal));
    }

    /// <summary>Code the analysis must flag (and one method it must not).</summary>
    private static class Offender
    {
        public static torch.Tensor Implicit(torch.Tensor t) => t.mul(2.0);

        public static torch.Tensor Operator(torch.Tensor a, torch.Tensor b) => a + b;

        public static torch.Tensor Undisposed(torch.Tensor t) => t.mul(2.0.ToScalar());

        // BatchNorm1d inherits BatchNorm.forward, whose batch counter is an implicit add_(1).
        public static torch.nn.Module<torch.Tensor, torch.Tensor> InheritedForward() => torch.nn.BatchNorm1d(4);

        public static torch.Tensor Owned(torch.Tensor t)
        {
            using var two = 2.0.ToScalar();
            return t.mul(two);
        }
    }
}
