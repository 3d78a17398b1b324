namespace Deri.IO;

/// <summary>
/// An output file or folder the user named cannot be used: it exists and holds something Deri will not replace (nothing
/// a user made is overwritten), it is a file where a folder is needed, or it cannot be written. The message names the
/// path and says what to do (choose another <c>--out</c>, remove it, pass <c>--overwrite</c>).
/// </summary>
public sealed class OutputPathException : InputException
{
    /// <summary>Creates the exception with its complete, user-facing message (naming the path).</summary>
    public OutputPathException(string message) : base(message) { }

    /// <summary>Creates the exception with its complete, user-facing message and the exception that revealed the problem.</summary>
    public OutputPathException(string message, Exception? inner) : base(message, inner) { }
}
