namespace Deri.Tests;

/// <summary>
/// Locates the read-only shared data folder (<c>shared/data</c>): <c>DERI_SHARED</c> when set, otherwise the first
/// ancestor of the test binary's folder that contains <c>shared/data</c> (worktrees under <c>/work/wt/</c> find
/// <c>/work/shared</c> this way).
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> RootPath = new(Find);

    /// <summary>The <c>shared</c> folder.</summary>
    public static string Root => RootPath.Value;

    /// <summary>The <c>shared/data</c> folder.</summary>
    public static string Data => Path.Combine(Root, "data");

    private static string Find()
    {
        string? env = Environment.GetEnvironmentVariable("DERI_SHARED");
        if (!string.IsNullOrEmpty(env))
        {
            if (Directory.Exists(Path.Combine(env, "data"))) return Path.GetFullPath(env);
            throw new DirectoryNotFoundException($"DERI_SHARED={env} has no 'data' folder");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "data"))) return candidate;
        }
        throw new DirectoryNotFoundException($"no folder 'shared/data' above {AppContext.BaseDirectory}; set DERI_SHARED");
    }
}
