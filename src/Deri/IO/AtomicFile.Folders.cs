using System.Globalization;

namespace Deri.IO;

/// <summary>What <see cref="AtomicFile"/> does when the target folder exists and is not empty (an empty one is always replaced).</summary>
public enum ExistingFolder
{
    /// <summary>Throw <see cref="FolderExistsException"/>; the folder is left as it is.</summary>
    Refuse,

    /// <summary>Rename the old folder to <c>NAME.old-YYYYMMDD-HHMMSS</c> (a numeric suffix when that exists too); nothing is deleted.</summary>
    MoveAside,

    /// <summary>Delete the old folder once the new one is in place (for folders that are cheap to remake, e.g. an index).</summary>
    Replace,
}

/// <summary>The target folder exists, is not empty, and <see cref="ExistingFolder.Refuse"/> was asked for.</summary>
public class FolderExistsException(string message) : InputException(message);

/// <summary>
/// The one way this project writes a folder that a user keeps: readers see the old folder or the complete new one,
/// never a half-written one. The content is written into a temporary folder beside the target (same file system, so
/// the final rename is one step) and moved into place by <see cref="MoveFolderIntoPlace"/> under an
/// <see cref="ExistingFolder"/> policy. If writing fails the temporary folder is deleted and the target is untouched.
/// </summary>
/// <remarks>
/// Temporary folders are named as <see cref="AtomicFile"/>'s temporary files, <c>.NAME.PID.GUID.tmp</c>, so that
/// <see cref="IsTemporary"/> recognises what a killed process left behind. (This part of <see cref="AtomicFile"/> writes
/// folders; the other, <c>AtomicFile.cs</c>, files: one helper for every writer.)
/// </remarks>
public static partial class AtomicFile
{
    /// <summary>
    /// Writes the folder <paramref name="target"/>: <paramref name="write"/> fills the (existing, empty) temporary folder
    /// whose path it receives, which then replaces <paramref name="target"/> as <paramref name="existing"/> says.
    /// </summary>
    /// <returns>Where an old folder was moved (<see cref="ExistingFolder.MoveAside"/>), else null.</returns>
    /// <exception cref="FolderExistsException">The target is not empty and the policy is <see cref="ExistingFolder.Refuse"/>.</exception>
    /// <exception cref="IOException">The target is a file, or a rename fails; the message names the target.</exception>
    public static string? WriteFolder(string target, ExistingFolder existing, Action<string> write, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(write);
        string full = FolderPath(target);
        if (File.Exists(full)) throw new OutputPathException($"{full}: is a file, not a folder");
        string temp = TemporaryPathFor(full);
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            return MoveFolderIntoPlace(temp, full, existing, log);
        }
        finally
        {
            TryDeleteFolder(temp);
        }
    }

    /// <summary>
    /// Renames the finished folder <paramref name="finished"/> (on the same file system) to <paramref name="target"/>,
    /// treating an existing non-empty target as <paramref name="existing"/> says. The target name only ever holds a
    /// complete folder: with <see cref="ExistingFolder.Replace"/> the old one goes to a temporary name first and is
    /// deleted after, and is moved back if the second rename fails.
    /// </summary>
    /// <returns>Where an old folder was moved (<see cref="ExistingFolder.MoveAside"/>), else null.</returns>
    public static string? MoveFolderIntoPlace(string finished, string target, ExistingFolder existing, Action<string>? log = null)
    {
        string full = FolderPath(target);
        if (File.Exists(full)) throw new OutputPathException($"{full}: is a file, not a folder");
        string? aside = null;
        if (Directory.Exists(full))
        {
            if (!Directory.EnumerateFileSystemEntries(full).Any()) Directory.Delete(full);
            else if (existing == ExistingFolder.Refuse) throw new FolderExistsException($"{full}: folder exists and is not empty");
            else if (existing == ExistingFolder.MoveAside) aside = MoveFolderAside(full, log);
            else
            {
                string old = TemporaryPathFor(full);
                Directory.Move(full, old);
                try
                {
                    Directory.Move(finished, full);
                }
                catch
                {
                    Directory.Move(old, full);
                    throw;
                }
                TryDeleteFolder(old);
                return null;
            }
        }
        Directory.Move(finished, full);
        return aside;
    }

    /// <summary>
    /// Renames the folder <paramref name="folder"/> to <c>FOLDER.old-YYYYMMDD-HHMMSS</c> (local time; <c>-2</c>, <c>-3</c>, …
    /// appended when that exists too) and logs the move. Nothing is deleted.
    /// </summary>
    /// <returns>The new path of the old folder.</returns>
    public static string MoveFolderAside(string folder, Action<string>? log = null)
    {
        string full = FolderPath(folder);
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string aside = $"{full}.old-{stamp}";
        for (int n = 2; Directory.Exists(aside) || File.Exists(aside); n++) aside = $"{full}.old-{stamp}-{n}";
        Directory.Move(full, aside);
        log?.Invoke($"moved the existing folder {full} aside to {aside}");
        return aside;
    }

    private static string FolderPath(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));

    private static void TryDeleteFolder(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // The original failure (or the finished move) matters more; a leftover is recognisable by IsTemporary.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
