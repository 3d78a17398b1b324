using System.Buffers.Binary;
using Deri.Signals;

namespace Deri.Tests.Synthetic;

public class WfdbWriterTests
{
    private static string NewDir() => Directory.CreateTempSubdirectory("deri-wfdb-").FullName;

    [Fact]
    public void WritesFormat16WithGainsBaselinesChecksumsLeadNamesAndComments()
    {
        string dir = NewDir();
        try
        {
            // 3 channels × 5 samples in mV, channel-major; includes rounding both ways, a clip and a missing value.
            float[] mv = [0f, 0.005f, -0.003f, 1f, -1f, /**/ 2f, 2f, 2f, 2f, 200f, /**/ -0.5f, float.NaN, 0.1f, 0.2f, 0.3f];
            var rec = WfdbWriter.FromPhysical("rec1", mv, ["I", "aVR", "V1"], 500, 200, baseline: 10, comments: ["Age: 63", "Report: Sinus rhythm"]);
            WfdbWriter.Write(dir, rec, new DateTime(2180, 7, 23, 8, 44, 0));

            byte[] bytes = File.ReadAllBytes(Path.Combine(dir, "rec1.dat"));
            Assert.Equal(2 * 3 * 5, bytes.Length);
            var decoded = new int[3][];
            for (int c = 0; c < 3; c++)
            {
                decoded[c] = new int[5];
                for (int t = 0; t < 5; t++) decoded[c][t] = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(2 * (t * 3 + c)));
            }
            Assert.Equal([10, 11, 9, 210, -190], decoded[0]);
            Assert.Equal([410, 410, 410, 410, 32767], decoded[1]);
            Assert.Equal([-90, -32768, 30, 50, 70], decoded[2]);

            string[] lines = File.ReadAllLines(Path.Combine(dir, "rec1.hea"));
            Assert.Equal("rec1 3 500 5 08:44:00 23/07/2180", lines[0]);
            string[] names = ["I", "aVR", "V1"];
            for (int c = 0; c < 3; c++)
            {
                var f = lines[1 + c].Split(' ');
                Assert.Equal("rec1.dat", f[0]);
                Assert.Equal("16", f[1]);
                Assert.Equal("200.0(10)/mV", f[2]);
                Assert.Equal("16", f[3]);
                Assert.Equal("0", f[4]);
                Assert.Equal(decoded[c][0].ToString(), f[5]);
                Assert.Equal((short)decoded[c].Sum(), short.Parse(f[6]));
                Assert.Equal("0", f[7]);
                Assert.Equal(names[c], f[8]);
                // Physical values round-trip to within half a quantisation step.
                for (int t = 0; t < 5; t++)
                    if (decoded[c][t] is not (-32768 or 32767)) Assert.Equal(mv[c * 5 + t], (decoded[c][t] - 10) / 200.0, 0.0026);
            }
            Assert.Equal(["#Age: 63", "#Report: Sinus rhythm"], lines[4..]);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ChecksumWrapsModulo65536AsASignedValue()
    {
        Assert.Equal((short)-30536, WfdbWriter.Checksum([30000, 5000]));
        Assert.Equal((short)0, WfdbWriter.Checksum([32767, 32767, 2]));
        Assert.Equal((short)-32768, WfdbWriter.Checksum([int.MinValue]));
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        var e1 = Assert.Throws<ArgumentException>(() => WfdbWriter.FromPhysical("x", new float[7], ["I", "II"], 500, 200));
        Assert.Contains("record x", e1.Message);
        Assert.Throws<ArgumentException>(() => WfdbWriter.FromPhysical("x", new float[4], ["I", "II"], 500, 0));
        var rec = WfdbWriter.FromPhysical("y", new float[4], ["lead one", "II"], 500, 200);
        Assert.Contains("white space", Assert.Throws<InputValueException>(() => WfdbWriter.Header(rec)).Message);
    }
}
