using Deri.IO;

namespace Deri.Training;

/// <summary>
/// PyTorch's <c>CosineAnnealingWarmRestarts</c> stepped once per batch, reproduced operation by
/// operation so the learning rates are bitwise the same:
/// <c>lr = eta_min + (base_lr − eta_min) · (1 + cos(π · T_cur / T_i)) / 2</c>, where <c>T_cur</c>
/// counts batches since the last restart and <c>T_i</c> (first <c>T_0</c>) is multiplied by
/// <c>T_mult</c> at each restart. Its whole state is three integers, saved in checkpoints.
/// </summary>
public sealed class CosineWarmRestarts
{
    /// <summary>Creates the schedule at step 0 (the state PyTorch's constructor leaves).</summary>
    /// <exception cref="ArgumentOutOfRangeException">T_0 or T_mult below 1, or eta_min negative.</exception>
    public CosineWarmRestarts(double baseLr, int t0, int tMult = 1, double etaMin = 0.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(t0, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tMult, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(etaMin);
        BaseLr = baseLr;
        T0 = t0;
        TMult = tMult;
        EtaMin = etaMin;
        TI = t0;
    }

    /// <summary>The peak learning rate.</summary>
    public double BaseLr { get; }

    /// <summary>Batches in the first cycle.</summary>
    public int T0 { get; }

    /// <summary>Cycle length multiplier.</summary>
    public int TMult { get; }

    /// <summary>Learning-rate floor.</summary>
    public double EtaMin { get; }

    /// <summary>Batches since the last restart.</summary>
    public long TCur { get; private set; }

    /// <summary>Length of the current cycle.</summary>
    public long TI { get; private set; }

    /// <summary>Number of <see cref="Step"/> calls so far (PyTorch's <c>last_epoch</c>).</summary>
    public long StepCount { get; private set; }

    /// <summary>The learning rate for the next optimizer step.</summary>
    public double LearningRate => EtaMin + (BaseLr - EtaMin) * (1 + Math.Cos(Math.PI * TCur / TI)) / 2;

    /// <summary>Advances one batch; call after each optimizer step.</summary>
    public void Step()
    {
        StepCount++;
        TCur++;
        if (TCur >= TI)
        {
            TCur -= TI;
            TI *= TMult;
        }
    }

    /// <summary>The state to save: (step count, T_cur, T_i).</summary>
    public (long StepCount, long TCur, long TI) State => (StepCount, TCur, TI);

    /// <summary>Restores a state saved with <see cref="State"/>.</summary>
    /// <exception cref="ArgumentException">The state is impossible for this schedule.</exception>
    public void Restore((long StepCount, long TCur, long TI) state)
    {
        if (state.StepCount < 0 || state.TI < T0 || state.TCur < 0 || state.TCur >= state.TI)
            throw new InputFormatException($"scheduler state (step {state.StepCount}, T_cur {state.TCur}, T_i {state.TI}) does not fit T_0 = {T0}");
        (StepCount, TCur, TI) = state;
    }
}
