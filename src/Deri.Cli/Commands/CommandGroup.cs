using System.CommandLine;

namespace Deri.Cli.Commands;

/// <summary>
/// The one way the <c>deri</c> command tree is assembled: a group is built by its own
/// <c>XCommand.Create()</c>, which lists its children (each one a <c>Create()</c> of its own), and
/// <see cref="Program.BuildRoot"/> lists the top-level commands the same way.
/// </summary>
internal static class CommandGroup
{
    /// <summary>A command <paramref name="name"/> whose only job is to hold <paramref name="children"/>.</summary>
    public static Command Create(string name, string description, params Command[] children)
    {
        var group = new Command(name, description);
        foreach (var child in children) group.Subcommands.Add(child);
        return group;
    }
}
