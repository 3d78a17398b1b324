using System.Diagnostics;
using System.Globalization;
using Deri.Training;
using Spectre.Console;

namespace Deri.Cli.Progress;

/// <summary>Picks the training progress display for the console; progress always goes to standard error.</summary>
public static class ConsoleProgress
{
    /// <summary>
    /// A live Spectre.Console bar when standard error is an interactive terminal, otherwise (CI, redirected
    /// output) plain lines every <paramref name="everySteps"/> steps.
    /// </summary>
    public static ITrainingProgress For(int everySteps)
    {
        if (Console.IsErrorRedirected) return new PlainProgress(Console.Error, everySteps);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        bool interactive = console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;
        return interactive ? new SpectreProgress(console) : new PlainProgress(Console.Error, everySteps);
    }
}

/// <summary>A live Spectre.Console progress bar with loss, samples/s and remaining time.</summary>
/// <param name="console">Where to draw.</param>
public sealed class SpectreProgress(IAnsiConsole console) : ITrainingProgress
{
    /// <inheritdoc />
    public void Run(string title, long totalSteps, long doneSteps, Action<IProgressSink> body)
    {
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, totalSteps));
                task.Value = doneSteps;
                body(new Sink(task, console));
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
