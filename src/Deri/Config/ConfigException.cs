using Deri.IO;

namespace Deri.Config;

/// <summary>
/// A configuration problem: unknown key, wrong type, out-of-range value or unreadable file. The
/// message names the file (or the <c>--set</c> override) and the dotted key path.
/// </summary>
public sealed class ConfigException : Deri.IO.InputException
{
    /// <summary>Creates the exception with a complete, user-facing message.</summary>
    public ConfigException(string message) : base(message) { }

    /// <summary>Creates the exception with a complete, user-facing message and its cause.</summary>
    public ConfigException(string message, Exception inner) : base(message, inner) { }
}
