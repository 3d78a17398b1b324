using System.IO.Compression;
using System.Text;
using Deri.Serving;
using Deri.Signals;

namespace Deri.Tests.Serving;

/// <summary>Upload reading without a model: declared sizes against <see cref="UploadLimits"/>, fractional rates, upload folders.</summary>
public class UploadReaderTests
{
    private static readonly UploadLimits Limits = new();

    private static UploadedFile File(string name, string text) => new(name, Encoding.ASCII.GetBytes(text));

    private static BadUploadException Refused(IReadOnlyList<UploadedFile> files, string? rate = null, UploadLimits? limits = null)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<BadUploadException>(() => UploadReader.Read(files, rate, limits ?? Limits));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 << 20, $"{allocated} bytes allocated refusing {string.Join(", ", files.Select(f => f.Name))}");
        return e;
    }

    private static string Csv(int columns, int rows)
    {
        var sb = new StringBuilder(string.Join(',', LeadOrder.Model.Concat(Enumerable.Range(0, columns - 12).Select(i => $"x{i}")))).Append('\n');
        string row = string.Join(',', Enumerable.Range(0, columns).Select(k => (0.1 * (k % 5)).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        for (int t = 0; t < rows; t++) sb.Append(row).Append('\n');
        return sb.ToString();
    }

    [Fact]
    public void TheFormat0HeaderOf417BytesIsA422WithoutAllocatingItsSamples()
    {
        string hea = "bomb 12 500 50000000\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"bomb.dat 0 200 16 0 0 0 0 {LeadOrder.Model[i]}\n"));
        var e = Refused([File("bomb.hea", hea), new UploadedFile("bomb.dat", [0, 0])]);
        Assert.Equal(422, e.Status);
        Assert.Contains("bomb.hea", e.Message);
        Assert.Contains("longer than 120 s", e.Message);
        // Any format: a format-16 header declaring the same is refused before its (absent) data is looked at.
        var e16 = Refused([File("bomb.hea", hea.Replace(".dat 0 ", ".dat 16 ")), new UploadedFile("bomb.dat", [0, 0])]);
        Assert.Equal(422, e16.Status);
        var wide = Refused([File("w.hea", "w 100 500 1000\n" + string.Concat(Enumerable.Range(0, 100).Select(i => $"w.dat 0 200 16 0 0 0 0 s{i}\n"))), new UploadedFile("w.dat", [0])]);
        Assert.Contains("100 signals; at most 64", wide.Message);
    }

    [Fact]
    public void CsvColumnsRowsAndRatesAreCheckedBeforeTheSamplesAreAllocated()
    {
        var columns = Refused([File("wide.csv", string.Join(',', Enumerable.Range(0, 100_000).Select(i => $"c{i}")) + "\n0\n")], "500");
        Assert.Equal(422, columns.Status);
        Assert.Contains("100000 columns; at most 64", columns.Message);
        var rows = Refused([File("long.csv", Csv(12, 130 * 50))], "50");
        Assert.Contains("longer than 120 s", rows.Message);
        Assert.Equal(400, Refused([File("ecg.csv", Csv(12, 1000))], "fast").Status);
        Assert.Equal(400, Refused([File("ecg.csv", Csv(12, 1000))], "20000").Status);
        // A fractional rate is a rate.
        var ok = UploadReader.Read([File("ecg.csv", Csv(12, 1000))], "499.5", Limits);
        Assert.Equal(499.5, ok.SamplingRate);
        Assert.Equal(1000, ok.Samples);
    }

    [Fact]
    public void AFractionalWfdbRateIsRead()
    {
        var values = new float[12 * 2000];
        for (int i = 0; i < values.Length; i++) values[i] = (float)Math.Sin(i * 0.01);
        var record = WfdbWriter.FromPhysical("frac", values, LeadOrder.Model, 499.5, gain: 1000);
        var r = UploadReader.Read([File("frac.hea", WfdbWriter.Header(record)), new UploadedFile("frac.dat", WfdbWriter.EncodeFormat16(record))], null, Limits);
        Assert.Equal(499.5, r.SamplingRate);
        Assert.Equal(2000, r.Samples);
        var slow = WfdbWriter.FromPhysical("slow", values, LeadOrder.Model, 10, gain: 1000);
        var e = Refused([File("slow.hea", WfdbWriter.Header(slow)), new UploadedFile("slow.dat", WfdbWriter.EncodeFormat16(slow))]);
        Assert.Equal(422, e.Status);
    }

    [Fact]
    public void AZipEntryDeclaringMoreThanTheLimitIsRefusedBeforeInflating()
    {
        using var m = new MemoryStream();
        using (var z = new ZipArchive(m, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var s = z.CreateEntry("x.dat", CompressionLevel.Optimal).Open();
            s.Write(new byte[3 << 20]);
        }
        var e = Refused([new UploadedFile("bomb.zip", m.ToArray())], null, Limits with { MaxBytes = 1 << 20 });
        Assert.Equal(413, e.Status);
        Assert.Contains("declares 3145728 bytes", e.Message);
    }

    [Fact]
    public void UploadFoldersAreDeletedAndStaleOnesRemoved()
    {
        // A refused record's folder (it holds the header as uploadcheck.hea) is gone when the refusal comes back.
        string bad = "uploadcheck 12 500 1000\n" + string.Concat(Enumerable.Range(0, 12).Select(i => $"uploadcheck.dat 16 200 16 0 0 0 0 {LeadOrder.Model[i]}\n"));
        Assert.Contains("truncated", Refused([File("uploadcheck.hea", bad), new UploadedFile("uploadcheck.dat", new byte[100])]).Message);
        Assert.DoesNotContain(Directory.EnumerateDirectories(Path.GetTempPath(), UploadFolders.Prefix + "*"),
            d => System.IO.File.Exists(Path.Combine(d, "uploadcheck.hea")));

        string temp = Path.Combine(Path.GetTempPath(), "deri-stale-" + Guid.NewGuid().ToString("N"));
        try
        {
            string old = Directory.CreateDirectory(Path.Combine(temp, UploadFolders.Prefix + "old")).FullName;
            System.IO.File.WriteAllText(Path.Combine(old, "r.hea"), "r 12 500\n");
            Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-1));
            string fresh = Directory.CreateDirectory(Path.Combine(temp, UploadFolders.Prefix + "fresh")).FullName;
            string other = Directory.CreateDirectory(Path.Combine(temp, "other-old")).FullName;
            Directory.SetLastWriteTimeUtc(other, DateTime.UtcNow.AddHours(-1));
            Assert.Equal(1, UploadFolders.RemoveStale(TimeSpan.FromMinutes(10), temp));
            Assert.False(Directory.Exists(old));
            Assert.True(Directory.Exists(fresh));
            Assert.True(Directory.Exists(other));
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
