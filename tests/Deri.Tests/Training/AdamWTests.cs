using System.Text.Json;
using Deri.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Training;

/// <summary>
/// Deri's <see cref="AdamW"/> (owned Scalars) against a trajectory of <c>torch.optim.AdamW</c> in float64
/// (<c>tools/training/adamw_reference.py</c>): six steps with a learning rate changed before each, and one parameter
/// without a gradient on the third step.
/// </summary>
public sealed class AdamWTests
{
    private sealed record Trajectory(double[] Betas, double Eps, double Weight_decay, double[] Lrs, int[][] Shapes,
        double[][] Initial, double[]?[][] Grads, double[][][] After);

    [Fact]
    public void FollowsPyTorchsTrajectory()
    {
        string path = Path.Combine(TestFixtures.Dir("Training"), "adamw_trajectory.json");
        var t = JsonSerializer.Deserialize<Trajectory>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        var parameters = t.Shapes.Select((s, i) => new TorchSharp.Modules.Parameter(tensor(t.Initial[i], s.Select(x => (long)x).ToArray(), ScalarType.Float64))).ToList();
        using var optimizer = new AdamW(parameters, t.Lrs[0], t.Betas[0], t.Betas[1], t.Eps, t.Weight_decay);
        for (int step = 0; step < t.Lrs.Length; step++)
        {
            foreach (var g in optimizer.ParamGroups) g.LearningRate = t.Lrs[step];
            for (int i = 0; i < parameters.Count; i++)
                parameters[i].grad = t.Grads[step][i] is { } grad ? tensor(grad, parameters[i].shape, ScalarType.Float64) : null;
            optimizer.step();
            for (int i = 0; i < parameters.Count; i++)
            {
                double[] actual = parameters[i].data<double>().ToArray();
                for (int k = 0; k < actual.Length; k++)
                    Assert.True(Math.Abs(actual[k] - t.After[step][i][k]) <= 1e-14 * Math.Max(1, Math.Abs(t.After[step][i][k])),
                        $"step {step + 1}, parameter {i}, element {k}: {actual[k]:R} vs PyTorch {t.After[step][i][k]:R}");
            }
        }
    }

    [Fact]
    public void RefusesWhatItDoesNotImplement()
    {
        var p = new TorchSharp.Modules.Parameter(zeros(2, dtype: ScalarType.Float64));
        using var optimizer = new AdamW([p]);
        foreach (var g in optimizer.ParamGroups) ((TorchSharp.Modules.AdamW.Options)((TorchSharp.Modules.AdamW.ParamGroup)g).Options).amsgrad = true;
        p.grad = ones(2, dtype: ScalarType.Float64);
        Assert.Throws<NotSupportedException>(() => optimizer.step());
    }
}
