using Deri.Signals;

namespace Deri.Tests.Signals;

/// <summary>
/// Randomly damaged files (fixed seeds) either read or fail with an <see cref="EcgFormatException"/> naming the
/// file — never another exception type, so a long job that skips bad records never aborts.
/// </summary>
public class CorruptionTests
{
    private static void ReadsOrFailsClearly(string path, string dir)
    {
        try
        {
            RecordReader.Read(path);
        }
        catch (EcgFormatException e)
        {
            Assert.StartsWith(dir, e.FilePath);
            Assert.Contains(": ", e.Message);
        }
    }

    [Fact]
    public void DamagedMatV5Files()
    {
        using var dir = new TempDir();
        var real = File.ReadAllBytes(SignalData.File("cpsc2018", "A1980.mat"));
        var plain = MatV5Builder.CpscFile(new double[12, 40], "Male", 40, compress: false);
        var rng = new Random(7);
        for (int i = 0; i < 60; i++)
        {
            var source = i % 2 == 0 ? real : plain;
            var b = (byte[])source.Clone();
            if (i % 3 == 0) b = b[..rng.Next(1, b.Length)];
            else
                for (int k = 0; k < 1 + i % 5; k++) b[rng.Next(128, Math.Min(b.Length, 1000))] = (byte)rng.Next(256);
            ReadsOrFailsClearly(dir.Bytes($"m{i}.mat", b), dir.Path);
        }
    }

    [Fact]
    public void DamagedWfdbHeadersAndSignalFiles()
    {
        using var dir = new TempDir();
        string src = SignalData.File("cinc2021", "E07501");
        var hea = File.ReadAllText(src + ".hea");
        var mat = File.ReadAllBytes(src + ".mat");
        var rng = new Random(11);
        const string junk = " +x:/()#-0123456789.e";
        for (int i = 0; i < 80; i++)
        {
            var h = hea.ToCharArray();
            for (int k = 0; k < 1 + i % 4; k++) h[rng.Next(h.Length)] = junk[rng.Next(junk.Length)];
            var m = i % 4 == 0 ? mat[..rng.Next(0, mat.Length)] : mat;
            string name = $"E{i:000}";
            dir.Bytes(name + ".mat", m);
            // Keep the header naming this copy's signal file.
            ReadsOrFailsClearly(dir.Text(name + ".hea", new string(h).Replace("E07501", name)), dir.Path);
        }
    }
}
