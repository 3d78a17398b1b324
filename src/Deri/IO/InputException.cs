namespace Deri.IO;

/// <summary>
/// Input that Deri cannot use: a file (or a value in it) that is wrong, or a value the user gave that the library checks
/// against the data (a class that is not in a store, a split that is empty). The message names the file or value and the
/// problem. The library's own input exceptions (<c>EcgFormatException</c>, <c>ConfigException</c>,
/// <c>SafeTensorsFormatException</c>, <c>StateDictMismatchException</c>) derive from it, so that a caller (the CLI's
/// error handler) can tell the user's mistakes from Deri's bugs by type.
/// </summary>
public class InputException : Exception
{
    /// <summary>Creates the exception with its complete, user-facing message.</summary>
    public InputException(string message) : base(message) { }

    /// <summary>Creates the exception with its complete, user-facing message and the exception that revealed the problem.</summary>
    public InputException(string message, Exception? inner) : base(message, inner) { }
}
