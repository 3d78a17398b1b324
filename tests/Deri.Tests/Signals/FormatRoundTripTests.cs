using Deri.Signals;

namespace Deri.Tests.Signals;

/// <summary>
/// Every signal format decoded from byte arrays written by hand (the encodings worked out in the comments),
/// plus interleaving, several files per record, byte offsets, skew and several samples per frame.
/// </summary>
public class FormatRoundTripTests
{
    private const int Missing = int.MinValue;

    /// <summary>Writes a one-signal record <c>r</c> of the given format and bytes, reads it back.</summary>
    private static EcgRecord ReadOne(int format, byte[] bytes, int samples, string extraFields = "100(0)/mV 0 0 0")
    {
        using var dir = new TempDir();
        dir.Bytes("r.dat", bytes);
        string hea = dir.Text("r.hea", $"r 1 100 {samples}\nr.dat {format} {extraFields} 0 0 X\n");
        return RecordReader.Read(hea);
    }

    public static TheoryData<int, byte[], int[]> Formats => new()
    {
        // 16: little-endian int16. 1000 = 0x03E8, -2 = 0xFFFE, -32768 = 0x8000 is the invalid value.
        { 16, [0xE8, 0x03, 0xFE, 0xFF, 0x00, 0x80], [1000, -2, Missing] },
        // 61: big-endian int16.
        { 61, [0x03, 0xE8, 0xFF, 0xFE, 0x80, 0x00], [1000, -2, Missing] },
        // 160: unsigned 16-bit offset by 32768: 0 -> 0x8000, -1 -> 0x7FFF, 1000 -> 0x83E8, 0x0000 -> -32768 (invalid).
        { 160, [0x00, 0x80, 0xFF, 0x7F, 0xE8, 0x83, 0x00, 0x00], [0, -1, 1000, Missing] },
        // 24: little-endian int24. 1 -> 01 00 00, -2 -> FE FF FF, 0x123456 = 1193046, -8388608 = 0x800000 invalid.
        { 24, [0x01, 0x00, 0x00, 0xFE, 0xFF, 0xFF, 0x56, 0x34, 0x12, 0x00, 0x00, 0x80], [1, -2, 1193046, Missing] },
        // 32: little-endian int32. 0x12345678 = 305419896; int.MinValue is the invalid value.
        { 32, [0x01, 0x00, 0x00, 0x00, 0xFE, 0xFF, 0xFF, 0xFF, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x80], [1, -2, 305419896, Missing] },
        // 80: unsigned byte offset by 128: 0x7F -> -1, 0x80 -> 0, 0xFF -> 127, 0x00 -> -128 (invalid).
        { 80, [0x7F, 0x80, 0xFF, 0x00], [-1, 0, 127, Missing] },
        // 212: 1000 = 0x3E8 and -1000 = 0xC18 (12-bit) pack as E8, (C<<4 | 3) = C3, 18; a lone -2048 = 0x800 as 00 08.
        { 212, [0xE8, 0xC3, 0x18, 0x00, 0x08], [1000, -1000, Missing] },
        // 310: 100, -3 (0x3FD), -512 (0x200, invalid). Word 0 holds 100 in bits 1-10: C8 00; word 1 holds 0x3FD: FA 07;
        // the third sample's low 5 bits (0) go to bits 11-15 of word 0, its high 5 bits (16) to bits 11-15 of word 1: 07 | 0x80.
        { 310, [0xC8, 0x00, 0xFA, 0x87], [100, -3, Missing] },
        // 311: 100, -3 (0x3FD), 511 (0x1FF) in 10-bit fields of a little-endian 32-bit word: 64, (0x3D<<2)=F4, (0xF<<4 | 0xF)=FF, 0x1F.
        { 311, [0x64, 0xF4, 0xFF, 0x1F], [100, -3, 511] },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void DecodesHandMadeBytes(int format, byte[] bytes, int[] expected)
    {
        var r = ReadOne(format, bytes, expected.Length);
        Assert.Equal(expected, r.Digital[0]);
        Assert.Equal(expected.Count(v => v == Missing), r.MissingSamples);
        // The checksum is over the stored values, invalid ones included.
        int invalid = WfdbFormats.InvalidValue(format) ?? 0;
        int sum = expected.Sum(v => v == Missing ? invalid : v);
        Assert.Equal(sum & 0xFFFF, r.ComputedChecksums![0]);
        Assert.Equal(expected.Length, WfdbFormats.SamplesIn(format, bytes.Length));
        Assert.Equal(bytes.Length, WfdbFormats.BytesFor(format, expected.Length));
        if (expected[0] != Missing) Assert.Equal(expected[0] / 100.0, r.Physical(0, 0), 12);
        if (expected[^1] == Missing) Assert.True(double.IsNaN(r.Physical(0, expected.Length - 1)));
    }

    [Fact]
    public void Format8IntegratesFirstDifferencesFromTheInitialValue()
    {
        // Differences +5, -3, +127 from the initial value 10: 15, 12, 139.
        var r = ReadOne(8, [0x05, 0xFD, 0x7F], 3, "100 8 0 10");
        Assert.Equal([15, 12, 139], r.Digital[0]);
        Assert.Equal(0.15, r.Physical(0, 0), 12);
    }

    [Fact]
    public void SeveralFilesInterleavingOffsetAndChecksums()
    {
        using var dir = new TempDir();
        // File a: 4 bytes of preamble, then frames (A, B) = (1, 2), (3, 4), (5, 6) as int16.
        dir.Bytes("m_a.dat", [(byte)'J', (byte)'U', (byte)'N', (byte)'K', 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]);
        // File b, format 212: 7, 8 pack as 07, 00, 08; a lone 9 as 09 00.
        dir.Bytes("m_b.dat", [0x07, 0x00, 0x08, 0x09, 0x00]);
        string hea = dir.Text("m.hea",
            "m 3 100 3\n" +
            "m_a.dat 16+4 100(2)/mV 16 0 1 9 0 A\n" +
            "m_a.dat 16+4 100/uV 16 0 2 12 0 B\n" +
            "m_b.dat 212 50 12 0 7 25 0 C\n");
        var r = RecordReader.Read(hea);
        Assert.Equal([1, 3, 5], r.Digital[0]);
        Assert.Equal([2, 4, 6], r.Digital[1]);
        Assert.Equal([7, 8, 9], r.Digital[2]);
        Assert.Equal(-0.01, r.Physical(0, 0), 12);
        Assert.Equal("uV", r.Units[1]);
        Assert.Equal(0.14, r.Physical(2, 0), 12);
        Assert.Equal([true, true, false], Enumerable.Range(0, 3).Select(c => r.ChecksumMatches(c) == true));
        Assert.Equal([2], r.ChecksumMismatches());
        var e = Assert.Throws<EcgFormatException>(() => RecordReader.Read(hea, new RecordReadOptions { VerifyChecksums = true }));
        Assert.Contains("checksum mismatch in signal(s) 2 (C: declared 25, computed 24)", e.Message);
        Assert.Contains("m.hea", e.Message);
    }

    [Fact]
    public void SkewAndSamplesPerFrame()
    {
        using var dir = new TempDir();
        // Frame = [S1 first, S1 second, S2]; S2 is skewed by one frame.
        short[] frames = [10, 20, 100, 30, 50, 200, 60, 60, 300, 0, 0, 400];
        dir.Bytes("s.dat", frames.SelectMany(v => BitConverter.GetBytes(v)).ToArray());
        string hea = dir.Text("s.hea", "s 2 10 3\ns.dat 16x2 100 16 0 0 230 0 S1\ns.dat 16:1 100 16 0 0 900 0 S2\n");
        var r = RecordReader.Read(hea);
        Assert.Equal([15, 40, 60], r.Digital[0]);
        Assert.Equal([200, 300, 400], r.Digital[1]);
        Assert.Empty(r.ChecksumMismatches());

        // Without the fourth frame the skewed signal's last sample is missing.
        dir.Bytes("s.dat", frames.Take(9).SelectMany(v => BitConverter.GetBytes(v)).ToArray());
        var r2 = RecordReader.Read(hea);
        Assert.Equal([200, 300, Missing], r2.Digital[1]);
        Assert.Equal(1, r2.MissingSamples);
    }

    [Fact]
    public void SampleCountFromFileSizeWhenHeaderOmitsIt()
    {
        using var dir = new TempDir();
        dir.Bytes("n.dat", [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]);
        string hea = dir.Text("n.hea", "n 2\nn.dat 16\nn.dat 16\n");
        var r = RecordReader.Read(hea);
        Assert.Equal(250, r.SamplingRate);
        Assert.Equal(3, r.Samples);
        Assert.Equal([2, 4, 6], r.Digital[1]);
        Assert.Equal(200, r.Gain[0]);
        Assert.Equal("record n, signal 1", r.Leads[1]);
        Assert.Null(r.ChecksumMatches(0));
    }

    [Fact]
    public void FastFloatPathHonoursBaselineGainAndMissing()
    {
        using var dir = new TempDir();
        dir.Bytes("f.dat", [0xE8, 0x03, 0x0A, 0x00, 0x00, 0x80, 0x14, 0x00]);
        string hea = dir.Text("f.hea", "f 2 100 2\nf.dat 16 200(-200)/mV 16 0 0 0 0 A\nf.dat 16 10/mV 16 0 0 0 0 B\n");
        var buffer = new float[4];
        var info = RecordReader.ReadPhysical(hea, [1, 0], buffer);
        Assert.Equal(2, info.Samples);
        Assert.Equal([1f, 2f, 6f, float.NaN], buffer);
    }

    [Fact]
    public void Format0SignalsHaveNoStoredSamples()
    {
        using var dir = new TempDir();
        dir.Bytes("z.dat", [1, 0, 2, 0, 3, 0]);
        string hea = dir.Text("z.hea", "z 2 100\n~ 0 100 16 0 0 0 0 absent\nz.dat 16 100 16 0 1 6 0 present\n");
        var r = RecordReader.Read(hea);
        Assert.Equal(3, r.Samples);
        Assert.Equal([Missing, Missing, Missing], r.Digital[0]);
        Assert.Equal([1, 2, 3], r.Digital[1]);
        Assert.Equal(3, r.MissingSamples);
        Assert.Empty(r.ChecksumMismatches());
        Assert.True(r.ChecksumMatches(1));
    }
}
