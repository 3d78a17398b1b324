using System.Text;

namespace Deri.Tests.Fuzz;

/// <summary>
/// Runs a reader over many mutated inputs and checks its contract: each input is read or rejected with the reader's
/// own exception type, within a timeout. Inputs that break the contract are written under the test output folder
/// (<c>fuzz-failures/FORMAT/</c>) so they can be added to <c>Fixtures/fuzz-regressions/FORMAT/</c>, and the test fails
/// listing them.
/// </summary>
public static class FuzzHarness
{
    /// <summary>
    /// Multiplies every input count: <c>DERI_FUZZ_SCALE=20</c> runs a deeper search locally (the first inputs are the
    /// same as in CI, so CI failures still replay); 1 in CI.
    /// </summary>
    public static int Scale { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("DERI_FUZZ_SCALE"), out int s) && s > 0 ? s : 1;

    /// <summary>Longest a single read may take; a slower read counts as a hang.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Mutates <paramref name="seeds"/> <paramref name="count"/> times (input <c>i</c> from seed <c>i mod seeds</c>,
    /// randomness from <paramref name="seed"/> and <c>i</c>) and hands each input to <paramref name="read"/>.
    /// </summary>
    /// <param name="format">Format name, for messages and the failure folder.</param>
    /// <param name="seeds">Valid inputs to start from.</param>
    /// <param name="count">Mutated inputs to try.</param>
    /// <param name="seed">Base seed.</param>
    /// <param name="text">Whether the format is text (enables token and line edits).</param>
    /// <param name="read">Reads one input (bytes and its index); must return or throw.</param>
    /// <param name="expected">Whether an exception is the reader's documented error.</param>
    /// <param name="extension">File extension used when a failing input is saved.</param>
    /// <param name="workDir">For multi-file formats (WFDB): the folder <paramref name="read"/> writes the record into; on a
    /// failure its files are saved together (a sub-folder per input) instead of the input alone.</param>
    public static void Run(string format, IReadOnlyList<byte[]> seeds, int count, int seed, bool text, Action<byte[], int> read,
        Func<Exception, bool> expected, string extension, string? workDir = null)
    {
        var failures = new List<string>();
        count *= Scale;
        for (int i = 0; i < count && failures.Count < 5; i++)
        {
            // Not HashCode.Combine: its seed differs per process, and the inputs must be the same in every run.
            var rng = new Random(unchecked(seed * 1_000_003 + i) & int.MaxValue);
            byte[] input = Mutator.Mutate(seeds[i % seeds.Count], rng, text);
            string? problem = Check(() => read(input, i), expected);
            if (problem is null) continue;
            string saved = Save(format, i, input, extension, workDir);
            failures.Add($"input {i} ({saved}): {problem}");
        }
        Assert.True(failures.Count == 0, $"{format}: {failures.Count} input(s) broke the reader's contract:\n" + string.Join("\n", failures));
    }

    /// <summary>Runs one read under <see cref="ReadTimeout"/>; null when it read or failed as documented, else what went wrong.</summary>
    public static string? Check(Action read, Func<Exception, bool> expected)
    {
        var task = Task.Run(read);
        try
        {
            if (!task.Wait(ReadTimeout)) return $"no result after {ReadTimeout.TotalSeconds} s (hang)";
            return null;
        }
        catch (AggregateException ae) when (ae.InnerException is { } e)
        {
            return expected(e) ? null : $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}";
        }
    }

    private static string Save(string format, int index, byte[] input, string extension, string? workDir)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "fuzz-failures", format);
        Directory.CreateDirectory(dir);
        if (workDir is not null)
        {
            string caseDir = Path.Combine(dir, $"input-{index:00000}");
            Directory.CreateDirectory(caseDir);
            foreach (string f in Directory.GetFiles(workDir)) File.Copy(f, Path.Combine(caseDir, Path.GetFileName(f)), overwrite: true);
            return caseDir;
        }
        string path = Path.Combine(dir, $"input-{index:00000}{extension}");
        File.WriteAllBytes(path, input);
        return path;
    }

    /// <summary>UTF-8 bytes of a string.</summary>
    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
