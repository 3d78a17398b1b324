namespace Deri.IO;

/// <summary>
/// A file of one of Deri's own formats (a store, a run folder, a checkpoint, an index, a CSV or JSON table, a tokenizer
/// or weights file) whose content is wrong: truncated, malformed, of another version, or inconsistent with the files
/// beside it. The message names the file and the problem. Record files have their own <c>EcgFormatException</c>.
/// </summary>
public class InputFormatException : InputException
{
    /// <summary>Creates the exception with its complete, user-facing message (naming the file).</summary>
    public InputFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with its complete, user-facing message and the exception that revealed the problem.</summary>
    public InputFormatException(string message, Exception? inner) : base(message, inner) { }
}
