namespace Deri.Tests;

/// <summary>
/// The committed fixtures of <c>tests/Deri.Tests/Fixtures</c>, which the test project copies beside the test
/// binary (the <c>Fixtures\**</c> item in the csproj). One place, so every test finds them the same way.
/// </summary>
internal static class TestFixtures
{
    /// <summary>The copied <c>Fixtures</c> folder.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    /// <summary>A fixture subfolder, e.g. <c>Dir("gpt2")</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder was not copied to the output.</exception>
    public static string Dir(string folder)
    {
        string dir = Path.Combine(Root, folder);
        return Directory.Exists(dir) ? dir
            : throw new DirectoryNotFoundException($"fixture folder {dir} is missing: is tests/Deri.Tests/Fixtures/{folder} copied to the output?");
    }
}
