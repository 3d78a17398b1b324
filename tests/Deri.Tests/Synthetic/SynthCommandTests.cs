using System.Security.Cryptography;
using Deri.Synthetic;
using Deri.Tests.Cli;

namespace Deri.Tests.Synthetic;

public class SynthCommandTests
{
    private static Dictionary<string, string> HashTree(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void SynthWritesTheMimicLayoutCsvsAndPromptsDeterministically()
    {
        string tmp = Directory.CreateTempSubdirectory("deri-synth-").FullName;
        try
        {
            string a = Path.Combine(tmp, "a"), b = Path.Combine(tmp, "b");
            string o = CliRunner.Ok("synth", "--n", "20", "--seed", "4", "--out", a, "--threads", "1");
            Assert.Contains("\"records\":20", o);
            CliRunner.Ok("synth", "--n", "20", "--seed", "4", "--out", b, "--threads", "2");

            var recordList = File.ReadAllLines(Path.Combine(a, "record_list.csv"));
            Assert.Equal("subject_id,study_id,file_name,ecg_time,path", recordList[0]);
            Assert.Equal(21, recordList.Length);
            foreach (string line in recordList.Skip(1))
            {
                var f = line.Split(',');
                Assert.Matches(@"^files/p\d{4}/p\d{8}/s\d{8}/\d{8}$", f[4]);
                Assert.Equal($"files/p{f[0][..4]}/p{f[0]}/s{f[1]}/{f[1]}", f[4]);
                string hea = Path.Combine(a, f[4] + ".hea");
                var header = File.ReadAllLines(hea);
                Assert.StartsWith($"{f[1]} 12 500 5000", header[0]);
                Assert.Equal(["I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6"], header.Skip(1).Take(12).Select(l => l.Split(' ')[8]));
                Assert.All(header.Skip(1).Take(12), l => Assert.Equal("200.0(0)/mV", l.Split(' ')[2]));
                Assert.Equal(2 * 12 * 5000, new FileInfo(Path.ChangeExtension(hea, ".dat")).Length);
            }

            var mm = File.ReadAllLines(Path.Combine(a, "machine_measurements.csv"));
            string realHeader = File.ReadLines(Path.Combine(ReportTests.SharedFolder(), "data", "mimic-iv-ecg-schema", "machine_measurements.csv")).First();
            Assert.Equal(realHeader, mm[0]);
            Assert.Equal(21, mm.Length);
            Assert.All(mm.Skip(1), l => Assert.Matches(@"(Normal|Borderline|Abnormal) ECG", l));

            var labels = File.ReadAllLines(Path.Combine(a, "labels.csv"));
            Assert.Equal("study_id," + string.Join(',', EcgConditions.Codes), labels[0]);
            Assert.All(labels.Skip(1), l => Assert.Matches(@"^\d{8}(,[01]){16}$", l));
            Assert.True(File.Exists(Path.Combine(a, "patients.csv")));
            Assert.Equal(SyntheticPrompts.Json, File.ReadAllText(Path.Combine(a, SyntheticPrompts.FileName)));

            // The same seed gives the same bytes whatever the thread count.
            var ha = HashTree(a);
            Assert.Equal(20 * 2 + 5, ha.Count);
            Assert.Equal(ha, HashTree(b));
            Assert.Empty(Directory.GetDirectories(tmp, ".*"));

            // A non-empty output folder is refused unless --force.
            var again = CliRunner.Run(["synth", "--n", "2", "--out", a]);
            Assert.NotEqual(0, again.ExitCode);
            Assert.Contains("not empty", again.Stderr + again.Stdout);
            CliRunner.Ok("synth", "--n", "2", "--out", a, "--force");
            Assert.Equal(3, File.ReadAllLines(Path.Combine(a, "labels.csv")).Length);

            // --force never deletes a folder that is not a synthetic data set.
            string other = Path.Combine(tmp, "other");
            Directory.CreateDirectory(other);
            File.WriteAllText(Path.Combine(other, "notes.txt"), "keep me");
            var refused = CliRunner.Run(["synth", "--n", "2", "--out", other, "--force"]);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("refusing to replace", refused.Stderr + refused.Stdout);
            Assert.True(File.Exists(Path.Combine(other, "notes.txt")));

            // A held-out split: later indices, disjoint ids.
            CliRunner.Ok("synth", "--n", "3", "--seed", "4", "--start", "18", "--out", Path.Combine(tmp, "h"));
            var held = File.ReadAllLines(Path.Combine(tmp, "h", "record_list.csv"));
            Assert.Equal(recordList[19], held[1]);
            Assert.EndsWith("40000020", held[3].Split(',')[1]);

            var bad = CliRunner.Run(["synth", "--n", "2", "--out", Path.Combine(tmp, "c"), "--noise", "loud"]);
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains("unknown noise level 'loud'", bad.Stderr + bad.Stdout);
        }
        finally { Directory.Delete(tmp, true); }
    }

    [Fact]
    public void WrittenSignalsDecodeToTheGeneratedRecord()
    {
        string tmp = Directory.CreateTempSubdirectory("deri-synth-").FullName;
        try
        {
            var cfg = new SyntheticEcgConfig(Seed: 9, SamplingRate: 250, DurationSeconds: 4);
            var summary = SyntheticDatasetWriter.Write(new SyntheticDatasetOptions(Path.Combine(tmp, "d"), 3, cfg, Threads: 2));
            Assert.Equal(3, summary.Records);
            Assert.Empty(summary.Failed);
            var e = new SyntheticEcgGenerator(cfg).Generate(2);
            byte[] bytes = File.ReadAllBytes(Path.Combine(summary.OutputDirectory, SyntheticDatasetWriter.RecordPath(2) + ".dat"));
            Assert.Equal(2 * 12 * 1000, bytes.Length);
            for (int t = 0; t < 1000; t++)
                for (int c = 0; c < 12; c++)
                {
                    int d = System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * (t * 12 + c)));
                    Assert.Equal(e.Signal[c * 1000 + t], d / SyntheticDatasetWriter.Gain, 0.0026);
                }
            var mm = File.ReadAllLines(Path.Combine(summary.OutputDirectory, "machine_measurements.csv"));
            Assert.Contains(string.Join(',', e.Statements.Select(s => s.Contains(',') ? $"\"{s}\"" : s)), mm[3]);
            Assert.Contains($",{Math.Round(e.Truth.MeanRr)},", mm[3]);
        }
        finally { Directory.Delete(tmp, true); }
    }
}
