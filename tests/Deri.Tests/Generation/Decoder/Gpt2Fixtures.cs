namespace Deri.Tests.Generation.Decoder;

/// <summary>Locates the committed GPT-2 fixtures.</summary>
internal static class Gpt2Fixtures
{
    public static string Dir => TestFixtures.Dir("gpt2");

    public static string File(string name) => Path.Combine(Dir, name);
}
