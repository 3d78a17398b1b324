using System.Diagnostics;
using Deri.Signals;

namespace Deri.Tests.Signals;

/// <summary>
/// A header decides which files the reader opens: the signal file must lie inside the record's folder and be a
/// regular file, and a WFDB <c>.mat</c> file must carry a valid MAT v4 matrix header consistent with the file.
/// </summary>
public class IntegrityTests
{
    private static string Ptb(string ext) => SignalData.File("ptbxl", "records100", "00000", "00001_lr" + ext);

    /// <summary>Reads under a timeout, so a reader that blocks (on a FIFO) fails the test instead of hanging it.</summary>
    private static EcgFormatException FailsPromptly(Func<object> read)
    {
        var task = Task.Run(read);
        if (Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20))).Result != task) Assert.Fail("the reader blocked");
        Assert.True(task.IsFaulted, "the read succeeded");
        return Assert.IsType<EcgFormatException>(task.Exception!.InnerException);
    }

    private static EcgFormatException ReadFails(string path) => FailsPromptly(() => RecordReader.Read(path));

    [Fact]
    public void SignalFileMustResolveInsideTheRecordFolder()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["a/b"]);
        File.Copy(Ptb(".dat"), dir["x.dat"]);
        string header = File.ReadAllText(Ptb(".hea")).Replace("00001_lr.dat", "../../x.dat");
        string hea = dir.Text("a/b/00001_lr.hea", header);
        var e = ReadFails(hea);
        Assert.Equal(hea, e.FilePath);
        Assert.Contains("signal file '../../x.dat' resolves to " + dir["x.dat"] + ", outside the record's folder", e.Message);
        // The fast float path refuses it too, and so does an absolute path.
        Assert.Contains("outside the record's folder", FailsPromptly(() => RecordReader.ReadModelLeads(hea, new float[12 * 1000])).Message);
        string abs = dir.Text("a/b/abs.hea", header.Replace("../../x.dat", dir["x.dat"]));
        Assert.Contains("outside the record's folder", ReadFails(abs).Message);
        // A sub-folder of the record's folder is inside it.
        Directory.CreateDirectory(dir["a/b/sig"]);
        File.Copy(Ptb(".dat"), dir["a/b/sig/x.dat"]);
        string sub = dir.Text("a/b/sub.hea", header.Replace("../../x.dat", "sig/x.dat"));
        Assert.Equal(1000, RecordReader.Read(sub).Samples);
    }

    [Fact]
    public void SignalFileThatIsADirectoryIsNamedAsSuch()
    {
        using var dir = new TempDir();
        string hea = dir.Copy(Ptb(".hea"));
        Directory.CreateDirectory(dir["00001_lr.dat"]);
        var e = ReadFails(hea);
        Assert.Equal(dir["00001_lr.dat"], e.FilePath);
        Assert.Contains("signal file is a directory, not a file (named in header", e.Message);
        Assert.DoesNotContain("denied", e.Message);
    }

    [Fact]
    public void FifoAndDeviceSignalFilesAreRefusedWithoutBlocking()
    {
        using var dir = new TempDir();
        string hea = dir.Copy(Ptb(".hea"));
        using (var mk = Process.Start("mkfifo", dir["00001_lr.dat"])) mk.WaitForExit();
        var e = ReadFails(hea);
        Assert.Contains("signal file is a FIFO (named pipe), not a regular file", e.Message);
        Assert.Contains("FIFO", FailsPromptly(() => RecordReader.ReadModelLeads(hea, new float[12 * 1000])).Message);

        File.Delete(dir["00001_lr.dat"]);
        File.CreateSymbolicLink(dir["00001_lr.dat"], "/dev/zero");
        Assert.Contains("signal file is a character device, not a regular file", ReadFails(hea).Message);

        // A header or a CPSC .mat that is a FIFO does not block either.
        using (var mk = Process.Start("mkfifo", dir["h.hea"])) mk.WaitForExit();
        Assert.Contains("header file is a FIFO", ReadFails(dir["h.hea"]).Message);
        using (var mk = Process.Start("mkfifo", dir["c.mat"])) mk.WaitForExit();
        Assert.Contains("file is a FIFO", ReadFails(dir["c.mat"]).Message);
    }

    private static (string Hea, string Mat) CincCopy(TempDir dir)
    {
        string src = SignalData.File("cinc2021", "E07500");
        return (dir.Copy(src + ".hea"), dir.Copy(src + ".mat"));
    }

    private static void Patch(string path, int offset, int value)
    {
        var b = File.ReadAllBytes(path);
        BitConverter.TryWriteBytes(b.AsSpan(offset, 4), value);
        File.WriteAllBytes(path, b);
    }

    [Fact]
    public void MatV4HeaderWithAbsurdColumnCountIsRejected()
    {
        using var dir = new TempDir();
        var (hea, mat) = CincCopy(dir);
        Patch(mat, 8, int.MaxValue);
        var e = ReadFails(hea);
        Assert.Equal(mat, e.FilePath);
        Assert.Contains("MAT v4 matrix of 12×2147483647 2-byte values needs 51539607552 bytes in all, but the file has 120024 bytes", e.Message);
        Assert.Contains("needs 51539607552 bytes", FailsPromptly(() => RecordReader.ReadModelLeads(hea, new float[12 * 5000])).Message);
    }

    [Fact]
    public void MatV4HeaderWithInvalidTypeCodeIsRejected()
    {
        using var dir = new TempDir();
        var (hea, mat) = CincCopy(dir);
        Patch(mat, 0, 9999);
        Assert.Contains("E07500.mat: MAT v4 matrix type 9999 is not a valid MOPT code", ReadFails(hea).Message);
        Patch(mat, 0, 31); // int16 text matrix
        Assert.Contains("MAT v4 matrix type 31 is a text matrix", ReadFails(hea).Message);
        Patch(mat, 0, 0); // doubles: 8-byte values where format 16 stores 2
        Assert.Contains("MAT v4 matrix holds 8-byte values (type 0) but signal format 16 stores 2-byte samples", ReadFails(hea).Message);
        Patch(mat, 0, 30);
        Patch(mat, 12, 1);
        Assert.Contains("MAT v4 matrix has an imaginary part", ReadFails(hea).Message);
    }

    [Fact]
    public void RandomBytesOfTheRightSizeAreNotAMatV4File()
    {
        using var dir = new TempDir();
        var (hea, mat) = CincCopy(dir);
        var rng = new Random(2024);
        for (int i = 0; i < 20; i++)
        {
            var bytes = new byte[new FileInfo(SignalData.File("cinc2021", "E07500.mat")).Length];
            rng.NextBytes(bytes);
            File.WriteAllBytes(mat, bytes);
            var e = ReadFails(hea);
            Assert.Equal(mat, e.FilePath);
            Assert.Contains("MAT v4", e.Message);
        }
    }

    [Fact]
    public void ValidMatV4FilesStillRead()
    {
        foreach (var hea in Directory.GetFiles(SignalData.File("cinc2021"), "*.hea").Take(5)
                     .Append(SignalData.File("csn-original", "JS00001.hea")).Append(SignalData.File("wfdb-samples", "a103l.hea")))
        {
            var r = RecordReader.Read(hea, new RecordReadOptions { VerifyChecksums = true });
            Assert.True(r.Samples > 0);
        }
    }
}
