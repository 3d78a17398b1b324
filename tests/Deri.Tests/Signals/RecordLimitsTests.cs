using System.IO.Compression;
using System.Text;
using Deri.Signals;

namespace Deri.Tests.Signals;

/// <summary>Declared sizes are checked against <see cref="RecordLimits"/> before any sample array is allocated.</summary>
public class RecordLimitsTests
{
    // The tester's 417 bytes: 12 format-0 signals (no stored samples) declaring 5e7 samples each. Before the check the reader
    // allocated 12 × 5e7 ints (2.4 GB) and filled them with "missing".
    private static string Format0Bomb(long samples, string format = "0") =>
        $"bomb 12 500 {samples}\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"bomb.dat {format} 200 16 0 0 0 0 L{i}\n"));

    private static (EcgFormatException Error, long Allocated) ReadMeasured(string hea, RecordReadOptions? options)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<EcgFormatException>(() => WfdbReader.Read(hea, options));
        return (e, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void AFormat0HeaderDeclaringHugeCountsIsRefusedBeforeAllocating()
    {
        using var dir = new TempDir();
        string hea = dir.Text("bomb.hea", Format0Bomb(50_000_000));
        // The command-line default refuses it too (6e8 samples > 5e8), without allocating them.
        var (cli, cliBytes) = ReadMeasured(hea, null);
        Assert.Contains("declares 50000000 samples × 12 per frame, more than the 500000000 samples", cli.Message);
        Assert.Contains("bomb.hea", cli.FilePath);
        Assert.True(cliBytes < 16 << 20, $"{cliBytes} bytes allocated");
        var upload = new RecordReadOptions { Limits = new RecordLimits { MaxSeconds = 120, MaxTotalSamples = 16_000_000, MaxSignals = 64 } };
        var (e, bytes) = ReadMeasured(hea, upload);
        Assert.Contains("100000 s", e.Message);
        Assert.Contains("longer than 120 s", e.Message);
        Assert.True(bytes < 16 << 20, $"{bytes} bytes allocated");
    }

    [Fact]
    public void SignalsRateAndTotalSamplesHaveLimits()
    {
        using var dir = new TempDir();
        var tight = new RecordReadOptions { Limits = new RecordLimits { MaxSignals = 8, MaxSamplingRate = 10_000, MaxTotalSamples = 1_000_000 } };
        Assert.Contains("12 signals; at most 8", ReadMeasured(dir.Text("a.hea", Format0Bomb(1000)), tight).Error.Message);
        var wide = new RecordReadOptions { Limits = tight.Limits with { MaxSignals = 64 } };
        string fast = dir.Text("b.hea", Format0Bomb(1000).Replace("bomb 12 500 ", "bomb 12 1e9 "));
        Assert.Contains("1000000000 Hz", ReadMeasured(fast, wide).Error.Message);
        Assert.Contains("more than the 1000000 samples", ReadMeasured(dir.Text("c.hea", Format0Bomb(100_000)), wide).Error.Message);
        // Within the limits a format-0 record reads (every sample missing).
        var ok = WfdbReader.Read(dir.Text("d.hea", Format0Bomb(1000)), wide);
        Assert.Equal(1000, ok.Samples);
        Assert.Equal(12_000, ok.MissingSamples);
    }

    [Fact]
    public void AnUndeclaredCountIsCheckedFromTheFileLength()
    {
        using var dir = new TempDir();
        // No sample count on the record line: the file's 2 × 12 × 3000 bytes decide, 3000 samples > 2000 allowed in all.
        string hea = dir.Text("u.hea", "u 12 500\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"u.dat 16 200 16 0 0 0 0 L{i}\n")));
        File.WriteAllBytes(Path.Combine(dir.Path, "u.dat"), new byte[2 * 12 * 3000]);
        var limits = new RecordReadOptions { Limits = new RecordLimits { MaxTotalSamples = 24_000 } };
        Assert.Contains("3000 samples × 12", Assert.Throws<EcgFormatException>(() => WfdbReader.Read(hea, limits)).Message);
        Assert.Equal(3000, WfdbReader.Read(hea).Samples);
    }

    [Fact]
    public void ACompressedMatV5ElementStopsInflatingAtTheLimit()
    {
        // 64 MB of zeros in one miCOMPRESSED element: about 64 kB on disk.
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
        {
            var chunk = new byte[1 << 20];
            for (int i = 0; i < 64; i++) zs.Write(chunk);
        }
        var file = new MemoryStream();
        file.Write(Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, zip bomb".PadRight(116)));
        file.Write(new byte[8]);
        file.Write([0x00, 0x01, (byte)'I', (byte)'M']);
        file.Write(BitConverter.GetBytes(15));
        file.Write(BitConverter.GetBytes((int)z.Length));
        file.Write(z.ToArray());
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "A0001.mat");
        File.WriteAllBytes(path, file.ToArray());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<EcgFormatException>(() => Cpsc2018.Read(path, new RecordReadOptions { Limits = new RecordLimits { MaxInflatedBytes = 4 << 20 } }));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 32 << 20);
        Assert.Contains("inflate to more than 4194304 bytes", e.Message);
        Assert.Equal(path, e.FilePath);
    }
}
