using System.Text;
using Deri.Config;
using Deri.Data.Datasets;
using Deri.Generation;
using Deri.Signals;
using Deri.Tests.Signals;
using Deri.Weights;

namespace Deri.Tests.Fuzz;

/// <summary>
/// A fuzzed corpus for every reader of user files: thousands of mutated copies of real records, headers, weights,
/// configs and CSV metadata (fixed seeds, so CI is deterministic). Each input must be read, or rejected with the
/// reader's documented exception, within <see cref="FuzzHarness.ReadTimeout"/>; any other exception, a hang or a
/// native crash (which kills the test host) fails the suite. Inputs that once failed are replayed from
/// <c>Fixtures/fuzz-regressions/FORMAT</c>.
/// </summary>
public class ReaderFuzzTests
{
    private static bool IsEcgError(Exception e) => e is EcgFormatException;

    private static string Ptb(string ext) => SignalData.File("ptbxl", "records100", "00000", "00001_lr" + ext);

    /// <summary>A WFDB seed record: header text (record name <c>r</c>) and its signal file's name and bytes.</summary>
    private sealed record WfdbSeed(string Header, string SignalFile, byte[] Signal);

    private static WfdbSeed PtbSeed() =>
        new(File.ReadAllText(Ptb(".hea")).Replace("00001_lr", "r"), "r.dat", File.ReadAllBytes(Ptb(".dat")));

    private static WfdbSeed CincSeed()
    {
        string src = SignalData.File("cinc2021", "E07501");
        return new(File.ReadAllText(src + ".hea").Replace("E07501", "r"), "r.mat", File.ReadAllBytes(src + ".mat"));
    }

    /// <summary>MIT-BIH record 100 (format 212, two signals) cut to its first 5000 frames, to keep each read small.</summary>
    private static WfdbSeed Format212Seed()
    {
        string header = File.ReadAllText(SignalData.File("wfdb-samples", "100.hea"))
            .Replace("100 2 360 650000", "r 2 360 5000").Replace("100.dat", "r.dat");
        return new(header, "r.dat", File.ReadAllBytes(SignalData.File("wfdb-samples", "100.dat"))[..15000]);
    }

    private static void ReadRecord(string dir, string header, string signalFile, byte[] signal, int i)
    {
        File.WriteAllText(Path.Combine(dir, "r.hea"), header);
        File.WriteAllBytes(Path.Combine(dir, signalFile), signal);
        string hea = Path.Combine(dir, "r.hea");
        // Alternate between the general reader and the direct float path, which has its own checks.
        if (i % 3 == 2) ReadModelLeadsOrSkip(hea);
        else RecordReader.Read(hea);
    }

    private static void ReadModelLeadsOrSkip(string hea)
    {
        var buffer = new float[12 * 6000];
        try
        {
            RecordReader.ReadModelLeads(hea, buffer);
        }
        catch (ArgumentException e) when (e.Message.StartsWith("destination holds", StringComparison.Ordinal))
        {
            // Documented: a header declaring more samples than the buffer holds.
        }
    }

    [Fact]
    public void WfdbHeaderText()
    {
        string[] files =
        [
            Ptb(".hea"), SignalData.File("cinc2021", "HR06000.hea"), SignalData.File("wfdb-samples", "100.hea"),
            SignalData.File("wfdb-samples", "s0010_re.hea"), SignalData.File("wfdb-samples", "a103l.hea"),
        ];
        var seeds = files.Select(File.ReadAllBytes).ToArray();
        FuzzHarness.Run("wfdb-header", seeds, 6000, 101, text: true,
            (input, _) => WfdbHeader.Parse(Encoding.UTF8.GetString(input), "fuzz.hea"), IsEcgError, ".hea");
    }

    [Fact]
    public void WfdbRecordsWithMutatedHeaders()
    {
        using var dir = new TempDir();
        WfdbSeed[] seeds = [PtbSeed(), CincSeed(), Format212Seed()];
        FuzzHarness.Run("wfdb", seeds.Select(s => Encoding.UTF8.GetBytes(s.Header)).ToArray(), 2400, 202, text: true,
            (input, i) =>
            {
                var s = seeds[i % seeds.Length];
                ReadRecord(dir.Path, Encoding.UTF8.GetString(input), s.SignalFile, s.Signal, i);
            }, IsEcgError, ".hea", dir.Path);
    }

    [Fact]
    public void WfdbRecordsWithMutatedSignalFiles()
    {
        using var dir = new TempDir();
        WfdbSeed[] seeds = [PtbSeed(), Format212Seed()];
        FuzzHarness.Run("wfdb", seeds.Select(s => s.Signal).ToArray(), 2000, 303, text: false,
            (input, i) =>
            {
                var s = seeds[i % seeds.Length];
                ReadRecord(dir.Path, s.Header, s.SignalFile, input, i);
            }, IsEcgError, ".dat", dir.Path);
    }

    [Fact]
    public void MatV4SignalFiles()
    {
        using var dir = new TempDir();
        var seed = CincSeed();
        FuzzHarness.Run("matv4", [seed.Signal], 2000, 404, text: false,
            (input, i) => ReadRecord(dir.Path, seed.Header, seed.SignalFile, input, i), IsEcgError, ".mat", dir.Path);
    }

    [Fact]
    public void MatV5Files()
    {
        using var dir = new TempDir();
        // Small files in the CPSC2018 layout holding the first 0.6 s of a real record, compressed and not.
        var real = Cpsc2018.Read(SignalData.File("cpsc2018", "A1980.mat"));
        var data = new double[12, 300];
        for (int c = 0; c < 12; c++)
            for (int t = 0; t < 300; t++) data[c, t] = real.ExactPhysical![c][t];
        byte[][] seeds = [MatV5Builder.CpscFile(data, "Male", 66), MatV5Builder.CpscFile(data, "Female", 12, compress: false)];
        string path = dir["A.mat"];
        FuzzHarness.Run("matv5", seeds, 3000, 505, text: false, (input, _) =>
        {
            File.WriteAllBytes(path, input);
            Cpsc2018.Read(path);
        }, IsEcgError, ".mat");
        // A few mutations of a whole real file (460 KB, inflated to 2.4 MB of doubles).
        FuzzHarness.Run("matv5", [File.ReadAllBytes(SignalData.File("cpsc2018", "A1980.mat"))], 60, 506, text: false, (input, _) =>
        {
            File.WriteAllBytes(path, input);
            Cpsc2018.Read(path);
        }, IsEcgError, ".mat");
    }

    private static byte[] Format(string name) => File.ReadAllBytes(SignalFixtures.File(Path.Combine("formats", name)));

    /// <summary>
    /// DICOM ECG (pydicom-written: implicit VR with undefined-length sequences, explicit VR, deflated), read through
    /// <see cref="RecordReader"/> like a user's file.
    /// </summary>
    [Fact]
    public void DicomFiles()
    {
        using var dir = new TempDir();
        string path = dir["r.dcm"];
        byte[][] seeds = [Format("dicom_implicit.dcm"), Format("dicom_explicit.dcm"), Format("dicom_deflated.dcm")];
        FuzzHarness.Run("dicom", seeds, 3000, 1001, text: false, (input, _) =>
        {
            File.WriteAllBytes(path, input);
            RecordReader.Read(path);
        }, IsEcgError, ".dcm");
    }

    [Fact]
    public void AecgAndMuseXml()
    {
        using var dir = new TempDir();
        string path = dir["r.xml"];
        byte[][] seeds = [Format("aecg.xml"), Format("muse.xml")];
        FuzzHarness.Run("ecg-xml", seeds, 1200, 1102, text: true, (input, _) =>
        {
            File.WriteAllBytes(path, input);
            RecordReader.Read(path);
        }, IsEcgError, ".xml");
    }

    [Fact]
    public void EdfAndBdfFiles()
    {
        using var dir = new TempDir();
        byte[][] seeds = [Format("edf.edf"), Format("bdf.bdf")];
        FuzzHarness.Run("edf", seeds, 3000, 1203, text: false, (input, i) =>
        {
            string path = dir[i % 2 == 0 ? "r.edf" : "r.bdf"];
            File.WriteAllBytes(path, input);
            RecordReader.Read(path);
        }, IsEcgError, ".edf");
    }

    [Fact]
    public void SafeTensorsFiles()
    {
        using var dir = new TempDir();
        byte[][] seeds =
        [
            File.ReadAllBytes(Path.Combine(TestFixtures.Dir("text"), "dtypes.safetensors")),
            File.ReadAllBytes(Path.Combine(TestFixtures.Dir("text"), "bert_tiny_io.safetensors")),
            File.ReadAllBytes(Path.Combine(TestFixtures.Dir("parity"), "clip_loss.safetensors")),
        ];
        string path = dir["w.safetensors"];
        FuzzHarness.Run("safetensors", seeds, 3000, 606, text: false, (input, _) => LoadSafeTensors(path, input),
            e => e is SafeTensorsFormatException, ".safetensors");
    }

    private static void LoadSafeTensors(string path, byte[] input)
    {
        File.WriteAllBytes(path, input);
        foreach (var t in SafeTensors.Load(path).Values) t.Dispose();
    }

    private static string RepoFile(params string[] parts)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Deri.slnx"))) return Path.Combine([d.FullName, .. parts]);
        throw new DirectoryNotFoundException($"no Deri.slnx above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void YamlConfigs()
    {
        byte[][] seeds =
        [
            File.ReadAllBytes(RepoFile("configs", "ptbxl-small.yaml")),
            File.ReadAllBytes(RepoFile("configs", "ptbxl-baselines.yaml")),
            File.ReadAllBytes(RepoFile("configs", "report-ptbxl.yaml")),
        ];
        FuzzHarness.Run("yaml", seeds, 3000, 707, text: true, (input, i) => ParseConfig(input, i % seeds.Length == 2),
            e => e is ConfigException, ".yaml");
    }

    private static void ParseConfig(byte[] input, bool report)
    {
        string yaml = Encoding.UTF8.GetString(input);
        if (report) ConfigLoader.Parse<ReportConfig>(yaml, "fuzz.yaml").Validate("fuzz.yaml");
        else DeriConfig.Parse(yaml, "fuzz.yaml");
    }

    [Fact]
    public void CpscLabelCsv()
    {
        using var dir = new TempDir();
        var lines = File.ReadLines(SignalData.File("cpsc2018", "REFERENCE_with_text.csv")).Take(40);
        byte[][] seeds = [Encoding.UTF8.GetBytes(string.Join('\n', lines)), "Recording,First_label,Second_label,Third_label\nA0001,1,,\nA0002,2,5,\n"u8.ToArray()];
        string path = dir["REFERENCE.csv"];
        FuzzHarness.Run("csv", seeds, 3000, 808, text: true, (input, _) =>
        {
            File.WriteAllBytes(path, input);
            Cpsc2018.ReadLabels(path);
        }, IsEcgError, ".csv");
    }

    [Fact]
    public void ScpStatementsCsv()
    {
        using var dir = new TempDir();
        var lines = File.ReadLines(SignalData.File("ptbxl", "scp_statements.csv")).Take(30);
        string path = dir["scp_statements.csv"];
        FuzzHarness.Run("csv", [Encoding.UTF8.GetBytes(string.Join('\n', lines))], 2000, 909, text: true, (input, _) =>
        {
            File.WriteAllBytes(path, input);
            PtbXlDataset.ReadStatements(path);
        }, e => e is InputFormatException, ".csv");
    }
}
