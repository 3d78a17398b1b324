namespace Deri.IO;

/// <summary>
/// A file or folder that the user named (on the command line, in a config, in a run folder's metadata) does not exist.
/// The message names it; <see cref="FilePath"/> holds it where the thrower knows it apart from the message.
/// </summary>
public sealed class InputFileNotFoundException : InputException
{
    /// <summary>Creates the exception with its complete, user-facing message (naming the file or folder).</summary>
    public InputFileNotFoundException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and the missing path.</summary>
    public InputFileNotFoundException(string message, string? path) : base(message) => FilePath = path;

    /// <summary>The missing file or folder, when known apart from the message.</summary>
    public string? FilePath { get; }
}
