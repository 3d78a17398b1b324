using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Deri.Cli.Commands;
using Deri.Tests.Cli;
using Deri.Tests.Data;

namespace Deri.Tests.Serving;

/// <summary><c>deri serve</c> and <c>deri bench serve</c> on the command line: exit codes of the README's contract, and the soak.</summary>
[Collection("serve-run")]
public sealed class ServeCliTests(ServeRunFixture fx)
{
    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void Usage(CliRunner.Result r, string command, string needle)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        var lines = Lines(r.Stderr);
        Assert.Contains(lines, l => l.StartsWith("error: ", StringComparison.Ordinal) && l.Contains(needle, StringComparison.Ordinal));
        Assert.Equal($"see `{command} --help`", lines[^1]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void ServeOptionMistakesAreUsageErrors()
    {
        // Checked before the run is loaded: the run need not exist.
        Usage(CliRunner.Run(["serve", "--run", "nowhere", "--host", "my-laptop"]), "deri serve", "--host 'my-laptop'");
        Usage(CliRunner.Run(["serve", "--run", "nowhere", "--port", "70000"]), "deri serve", "--port 70000");
        Usage(CliRunner.Run(["serve", "--run", "nowhere", "--host", "0.0.0.0"]), "deri serve", "beyond loopback");
        Usage(CliRunner.Run(["serve", "--run", "nowhere", "--max-requests-per-minute", "-1"]), "deri serve", "--max-requests-per-minute");
        Usage(CliRunner.Run(["serve", "--run", "nowhere", "--api-key", "a", "--api-key-file", "b"]), "deri serve", "not both");
        Usage(CliRunner.Run(["bench", "serve", "--run", "nowhere", "--plot", "x.png"]), "deri bench serve", "--plot goes with --soak");
    }

    [Fact]
    public void RangeMistakesOfOptionValuesAreUsageErrors()
    {
        string record = DataFiles.Shared("ptbxl", "records100", "00000", "00001_lr.hea");
        string png = Path.Combine(Path.GetTempPath(), $"deri-plot-{Guid.NewGuid():N}.png");
        Usage(CliRunner.Run(["data", "plot", record, "-o", png, "--from", "5", "--to", "2"]), "deri data plot", "--to 2 s must be after --from 5 s");
        Usage(CliRunner.Run(["data", "export", record, "--from", "5", "--to", "2"]), "deri data export", "--to 2 must be after --from 5");
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void ANativeExceptionIsOneLineUnlessVerbose()
    {
        var native = new ExternalException("Expected all tensors to be on the same device\nException raised from check_all at /pytorch/aten/src/ATen/TensorIterator.cpp:123\nframe #0: c10::Error::Error()\nframe #1: at::native::add()");
        using var quiet = new StringWriter();
        Assert.Equal(3, CliErrors.Report(native, verbose: false, quiet));
        Assert.Equal("error: unexpected ExternalException: Expected all tensors to be on the same device (run with --verbose for details)", Assert.Single(Lines(quiet.ToString())));
        using var loud = new StringWriter();
        CliErrors.Report(native, verbose: true, loud);
        Assert.Contains("frame #1: at::native::add()", loud.ToString());
        using var usage = new StringWriter();
        Assert.Equal(2, CliErrors.Report(new CliUsageException("--k must be positive"), verbose: false, usage, "deri search"));
        Assert.Equal(["error: --k must be positive", "see `deri search --help`"], Lines(usage.ToString()));
    }

    [Fact]
    public void APortInUseIsOneErrorLineAndExitOne()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var r = CliRunner.Run(["serve", "--run", fx.Run, "--index", fx.Index, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--threads", "1"]);
        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        Assert.Equal("", r.Stdout);
        var errors = Lines(r.Stderr).Where(l => l.StartsWith("error:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal) || l.StartsWith("fail:", StringComparison.Ordinal)).ToList();
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(errors));
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void AShortSoakMixesValidAndHostileRequestsAndPlotsMemory()
    {
        string png = Path.Combine(Path.GetTempPath(), $"deri-soak-{Guid.NewGuid():N}.png");
        try
        {
            var r = CliRunner.Run(["bench", "serve", "--run", fx.Run, "--index", fx.Index, "--soak", "0.2", "--plot", png, "--threads", "1"], timeoutSeconds: 300);
            Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
            var lines = Lines(r.Stdout).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            var summary = lines[^1];
            Assert.True(summary.GetProperty("summary").GetBoolean());
            Assert.True(lines.Count >= 2, r.Stdout);
            Assert.Equal(1, lines[0].GetProperty("minute").GetInt32());
            Assert.Equal(0, summary.GetProperty("valid_failed").GetInt32());
            Assert.Equal(0, summary.GetProperty("status_500").GetInt32());
            Assert.Equal(0, summary.GetProperty("not_problem_documents").GetInt32());
            Assert.Equal(0, summary.GetProperty("oversized_problems").GetInt32());
            Assert.True(summary.GetProperty("valid_sent").GetInt32() >= 7, r.Stdout);
            Assert.True(summary.GetProperty("p95_ms").GetDouble() >= summary.GetProperty("p50_ms").GetDouble());
            Assert.True(summary.GetProperty("rss_samples").GetInt32() >= 3);
            var cases = summary.GetProperty("by_case");
            foreach (string kind in new[] { "wfdb", "wfdb-499.5hz", "zip", "csv", "csv-8001-8150hz", "cinc-mat", "cpsc2018-mat" })
                Assert.True(cases.TryGetProperty(kind, out var statuses) && statuses.EnumerateObject().All(s => s.Name == "200"), $"{kind}: {cases}");
            // Each hostile case that was sent got its refusal.
            var expected = new Dictionary<string, string>
            {
                ["format0-bomb"] = "422", ["multipart-cut"] = "400", ["65-parts"] = "400", ["long-boundary"] = "400", ["text-plain"] = "415",
                ["urlencoded"] = "415", ["unknown-kind"] = "415", ["too-large"] = "413", ["zip-bomb"] = "413", ["csv-100k-columns"] = "422",
                ["csv-bad-rate"] = "400", ["foreign-host"] = "421", ["foreign-origin"] = "403", ["unknown-path"] = "404", ["huge-headers"] = "431",
            };
            foreach (var (name, status) in expected)
                if (cases.TryGetProperty(name, out var got))
                    Assert.True(got.EnumerateObject().All(s => s.Name == status), $"{name}: {got}");
            byte[] head = File.ReadAllBytes(png)[..8];
            Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, head);
        }
        finally
        {
            File.Delete(png);
        }
    }
}
