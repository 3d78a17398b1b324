using Deri.Downstream;

namespace Deri.Tests.Downstream;

public class EmbeddingFileTests
{
    private static string TempFile(string name) =>
        Path.Combine(Path.GetTempPath(), "deri-emb-" + Guid.NewGuid().ToString("N")[..8], name);

    [Fact]
    public void RoundTripsIdsWithCommasAndQuotes()
    {
        string path = TempFile("e.csv");
        var rows = new List<EmbeddingRow>
        {
            new("a,1", "train", ["NORM"], [1.5, -2.25e-7]),
            new("b \"x\"", "test", ["AFIB", "PVC"], [0.1, double.Epsilon]),
            new("c", "val", [], [3, 4]),
        };
        EmbeddingFile.Write(path, rows);
        var back = EmbeddingFile.Read(path);
        Assert.Equal(rows.Select(r => r.Id), back.Select(r => r.Id));
        Assert.Equal(["AFIB", "PVC"], back[1].Labels);
        Assert.Empty(back[2].Labels);
        Assert.Equal(rows[0].Vector, back[0].Vector);
        Assert.Equal(rows[1].Vector, back[1].Vector);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }

    [Fact]
    public void MalformedFilesNameTheLine()
    {
        string path = TempFile("bad.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "id,split,labels,e0,e1\nr1,train,NORM,1,2\nr2,train,NORM,1\n");
        Assert.Contains("bad.csv:3: 4 fields", Assert.Throws<InputFormatException>(() => EmbeddingFile.Read(path)).Message);
        File.WriteAllText(path, "id,split,labels,e0\nr1,train,NORM,NaN\n");
        Assert.Contains("bad.csv:2: column e0 is 'NaN'", Assert.Throws<InputFormatException>(() => EmbeddingFile.Read(path)).Message);
        File.WriteAllText(path, "x,y\n1,2\n");
        Assert.Contains("deri embed", Assert.Throws<InputFormatException>(() => EmbeddingFile.Read(path)).Message);
        Directory.Delete(Path.GetDirectoryName(path)!, true);
        Assert.Throws<InputFileNotFoundException>(() => EmbeddingFile.Read(path));
    }

    [Fact]
    public void TsneSelectionColoursByTheFirstListedLargeClass()
    {
        var rows = new List<EmbeddingRow>
        {
            new("1", "test", ["A"], [0]), new("2", "test", ["A"], [0]), new("3", "test", ["A"], [0]),
            new("4", "test", ["B"], [0]), new("5", "test", ["B"], [0]),
            new("6", "test", ["C"], [0]),                       // C is the third class: left out with --classes 2
            new("7", "test", ["C", "B", "A"], [0]),             // multi-label: first listed among {A, B} is B
            new("8", "test", [], [0]),                          // unlabelled: left out
        };
        var (kept, colour, classes) = TsneMap.Select(rows, 2, "test");
        Assert.Equal(["1", "2", "3", "4", "5", "7"], kept.Select(r => r.Id).ToArray());
        Assert.Equal(["A", "A", "A", "B", "B", "B"], colour.ToArray());
        Assert.Equal([("A", 3), ("B", 3)], classes.ToArray());
        Assert.Contains("no record has a label",
            Assert.Throws<InputFormatException>(() => TsneMap.Select([new("x", "test", [], [0])], 2, "f.csv")).Message);
    }
}
