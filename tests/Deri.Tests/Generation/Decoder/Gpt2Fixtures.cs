namespace Deri.Tests.Generation.Decoder;

/// <summary>Locates the committed GPT-2 fixtures.</summary>
internal static class Gpt2Fixtures
{
    public static string Dir
    {
        get
        {
            var local = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2");
            if (Directory.Exists(local)) return local;
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "tests", "Deri.Tests", "Fixtures", "gpt2");
                if (Directory.Exists(candidate)) return candidate;
            }
            throw new DirectoryNotFoundException("tests/Deri.Tests/Fixtures/gpt2 not found above " + AppContext.BaseDirectory);
        }
    }

    public static string File(string name) => Path.Combine(Dir, name);
}
