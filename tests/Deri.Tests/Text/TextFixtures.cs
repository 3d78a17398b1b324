namespace Deri.Tests.Text;

/// <summary>Locates the committed text fixtures and makes scratch folders.</summary>
internal static class TextFixtures
{
    public static string Dir
    {
        get
        {
            var local = Path.Combine(AppContext.BaseDirectory, "Fixtures", "text");
            if (Directory.Exists(local)) return local;
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "tests", "Deri.Tests", "Fixtures", "text");
                if (Directory.Exists(candidate)) return candidate;
            }
            throw new DirectoryNotFoundException("tests/Deri.Tests/Fixtures/text not found above " + AppContext.BaseDirectory);
        }
    }

    public static string File(params string[] parts) => Path.Combine([Dir, .. parts]);
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "deri-text-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
