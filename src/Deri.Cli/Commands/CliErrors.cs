using Deri.Config;
using Deri.Signals;
using Deri.Weights;

namespace Deri.Cli.Commands;

/// <summary>Turns the library's bad-input exceptions into one clear line on stderr and exit code 1.</summary>
internal static class CliErrors
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is EcgFormatException or ConfigException or SafeTensorsFormatException or ArgumentException
                                      or StateDictMismatchException or InvalidDataException or InvalidOperationException or KeyNotFoundException
                                      or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
