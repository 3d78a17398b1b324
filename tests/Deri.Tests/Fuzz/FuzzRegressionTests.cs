using System.Text;
using Deri.Config;
using Deri.Generation;
using Deri.Signals;
using Deri.Weights;

namespace Deri.Tests.Fuzz;

/// <summary>
/// Replays the inputs that once broke a reader (<c>Fixtures/fuzz-regressions/FORMAT</c>): each must now be read or
/// rejected with the reader's own exception, within the timeout. Add a failing fuzz input here when fixing its bug.
/// </summary>
public class FuzzRegressionTests
{
    /// <summary>Every kept input, as a path relative to the regression folder (FORMAT/…); a WFDB case is its header.</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        string root = Path.Combine(TestFixtures.Root, "fuzz-regressions");
        foreach (string f in Directory.GetFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string relative = Path.GetRelativePath(root, f);
            string format = relative.Split(Path.DirectorySeparatorChar)[0];
            // A WFDB record is replayed through its header; its signal file comes along.
            if (format is "wfdb" or "matv4" && !f.EndsWith(".hea", StringComparison.Ordinal)) continue;
            if (format == "README.md") continue;
            data.Add(relative);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void StillReadsOrFailsCleanly(string relative)
    {
        string path = Path.Combine(TestFixtures.Root, "fuzz-regressions", relative);
        string format = relative.Split(Path.DirectorySeparatorChar)[0];
        Action read = format switch
        {
            "wfdb-header" => () => WfdbHeader.Parse(File.ReadAllText(path), path),
            "wfdb" or "matv4" => () => RecordReader.Read(path),
            "matv5" => () => Cpsc2018.Read(path),
            "safetensors" => () => { foreach (var t in SafeTensors.Load(path).Values) t.Dispose(); },
            "yaml" => () => ParseConfig(path),
            "csv" => () => Cpsc2018.ReadLabels(path),
            _ => throw new InvalidOperationException($"{relative}: no reader for regression folder '{format}'"),
        };
        Func<Exception, bool> expected = format switch
        {
            "safetensors" => e => e is SafeTensorsFormatException,
            "yaml" => e => e is ConfigException,
            _ => e => e is EcgFormatException,
        };
        string? problem = FuzzHarness.Check(read, expected);
        Assert.True(problem is null, $"{relative}: {problem}");
    }

    private static void ParseConfig(string path)
    {
        string text = Encoding.UTF8.GetString(File.ReadAllBytes(path));
        if (Path.GetFileName(path).StartsWith("report", StringComparison.Ordinal)) ConfigLoader.Parse<ReportConfig>(text, path).Validate(path);
        else DeriConfig.Parse(text, path);
    }
}
