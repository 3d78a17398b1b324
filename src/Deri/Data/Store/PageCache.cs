using System.Runtime.InteropServices;

namespace Deri.Data.Store;

/// <summary>The operating system's page cache for a store's files (Linux).</summary>
public static class PageCache
{
    private const int POSIX_FADV_DONTNEED = 4;

    /// <summary>
    /// Asks the kernel to drop <paramref name="path"/>'s cached pages (<c>posix_fadvise(POSIX_FADV_DONTNEED)</c>), so that the
    /// next reads come from the disk: how a store larger than memory (MIMIC-IV-ECG at 500 Hz, ~96 GB) is read. Pages that a
    /// process has mapped or that are dirty stay; call it before opening the store.
    /// </summary>
    /// <returns>True when the advice was taken; false where it does not apply (not Linux).</returns>
    /// <exception cref="IOException">The kernel refused the advice.</exception>
    public static bool Evict(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        int fd = (int)handle.DangerousGetHandle();
        int error = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if (error != 0) throw new IOException($"{path}: posix_fadvise(DONTNEED) failed with error {error}");
        return true;
    }

    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int posix_fadvise(int fd, long offset, long length, int advice);
}
