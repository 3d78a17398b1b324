using System.Collections.Concurrent;

namespace Deri.Serving;

/// <summary>
/// The private temporary folders (<c>deri-upload-*</c> in the temp directory) that uploaded records are written to for the
/// path-based readers. Each is deleted when its request ends; <see cref="DeleteAll"/> removes those of requests still
/// running when the service stops, and <see cref="RemoveStale"/> (at start) those a killed process left behind.
/// </summary>
public static class UploadFolders
{
    /// <summary>The folder name prefix.</summary>
    public const string Prefix = "deri-upload-";

    private static readonly ConcurrentDictionary<string, byte> Live = new(StringComparer.Ordinal);

    /// <summary>Folders of this process not yet deleted.</summary>
    public static int LiveCount => Live.Count;

    /// <summary>Makes a fresh private folder (mode 700 on Unix) and records it as in use.</summary>
    public static string Create()
    {
        string dir = Directory.CreateTempSubdirectory(Prefix).FullName;
        Live[dir] = 0;
        return dir;
    }

    /// <summary>Deletes <paramref name="dir"/> and everything in it; a folder already gone is fine.</summary>
    public static void Delete(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for RemoveStale at the next start; the request's answer does not depend on it.
            return;
        }
        Live.TryRemove(dir, out _);
    }

    /// <summary>Deletes every folder this process made and has not deleted yet (service shutdown).</summary>
    public static void DeleteAll()
    {
        foreach (string dir in Live.Keys.ToList()) Delete(dir);
    }

    /// <summary>
    /// Deletes <c>deri-upload-*</c> folders in <paramref name="tempDir"/> (default: the temp directory) last written more than
    /// <paramref name="olderThan"/> ago and not in use by this process: what a killed server left behind. Another running
    /// server's folders live for one request (seconds), so an age of minutes never touches them.
    /// </summary>
    /// <returns>The number of folders deleted.</returns>
    public static int RemoveStale(TimeSpan olderThan, string? tempDir = null)
    {
        tempDir ??= Path.GetTempPath();
        if (!Directory.Exists(tempDir)) return 0;
        int removed = 0;
        DateTime cutoff = DateTime.UtcNow - olderThan;
        foreach (string dir in Directory.EnumerateDirectories(tempDir, Prefix + "*"))
        {
            if (Live.ContainsKey(dir)) continue;
            try
            {
                var info = new DirectoryInfo(dir);
                if (info.LinkTarget is not null || info.LastWriteTimeUtc > cutoff) continue;
                Directory.Delete(dir, recursive: true);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's folder or one being deleted by someone else: not ours to force.
            }
        }
        return removed;
    }
}
