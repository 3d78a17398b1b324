using System.Runtime.InteropServices;

namespace Deri.Signals;

/// <summary>
/// Checks that a path is a regular file before a reader opens it. Opening a FIFO blocks until a writer appears and
/// opening a directory fails with a misleading "access denied", so the file type is read from the file system
/// (<c>stat</c>) first and anything but a regular file is refused with a message that says what it is.
/// </summary>
internal static partial class RegularFile
{
    // File type bits of the runtime's own stat shim (System.Native), the same on every Unix and architecture.
    private const int TypeMask = 0xF000, Fifo = 0x1000, CharDevice = 0x2000, Directory = 0x4000, BlockDevice = 0x6000,
        Regular = 0x8000, Socket = 0xC000;

    /// <summary>
    /// The length of <paramref name="path"/> after checking that it exists and is a regular file (symbolic links are followed).
    /// <paramref name="what"/> names the file in messages (<c>signal file</c>), <paramref name="context"/> is appended to them.
    /// </summary>
    /// <exception cref="EcgFormatException">The file is missing or not a regular file.</exception>
    public static long Length(string path, string what, string context = "")
    {
        if (System.IO.Directory.Exists(path)) throw new EcgFormatException(path, $"{what} is a directory, not a file{context}");
        var info = new FileInfo(path);
        if (!info.Exists) throw new EcgFormatException(path, $"{what} not found{context}");
        if (!OperatingSystem.IsWindows() && UnixFileType(path) is int type && type != Regular)
        {
            string kind = type switch
            {
                Fifo => "a FIFO (named pipe)",
                CharDevice => "a character device",
                BlockDevice => "a block device",
                Socket => "a socket",
                _ => $"not a regular file (type 0x{type:X4})",
            };
            throw new EcgFormatException(path, $"{what} is {kind}, not a regular file{context}");
        }
        return info.Length;
    }

    /// <summary>The <c>S_IFMT</c> bits of <c>stat(path)</c>, or null when the call fails (the caller's open then reports why).</summary>
    private static int? UnixFileType(string path)
    {
        var status = default(FileStatus);
        try
        {
            return Stat(path, ref status) == 0 ? status.Mode & TypeMask : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A runtime without the shim: Directory.Exists and the later open still catch directories and missing files.
            return null;
        }
    }

    /// <summary>
    /// The leading fields of the runtime's <c>FileStatus</c> (flags, mode, …); the struct is padded well past its real size
    /// so that a runtime that appends fields never writes beyond it.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 512)]
    private struct FileStatus
    {
        [FieldOffset(4)] public int Mode;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, ref FileStatus status);
}
