using System.Globalization;

namespace Deri.Config;

/// <summary>
/// The problems found while validating a config, each naming its full dotted YAML key
/// (<c>ssl.crt.patch_size = 30: …</c>). Validation collects every problem before one error is raised, so a user
/// fixes a file in one pass.
/// </summary>
public sealed class ConfigProblems
{
    private readonly List<string> items = [];

    /// <summary>Every problem found so far, in the order found.</summary>
    public IReadOnlyList<string> Items => items;

    /// <summary>Whether any problem was found.</summary>
    public bool Any => items.Count > 0;

    /// <summary>Records <c>KEY = VALUE: RULE</c> unless <paramref name="ok"/>.</summary>
    /// <param name="ok">Whether the value is acceptable.</param>
    /// <param name="key">The full dotted YAML key, e.g. <c>ssl.crt.patch_size</c>.</param>
    /// <param name="value">The value as the user wrote it (numbers are shown in the invariant culture).</param>
    /// <param name="rule">What the value must be, e.g. <c>must be positive</c>.</param>
    public void Require(bool ok, string key, object? value, string rule)
    {
        if (!ok) items.Add($"{key} = {Convert.ToString(value, CultureInfo.InvariantCulture)}: {rule}");
    }

    /// <summary>Records a problem that is already a complete sentence naming its key.</summary>
    public void Add(string problem) => items.Add(problem);
}

/// <summary>
/// A method's section of the <c>ssl</c> config (<c>ssl.simclr</c>, …, <c>ssl.stmem</c>). Every section validates the
/// same way: <see cref="Validate"/> adds one problem per bad value, naming its full key, for records of a given
/// geometry (some sizes must divide the record length or index its leads).
/// </summary>
public interface ISslMethodConfig
{
    /// <summary>Adds a problem for every value that does not fit records of <paramref name="leads"/> × <paramref name="seqLength"/> samples.</summary>
    void Validate(ConfigProblems problems, int leads, int seqLength);
}

/// <summary>Building a method from its section: the section must be valid for the input first.</summary>
public static class SslMethodConfigExtensions
{
    /// <summary>Returns <paramref name="config"/> when it is valid for records of <paramref name="leads"/> × <paramref name="seqLength"/> samples.</summary>
    /// <exception cref="ArgumentException">One or more values are out of range; the message lists each with its full key.</exception>
    public static T Validated<T>(this T config, int leads, int seqLength) where T : ISslMethodConfig
    {
        var problems = new ConfigProblems();
        config.Validate(problems, leads, seqLength);
        if (problems.Any) throw new ConfigException(string.Join("; ", problems.Items));
        return config;
    }
}
