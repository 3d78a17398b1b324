namespace Deri.Tests.Signals;

/// <summary>A temporary folder for hand-made record files, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    /// <summary>Creates an empty folder under the system temp folder.</summary>
    public TempDir() => Directory.CreateDirectory(Path);

    /// <summary>The folder.</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "deri-signals-" + Guid.NewGuid().ToString("N"));

    /// <summary>A path inside the folder.</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a text file and returns its path.</summary>
    public string Text(string name, string text)
    {
        File.WriteAllText(this[name], text);
        return this[name];
    }

    /// <summary>Writes a binary file and returns its path.</summary>
    public string Bytes(string name, byte[] bytes)
    {
        File.WriteAllBytes(this[name], bytes);
        return this[name];
    }

    /// <summary>Copies a file from the shared data into the folder and returns the copy's path.</summary>
    public string Copy(string source, string? name = null)
    {
        string dst = this[name ?? System.IO.Path.GetFileName(source)];
        File.Copy(source, dst);
        File.SetAttributes(dst, FileAttributes.Normal);
        return dst;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}

/// <summary>Committed fixtures under <c>tests/Deri.Tests/Fixtures</c> (see <see cref="TestFixtures"/>).</summary>
public static class SignalFixtures
{
    /// <summary>Path of a fixture file, e.g. <c>Signals/cpsc2018_reference.json</c>.</summary>
    public static string File(string relative)
    {
        string path = Path.Combine(TestFixtures.Root, relative);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"fixture {path} not found", path);
    }
}

/// <summary>Paths under the shared data folder (<see cref="SharedData.Data"/>).</summary>
public static class SignalData
{
    /// <summary>A path under <c>shared/data</c>, e.g. <c>File("wfdb-samples", "100")</c>.</summary>
    public static string File(params string[] parts) => Path.Combine([SharedData.Data, .. parts]);
}
