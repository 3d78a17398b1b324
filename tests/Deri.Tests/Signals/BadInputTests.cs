using Deri.Signals;

namespace Deri.Tests.Signals;

/// <summary>Every kind of bad input is an <see cref="EcgFormatException"/> naming the file and the problem.</summary>
public class BadInputTests
{
    private static string Ptb(string ext) => SignalData.File("ptbxl", "records500", "00000", "00001_hr" + ext);

    private static EcgFormatException Fails(string path, RecordReadOptions? options = null) =>
        Assert.Throws<EcgFormatException>(() => RecordReader.Read(path, options));

    [Fact]
    public void TruncatedDatFile()
    {
        using var dir = new TempDir();
        string hea = dir.Copy(Ptb(".hea"));
        string dat = dir.Copy(Ptb(".dat"));
        using (var f = new FileStream(dat, FileMode.Open)) f.SetLength(100_001);
        var e = Fails(hea);
        Assert.Equal(dat, e.FilePath);
        Assert.Contains("signal file is truncated: 100001 bytes after offset 0 hold 4166 frames of 12 signal(s) in format 16, but the header declares 5000 samples", e.Message);
        // The fast float path reports the same problem.
        var f2 = Assert.Throws<EcgFormatException>(() => RecordReader.ReadModelLeads(hea, new float[12 * 5000]));
        Assert.Contains("truncated", f2.Message);
    }

    [Fact]
    public void HeaderDeclaresMoreSamplesThanTheFileHolds()
    {
        using var dir = new TempDir();
        dir.Copy(Ptb(".dat"));
        string hea = dir.Text("00001_hr.hea", File.ReadAllText(Ptb(".hea")).Replace("00001_hr 12 500 5000", "00001_hr 12 500 6000"));
        var e = Fails(hea);
        Assert.Contains("hold 5000 frames of 12 signal(s) in format 16, but the header declares 6000 samples", e.Message);
        Assert.Contains("00001_hr.dat", e.Message);
    }

    [Fact]
    public void UnknownFormatAndNonNumericGain()
    {
        using var dir = new TempDir();
        dir.Copy(Ptb(".dat"));
        string text = File.ReadAllText(Ptb(".hea"));
        string unknown = dir.Text("00001_hr.hea", text.Replace("00001_hr.dat 16 1000.0(0)/mV 16 0 -65 59817 0 V1", "00001_hr.dat 13 1000.0(0)/mV 16 0 -65 59817 0 V1"));
        Assert.Contains("00001_hr.hea: signal 6 (00001_hr.dat): unknown signal format 13", Fails(unknown).Message);
        string gain = dir.Text("00001_hr.hea", text.Replace("1000.0(0)/mV 16 0 -50", "1k(0)/mV 16 0 -50"));
        Assert.Contains("00001_hr.hea: signal 1: gain '1k(0)/mV' is not a number", Fails(gain).Message);
    }

    [Fact]
    public void MissingSignalFileAndHeader()
    {
        using var dir = new TempDir();
        string hea = dir.Copy(Ptb(".hea"));
        var e = Fails(hea);
        Assert.Equal(dir["00001_hr.dat"], e.FilePath);
        Assert.Contains("signal file not found (named in header", e.Message);
        Assert.Contains("no record found", Fails(dir["nothing"]).Message);
        Assert.Contains("header file not found", Fails(dir["nothing.hea"]).Message);
        Assert.Contains("no WFDB header nothing.hea beside the signal file", Fails(dir["nothing.dat"]).Message);
    }

    [Fact]
    public void EmptyFiles()
    {
        using var dir = new TempDir();
        string hea = dir.Copy(Ptb(".hea"));
        dir.Bytes("00001_hr.dat", []);
        Assert.Equal(dir["00001_hr.dat"] + ": signal file is empty", Fails(hea).Message);
        string empty = dir.Text("e.hea", "");
        Assert.Equal(empty + ": header file is empty", Fails(empty).Message);
        string mat = dir.Bytes("x.mat", []);
        Assert.Contains("x.mat: a .mat file without a WFDB header", Fails(mat).Message);
    }

    [Fact]
    public void ChecksumMismatchWhenVerifying()
    {
        using var dir = new TempDir();
        string hea = dir.Copy(Ptb(".hea"));
        string dat = dir.Copy(Ptb(".dat"));
        var bytes = File.ReadAllBytes(dat);
        bytes[2 * 12 * 100 + 2 * 3] ^= 0x01; // sample 100 of channel 3 (AVR) changes by ±1
        File.WriteAllBytes(dat, bytes);
        var lenient = RecordReader.Read(hea);
        Assert.Equal([3], lenient.ChecksumMismatches());
        var e = Fails(hea, new RecordReadOptions { VerifyChecksums = true });
        Assert.Contains("checksum mismatch in signal(s) 3 (AVR: declared 53190", e.Message);
    }

    [Fact]
    public void InvalidSamplesAreMissing()
    {
        using var dir = new TempDir();
        string hea = dir.Copy(Ptb(".hea"));
        string dat = dir.Copy(Ptb(".dat"));
        var bytes = File.ReadAllBytes(dat);
        int original = BitConverter.ToInt16(bytes, 2 * (12 * 7 + 1));
        bytes[2 * (12 * 7 + 1)] = 0x00;
        bytes[2 * (12 * 7 + 1) + 1] = 0x80; // sample 7 of lead II := -32768
        File.WriteAllBytes(dat, bytes);
        var r = RecordReader.Read(hea);
        Assert.Equal(int.MinValue, r.Digital[1][7]);
        Assert.True(double.IsNaN(r.Physical(1, 7)));
        Assert.Equal(1, r.MissingSamples);
        Assert.NotEqual(-32768, original);
        Assert.Contains("1 missing (invalid) samples", Fails(hea, new RecordReadOptions { AllowMissing = false }).Message);
        var buffer = new float[12 * 5000];
        RecordReader.ReadModelLeads(hea, buffer);
        Assert.True(float.IsNaN(buffer[5000 + 7]));
    }

    [Fact]
    public void MatV4MatrixDisagreeingWithHeader()
    {
        using var dir = new TempDir();
        string src = SignalData.File("cinc2021", "E07500");
        dir.Copy(src + ".mat");
        string more = dir.Text("E07500.hea", File.ReadAllText(src + ".hea").Replace("E07500 12 500 5000", "E07500 12 500 5001"));
        Assert.Contains("E07500.mat: MAT v4 matrix has 5000 columns (samples) but the header declares 5001 samples", Fails(more).Message);
        var lines = File.ReadAllLines(src + ".hea").ToList();
        lines[0] = "E07500 11 500 5000";
        lines.RemoveAt(12);
        string fewer = dir.Text("E07500.hea", string.Join('\n', lines));
        Assert.Contains("MAT v4 matrix has 12 rows but the header stores 11 signal(s)", Fails(fewer).Message);
    }

    [Fact]
    public void MatV5NanSamplesAreMissingAndCounted()
    {
        using var dir = new TempDir();
        var data = new double[12, 50];
        for (int c = 0; c < 12; c++)
            for (int t = 0; t < 50; t++) data[c, t] = 0.001 * (c * 100 + t) - 0.3;
        data[3, 10] = double.NaN;
        data[3, 11] = double.NaN;
        data[11, 49] = double.NaN;
        string path = dir.Bytes("A9999.mat", MatV5Builder.CpscFile(data, "Female", 33));
        var r = RecordReader.Read(path);
        Assert.Equal(3, r.MissingSamples);
        Assert.True(double.IsNaN(r.Physical(3, 10)));
        Assert.Equal(int.MinValue, r.Digital[11][49]);
        Assert.Equal(data[5, 7], r.Physical(5, 7));
        Assert.Equal((33, "Female"), (r.Age!.Value, r.Sex!));
        var e = Fails(path, new RecordReadOptions { AllowMissing = false });
        Assert.Equal(path + ": 3 NaN samples in ECG.data", e.Message);
        // The same content uncompressed reads the same.
        string plain = dir.Bytes("A9998.mat", MatV5Builder.CpscFile(data, "Female", 33, compress: false));
        Assert.Equal(r.ExactPhysical![0], RecordReader.Read(plain).ExactPhysical![0]);
    }

    [Fact]
    public void MatV5StructureProblems()
    {
        using var dir = new TempDir();
        string wrongName = dir.Bytes("B1.mat", MatV5Builder.CpscFile(new double[12, 4], "Male", 1, variable: "val"));
        Assert.Contains("B1.mat: no 1×1 struct 'ECG' (variables: val)", Fails(wrongName).Message);
        string wrongShape = dir.Bytes("B2.mat", MatV5Builder.CpscFile(new double[8, 4], "Male", 1));
        Assert.Contains("ECG.data is 8×4, expected 12×N", Fails(wrongShape).Message);

        var real = File.ReadAllBytes(SignalData.File("cpsc2018", "A1980.mat"));
        string truncated = dir.Bytes("A1980.mat", real[..5000]);
        Assert.Contains("truncated", Fails(truncated).Message);
        var corrupt = (byte[])real.Clone();
        for (int i = 200; i < 400; i++) corrupt[i] ^= 0x5A;
        string bad = dir.Bytes("C1.mat", corrupt);
        var e = Fails(bad);
        Assert.Equal(bad, e.FilePath);
    }
}
