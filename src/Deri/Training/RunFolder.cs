using Deri.IO;

namespace Deri.Training;

/// <summary>A run folder that exists and is not empty, while neither resuming nor overwriting was asked for.</summary>
public sealed class RunFolderExistsException(string message) : FolderExistsException(message);

/// <summary>
/// Guards run folders against being overwritten: a command that writes a run into a folder holding an
/// earlier run must either resume it or be told to move it aside. Nothing is ever deleted.
/// </summary>
public static class RunFolder
{
    /// <summary>
    /// Makes <paramref name="directory"/> ready for a run. A missing or empty folder is used as it is; so is a
    /// non-empty one when <paramref name="resuming"/>. Otherwise, with <paramref name="overwrite"/>, the old run is
    /// renamed to <c>DIR.old-YYYYMMDD-HHMMSS</c> (<see cref="AtomicFile.MoveFolderAside"/>) and the move is logged;
    /// without it, <see cref="RunFolderExistsException"/> says what to do.
    /// </summary>
    /// <returns>Where the old run went, or null when nothing was moved.</returns>
    /// <exception cref="RunFolderExistsException">The folder holds files and neither resuming nor overwriting.</exception>
    public static string? Prepare(string directory, bool resuming, bool overwrite, Action<string>? log = null)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (File.Exists(full)) throw new OutputPathException($"{full}: is a file, not a run folder");
        if (!Directory.Exists(full) || !Directory.EnumerateFileSystemEntries(full).Any() || resuming) return null;
        if (!overwrite)
            throw new RunFolderExistsException(
                $"{full} already holds a run; continue it with --resume auto, or pass --overwrite to move it aside (nothing is deleted)");
        string aside = AtomicFile.MoveFolderAside(full);
        log?.Invoke($"moved the existing run {full} aside to {aside}");
        return aside;
    }
}
