using System.Text;

namespace Deri.IO;

/// <summary>
/// The one way this project writes a file that a user keeps: readers see either the old file or the
/// complete new one, never a partial file. The content goes to a uniquely named temporary file in the
/// target's folder (same file system, so the final rename is atomic), is flushed to disk, and is then
/// renamed over the target. If writing fails for any reason the temporary file is deleted and the
/// target is left exactly as it was.
/// </summary>
/// <remarks>
/// Temporary names are <c>.NAME.PID.GUID.tmp</c>: hidden, unique per process and per call (two writers
/// of the same target never share a temporary file), and recognisable by <see cref="IsTemporary"/> if a
/// killed process leaves one behind.
/// </remarks>
public static partial class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(false);

    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>, atomically; creates the folder.</summary>
    /// <exception cref="IOException">The folder cannot be written or the rename fails; the message names the target.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteVia(path, temp =>
        {
            using var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
            write(fs);
            fs.Flush(flushToDisk: true);
        });
    }

    /// <summary>
    /// Atomic write for APIs that insist on writing a path themselves (image encoders, tokenizer savers):
    /// <paramref name="writeTemp"/> receives the temporary path to create, which is then renamed over
    /// <paramref name="path"/>.
    /// </summary>
    /// <exception cref="OutputPathException">The folder cannot be written (the message names the target), nothing was written to the temporary path, or the rename fails.</exception>
    public static void WriteVia(string path, Action<string> writeTemp)
    {
        ArgumentNullException.ThrowIfNull(writeTemp);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? throw new IOException($"{full}: not a file path");
        string temp = TemporaryPathFor(full);
        try
        {
            Directory.CreateDirectory(dir);
            writeTemp(temp);
            if (!File.Exists(temp)) throw new IOException($"{full}: the writer produced no file");
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e)
        {
            TryDelete(temp);
            bool namesTarget = e.Message.StartsWith(full, StringComparison.Ordinal);
            if (e is IOException or UnauthorizedAccessException && !namesTarget)
                throw new OutputPathException($"{full}: cannot write: {e.Message}", e);
            throw;
        }
    }

    /// <summary>Writes all of <paramref name="text"/> (UTF-8, no BOM) to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        byte[] bytes = Utf8NoBom.GetBytes(text);
        Write(path, s => s.Write(bytes));
    }

    /// <summary>Writes <paramref name="lines"/>, each followed by <c>\n</c> (UTF-8, no BOM), to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllLines(string path, IEnumerable<string> lines)
    {
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, Utf8NoBom, 1 << 16, leaveOpen: true) { NewLine = "\n" };
            foreach (string line in lines) writer.WriteLine(line);
        });
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/>, atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlyMemory<byte> bytes) => Write(path, s => s.Write(bytes.Span));

    /// <summary>Atomically replaces <paramref name="destination"/> with a copy of <paramref name="source"/>.</summary>
    public static void Copy(string source, string destination)
    {
        Write(destination, s =>
        {
            using var input = File.OpenRead(source);
            input.CopyTo(s);
        });
    }

    /// <summary>
    /// Whether <paramref name="fileName"/> is a temporary file or folder name of this class (files or folders)
    /// (left over only by a killed process).
    /// </summary>
    public static bool IsTemporary(string fileName)
    {
        string name = Path.GetFileName(fileName);
        return name.StartsWith('.') && name.EndsWith(".tmp", StringComparison.Ordinal) && name.Count(c => c == '.') >= 4;
    }

    /// <summary>A new temporary path beside <paramref name="path"/> (a file or a folder): <c>.NAME.PID.GUID.tmp</c>, unique per process and call.</summary>
    public static string TemporaryPathFor(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path)) File.Delete(path);
        }
        catch (IOException)
        {
            // The original failure matters more; a leftover is recognisable by IsTemporary.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
