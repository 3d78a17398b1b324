namespace Deri.Training;

/// <summary>
/// Writes files so that readers see either the old file or the complete new one, never a partial
/// file: the content goes to a temporary file in the same folder (same file system, so the rename is
/// atomic), is flushed to disk, and is then renamed over the target. On failure the temporary file is
/// deleted and the target is left as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>Prefix of the temporary files; they never outlive a write.</summary>
    public const string TempPrefix = ".tmp-";

    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, atomically.</summary>
    /// <exception cref="IOException">The folder cannot be written; the message names the file.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $"{TempPrefix}{Path.GetFileName(full)}-{Guid.NewGuid():N}");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            if (e is IOException or UnauthorizedAccessException)
                throw new IOException($"{full}: cannot write: {e.Message}", e);
            throw;
        }
    }

    /// <summary>Writes all of <paramref name="text"/> (UTF-8, no BOM) to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        byte[] bytes = new System.Text.UTF8Encoding(false).GetBytes(text);
        Write(path, s => s.Write(bytes));
    }

    /// <summary>Atomically replaces <paramref name="destination"/> with a copy of <paramref name="source"/>.</summary>
    public static void Copy(string source, string destination)
    {
        Write(destination, s =>
        {
            using var input = File.OpenRead(source);
            input.CopyTo(s);
        });
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original exception matters more; a leftover temp file is recognisable by its prefix.
        }
    }
}
