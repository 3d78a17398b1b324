using System.Globalization;

namespace Deri.Training;

/// <summary>Where training stands after a step, for progress display.</summary>
/// <param name="Epoch">Current epoch (0-based).</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">Global steps done.</param>
/// <param name="TotalSteps">Global steps of the whole run.</param>
/// <param name="Loss">Weighted total loss of the last step.</param>
/// <param name="SamplesPerSecond">Training throughput (recent average).</param>
/// <param name="Eta">Estimated time to the end of training.</param>
public readonly record struct ProgressUpdate(
    int Epoch, int Epochs, long Step, long TotalSteps, double Loss, double SamplesPerSecond, TimeSpan? Eta)
{
    /// <summary>One-line summary: epoch, step, loss, samples/s, ETA.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        double pct = TotalSteps > 0 ? 100.0 * Step / TotalSteps : 100;
        string eta = Eta is { } t ? FormatSpan(t) : "--:--:--";
        return string.Create(inv,
            $"epoch {Epoch + 1}/{Epochs} step {Step}/{TotalSteps} ({pct:F1}%) loss {Loss:F4} {SamplesPerSecond:F1} samples/s ETA {eta}");
    }

    /// <summary>hh:mm:ss, with days when longer than a day.</summary>
    public static string FormatSpan(TimeSpan t) =>
        t.TotalDays >= 1 ? t.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
}

/// <summary>
/// No progress at all: the library's default, because it writes nothing unless its caller passes a sink.
/// </summary>
public sealed class SilentProgress : ITrainingProgress
{
    /// <summary>The one instance (it holds no state).</summary>
    public static SilentProgress Instance { get; } = new();

    private SilentProgress()
    {
    }

    /// <inheritdoc />
    public void Run(string title, long totalSteps, long doneSteps, Action<IProgressSink> body) => body(Sink.Instance);

    private sealed class Sink : IProgressSink
    {
        public static Sink Instance { get; } = new();

        public void Report(ProgressUpdate update)
        {
            // Silent by design: see SilentProgress.
        }

        public void Message(string line)
        {
            // As above.
        }
    }
}

/// <summary>Receives progress from inside a running training loop.</summary>
public interface IProgressSink
{
    /// <summary>Called after every optimizer step.</summary>
    void Report(ProgressUpdate update);

    /// <summary>A message to show now (epoch summaries, checkpoint selection).</summary>
    void Message(string line);
}

/// <summary>Shows training progress; the training loop runs inside <see cref="Run"/>.</summary>
public interface ITrainingProgress
{
    /// <summary>Runs <paramref name="body"/>, giving it a sink for updates.</summary>
    void Run(string title, long totalSteps, long doneSteps, Action<IProgressSink> body);
}

/// <summary>
/// Plain text progress: one line every N steps and at the last step; messages as they come. The CLI uses it on
/// standard error when the output is redirected (CI, logs) and shows a live bar on a terminal instead.
/// </summary>
public sealed class PlainProgress(TextWriter output, int everySteps) : ITrainingProgress
{
    /// <inheritdoc />
    public void Run(string title, long totalSteps, long doneSteps, Action<IProgressSink> body)
    {
        output.WriteLine($"{title}: {totalSteps} steps, {doneSteps} done");
        body(new Sink(output, Math.Max(1, everySteps)));
        output.Flush();
    }

    private sealed class Sink(TextWriter output, int everySteps) : IProgressSink
    {
        public void Report(ProgressUpdate update)
        {
            if (update.Step % everySteps == 0 || update.Step == update.TotalSteps) output.WriteLine(update.ToString());
        }

        public void Message(string line) => output.WriteLine(line);
    }
}
