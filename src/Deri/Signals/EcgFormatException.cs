using Deri.IO;

namespace Deri.Signals;

/// <summary>
/// A record or signal file that cannot be read as stated: truncated or empty file, malformed header,
/// unknown format, missing leads. The message always names the file and the problem.
/// </summary>
public sealed class EcgFormatException : Deri.IO.InputException
{
    /// <summary>Creates the exception; <paramref name="path"/> is prefixed to the message.</summary>
    public EcgFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The file (or record) that could not be read.</summary>
    public string FilePath { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }
}
