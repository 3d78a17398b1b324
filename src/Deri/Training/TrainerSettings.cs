using Deri.Config;

namespace Deri.Training;

/// <summary>
/// What <see cref="Trainer{TBatch}"/> reads: the <c>trainer</c> and <c>optimizer</c> sections, and the
/// resolved config of the whole run as YAML, recorded verbatim in <c>config.yaml</c> and in every checkpoint.
/// </summary>
/// <param name="Trainer">The training loop settings.</param>
/// <param name="Optimizer">AdamW and the learning-rate schedule.</param>
/// <param name="ConfigYaml">The run's own config (pretraining or report generation), as the user can reload it.</param>
public sealed record TrainerSettings(TrainerConfig Trainer, OptimizerConfig Optimizer, string ConfigYaml)
{
    /// <summary>The settings of a pretraining run: its trainer and optimizer sections, and the whole config recorded.</summary>
    public static TrainerSettings For(DeriConfig config) => new(config.Trainer, config.Optimizer, config.ToYaml());
}
