using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

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

/// <summary>Picks the progress display for the console.</summary>
public static class TrainingProgress
{
    /// <summary>
    /// A Spectre.Console progress bar when standard output is an interactive terminal, otherwise
    /// (CI, redirected output, tests) plain lines every <paramref name="everySteps"/> steps.
    /// </summary>
    public static ITrainingProgress ForConsole(int everySteps)
    {
        bool interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
            && AnsiConsole.Profile.Capabilities.Ansi;
        return interactive ? new SpectreProgress() : new PlainProgress(Console.Out, everySteps);
    }
}

/// <summary>Plain text progress: one line every N steps and at the last step; messages as they come.</summary>
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

/// <summary>A live Spectre.Console progress bar with loss, samples/s and remaining time.</summary>
/// <param name="console">Where to draw; the process console when null.</param>
public sealed class SpectreProgress(IAnsiConsole? console = null) : ITrainingProgress
{
    private readonly IAnsiConsole _console = console ?? AnsiConsole.Console;

    /// <inheritdoc />
    public void Run(string title, long totalSteps, long doneSteps, Action<IProgressSink> body)
    {
        _console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, totalSteps));
                task.Value = doneSteps;
                body(new Sink(task, _console));
            });
    }

    private sealed class Sink(ProgressTask task, IAnsiConsole console) : IProgressSink
    {
        private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();

        public void Report(ProgressUpdate u)
        {
            task.Value = u.Step;
            // Redrawing the description on every step costs more than a tiny step; 4 Hz is enough to read.
            if (_sinceRedraw.ElapsedMilliseconds < 250 && u.Step != u.TotalSteps) return;
            _sinceRedraw.Restart();
            string eta = u.Eta is { } t ? ProgressUpdate.FormatSpan(t) : "--:--:--";
            task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"epoch {u.Epoch + 1}/{u.Epochs} loss {u.Loss:F4} {u.SamplesPerSecond:F0} samples/s ETA {eta}"));
        }

        public void Message(string line) => console.MarkupLine(Markup.Escape(line));
    }
}
