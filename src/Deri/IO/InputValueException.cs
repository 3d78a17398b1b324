namespace Deri.IO;

/// <summary>
/// A value the user gave (an option, a name, a class, a split, a number of folds) that the library cannot use with the
/// data or model at hand: a class that is not a column, an architecture name that does not exist, more folds than
/// records. The message names the value and says what would fit. Values a parser can check alone are the CLI's
/// usage errors instead.
/// </summary>
public sealed class InputValueException : InputException
{
    /// <summary>Creates the exception with its complete, user-facing message (naming the value).</summary>
    public InputValueException(string message) : base(message) { }

    /// <summary>Creates the exception with its complete, user-facing message and the exception that revealed the problem.</summary>
    public InputValueException(string message, Exception? inner) : base(message, inner) { }
}
