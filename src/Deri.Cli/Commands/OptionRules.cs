using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Deri.Cli.Commands;

/// <summary>
/// List options and option combinations, checked while parsing so that a wrong command line is a
/// usage error (exit code 2) before any work starts.
/// </summary>
/// <remarks>
/// Every list option takes its values comma-separated, repeated, or both: <c>--names A,B</c>,
/// <c>--names A --names B</c> and <c>--names A,B --names C</c> are the same list. (Free text such as
/// <c>text encode --text</c> and <c>--set key=value</c> overrides may hold commas and are repeated only.)
/// </remarks>
internal static class OptionRules
{
    /// <summary>A list of strings (names, paths).</summary>
    public static Option<string[]> StringList(string name, string description, bool required = false) =>
        List<string>(name, description, required, (s, _) => s);

    /// <summary>A list of non-negative integers (e.g. channel indices).</summary>
    public static Option<int[]> IntList(string name, string description) =>
        List<int>(name, description, false, (s, error) =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : error($"'{s}' is not a non-negative integer"));

    /// <summary>A list of numbers; a trailing % is allowed (e.g. ratios in percent).</summary>
    public static Option<double[]> PercentList(string name, string description, double[] defaults)
    {
        var option = List<double>(name, description, false, (s, error) =>
            double.TryParse(s.TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v <= 100
                ? v : error($"'{s}' is not a percentage in (0, 100]"));
        option.DefaultValueFactory = _ => defaults;
        return option;
    }

    /// <summary>The values of a list option in the order given, commas and repeats flattened.</summary>
    public static IEnumerable<string> Split(IEnumerable<string> tokens) =>
        tokens.SelectMany(t => t.Split(',', StringSplitOptions.TrimEntries));

    /// <summary>Exactly one of <paramref name="a"/> and <paramref name="b"/> must be given.</summary>
    public static void OneOf(Command command, Option a, string aText, Option b, string bText) =>
        command.Validators.Add(r =>
        {
            bool hasA = Given(r, a), hasB = Given(r, b);
            if (hasA && hasB) r.AddError($"give {aText} or {bText}, not both");
            else if (!hasA && !hasB) r.AddError($"give one of {aText} or {bText}");
        });

    /// <summary><paramref name="a"/> and <paramref name="b"/> go together: both or neither.</summary>
    public static void Together(Command command, Option a, Option b) =>
        command.Validators.Add(r =>
        {
            if (Given(r, a) != Given(r, b)) r.AddError($"{a.Name} and {b.Name} go together: give both or neither");
        });

    private static bool Given(CommandResult r, Option o) => r.GetResult(o) is { Implicit: false } result && result.Tokens.Count > 0;

    private static Option<T[]> List<T>(string name, string description, bool required, Func<string, Func<string, T>, T> parse)
    {
        var option = new Option<T[]>(name)
        {
            Description = description + " (comma-separated and/or repeated)",
            Required = required,
            Arity = ArgumentArity.OneOrMore,
        };
        option.CustomParser = r =>
        {
            var values = new List<T>();
            foreach (string s in Split(r.Tokens.Select(t => t.Value)))
            {
                if (s.Length == 0)
                {
                    r.AddError($"{name}: empty value in '{string.Join(' ', r.Tokens.Select(t => t.Value))}'");
                    return [];
                }
                string? problem = null;
                T v = parse(s, p => { problem = p; return default!; });
                if (problem is not null)
                {
                    r.AddError($"{name}: {problem}");
                    return [];
                }
                values.Add(v);
            }
            return values.ToArray();
        };
        if (!required) option.DefaultValueFactory = _ => [];
        return option;
    }
}
