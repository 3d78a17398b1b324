namespace Deri.Tests.Text;

/// <summary>Locates the committed text fixtures and makes scratch folders.</summary>
internal static class TextFixtures
{
    public static string Dir => TestFixtures.Dir("text");

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
