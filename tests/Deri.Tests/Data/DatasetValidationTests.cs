using Deri.Data.Datasets;
using Deri.Data.Store;

namespace Deri.Tests.Data;

/// <summary>Bad metadata is refused while listing, before any record is preprocessed, with the file and line named.</summary>
public class DatasetValidationTests
{
    private const string PtbHeader = "ecg_id,patient_id,strat_fold,filename_lr,filename_hr,report,scp_codes";

    /// <summary>A PTB-XL root whose <c>ptbxl_database.csv</c> is <paramref name="rows"/> (under <see cref="PtbHeader"/>).</summary>
    private static string PtbXlRoot(TempDir dir, params string[] rows)
    {
        string root = Path.Combine(dir.Path, "ptbxl");
        dir.File("ptbxl/ptbxl_database.csv", string.Join("\n", [PtbHeader, .. rows]) + "\n");
        File.Copy(DataFiles.Shared("ptbxl", "scp_statements.csv"), Path.Combine(root, "scp_statements.csv"));
        return root;
    }

    private const string Norm = "\"{'NORM': 100.0, 'SR': 0.0}\"";

    [Fact]
    public void DuplicateEcgIdsAreAnErrorNamingBothLines()
    {
        using var dir = new TempDir();
        string root = PtbXlRoot(dir,
            $"1,10.0,1,records100/00000/00001_lr,records500/00000/00001_hr,a,{Norm}",
            $"2,11.0,1,records100/00000/00002_lr,records500/00000/00002_hr,b,{Norm}",
            $"1.0,12.0,2,records100/00000/00003_lr,records500/00000/00003_hr,c,{Norm}");
        var ex = Assert.Throws<InputFormatException>(() => PtbXlDataset.Load(root));
        Assert.Contains(Path.Combine(root, "ptbxl_database.csv") + ": line 4: ecg_id 1 is already used on line 2", ex.Message);
    }

    [Fact]
    public void ANonIntegerEcgIdIsAnError()
    {
        using var dir = new TempDir();
        string root = PtbXlRoot(dir,
            $"1,10.0,1,records100/00000/00001_lr,records500/00000/00001_hr,a,{Norm}",
            $"abc,11.0,1,records100/00000/00002_lr,records500/00000/00002_hr,b,{Norm}");
        var ex = Assert.Throws<InputFormatException>(() => PtbXlDataset.Load(root, new PtbXlOptions { Task = PtbXlTask.None }));
        Assert.Contains("ptbxl_database.csv: line 3: ecg_id 'abc' is not an integer", ex.Message);
    }

    [Fact]
    public void ARaggedRowIsReportedAsRaggedNotAsBadScpCodes()
    {
        using var dir = new TempDir();
        // The report's unquoted comma gives the second row 8 fields.
        string root = PtbXlRoot(dir,
            $"1,10.0,1,records100/00000/00001_lr,records500/00000/00001_hr,a,{Norm}",
            $"2,11.0,1,records100/00000/00002_lr,records500/00000/00002_hr,sinus rhythm, normal,{Norm}");
        var ex = Assert.Throws<InputFormatException>(() => PtbXlDataset.Load(root));
        Assert.Contains("ptbxl_database.csv: line 3: ragged row: 8 fields, the header has 7", ex.Message);
        Assert.DoesNotContain("scp_codes", ex.Message);
        // A short row is as ragged as a long one.
        File.WriteAllText(Path.Combine(root, "ptbxl_database.csv"), $"{PtbHeader}\n1,10.0,1,records100/00000/00001_lr\n");
        ex = Assert.Throws<InputFormatException>(() => PtbXlDataset.Load(root));
        Assert.Contains("line 2: ragged row: 4 fields, the header has 7", ex.Message);
    }

    [Fact]
    public void CsvLinesCountQuotedLineBreaks()
    {
        using var dir = new TempDir();
        string path = dir.File("t.csv", "a,b\n1,\"two\nlines\"\n\n3,x\n");
        var t = CsvTable.Read(path);
        Assert.Equal([2, 5], t.Lines);
        Assert.Equal(path + ": line 5", t.At(1));
    }

    [Fact]
    public void HeaderOnlyMetadataIsAnError()
    {
        using var dir = new TempDir();
        string root = PtbXlRoot(dir);
        var ex = Assert.Throws<InputFormatException>(() => PtbXlDataset.Load(root));
        Assert.Contains("ptbxl_database.csv: no records (the file holds only a header)", ex.Message);
        dir.File("generic/records.csv", "record,report\n");
        ex = Assert.Throws<InputFormatException>(() => GenericDataset.Load(Path.Combine(dir.Path, "generic")));
        Assert.Contains("records.csv: no records", ex.Message);
    }

    /// <summary>
    /// The first rows of the shared <c>ptbxl-zscore</c> metadata: rows 2 and 6 have neither report nor
    /// <c>scp_codes</c>, as about half of that file does. Its records exist at 100 Hz only.
    /// </summary>
    private static string ZscoreRoot(TempDir dir)
    {
        string root = Path.Combine(dir.Path, "zscore");
        var lines = File.ReadLines(DataFiles.Shared("ptbxl-zscore", "ptbxl_database.csv")).Take(6).ToList();
        Assert.Equal(PtbHeader, lines[0]);
        Assert.EndsWith(",,,", lines[1]);
        dir.File("zscore/ptbxl_database.csv", string.Join("\n", lines) + "\n");
        File.Copy(DataFiles.Shared("ptbxl", "scp_statements.csv"), Path.Combine(root, "scp_statements.csv"));
        Directory.CreateSymbolicLink(Path.Combine(root, "records100"), DataFiles.Shared("ptbxl-zscore", "records100"));
        return root;
    }

    [Fact]
    public void RowsWithoutScpCodesOrReportAreKeptForEcgOnlyUseOrListedAsSkipped()
    {
        using var dir = new TempDir();
        string root = ZscoreRoot(dir);
        // Without labels every record is kept; the two without a report are listed as such.
        var all = PtbXlDataset.Load(root, new PtbXlOptions { Task = PtbXlTask.None, Rate = 100 });
        Assert.Equal(5, all.Entries.Count);
        Assert.Equal(["10000", "1005"], all.Unreported().Select(e => e.Id));
        var reportsOnly = all.WithReportsOnly();
        Assert.Equal(3, reportsOnly.Entries.Count);
        Assert.Equal([("10000", "no report"), ("1005", "no report")], reportsOnly.Skipped.Select(s => (s.Id, s.Reason)));
        // A labelled task cannot use a row without scp_codes: it is left out with its reason, not fatal.
        var super = PtbXlDataset.Load(root, new PtbXlOptions { Task = PtbXlTask.Super, Rate = 100 });
        Assert.Equal(3, super.Entries.Count);
        Assert.Contains(super.Skipped, s => s.Id == "10000" && s.Reason == "no scp_codes, so no labels");
        // At 500 Hz there is no record to read: every row is left out, naming the empty column.
        var at500 = PtbXlDataset.Load(root, new PtbXlOptions { Task = PtbXlTask.None });
        Assert.Empty(at500.Entries);
        Assert.All(at500.Skipped, s => Assert.StartsWith("filename_hr is empty", s.Reason));
        var ex = Assert.Throws<InputFormatException>(() => EcgStoreBuilder.Build(at500, Path.Combine(dir.Path, "store")));
        Assert.Contains("nothing to prepare: all 5 listed rows were left out, e.g. 10000: filename_hr is empty", ex.Message);
    }

    [Theory]
    [InlineData("1-8/8/9", "fold 8 is in both train and val")]
    [InlineData("9-1/8/10", "range '9-1' is reversed")]
    [InlineData("1-5,5/8/9", "fold 5 is listed twice in train")]
    [InlineData("1-7/8", "must be TRAIN/VAL/TEST")]
    [InlineData("0-7/8/9", "'0-7' is not a fold")]
    public void OverlappingOrReversedFoldsAreRefused(string folds, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => PtbXlDataset.ParseFolds(folds));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void FoldsParseAndOverlappingOptionsAreRefusedByTheListingToo()
    {
        var (train, val, test) = PtbXlDataset.ParseFolds("1-6,8/7/9");
        Assert.Equal([1, 2, 3, 4, 5, 6, 8], train);
        Assert.Equal([7], val);
        Assert.Equal([9], test);
        Assert.Empty(PtbXlDataset.ParseFolds("1-8//9").Val);
        var ex = Assert.Throws<ArgumentException>(() =>
            PtbXlDataset.Load(DataFiles.Shared("ptbxl"), new PtbXlOptions { TrainFolds = [1, 2], ValFolds = [2], TestFolds = [9] }));
        Assert.Contains("fold 2 is in both train and val", ex.Message);
    }

    [Fact]
    public void EmptySplitsAreNamedWithTheirSource()
    {
        // The shared PTB-XL subset has folds 1–9 only: the default test fold 10 is empty.
        var ds = PtbXlDataset.Load(DataFiles.Shared("ptbxl"), new PtbXlOptions { Task = PtbXlTask.None });
        Assert.Equal(["ptbxl: the test split is empty (no listed record in strat_fold 10)"], ds.EmptySplitWarnings());
        var custom = PtbXlDataset.Load(DataFiles.Shared("ptbxl"), new PtbXlOptions { Task = PtbXlTask.None, TrainFolds = [1, 2, 3, 4, 5, 6, 7], ValFolds = [8], TestFolds = [9] });
        Assert.Empty(custom.EmptySplitWarnings());
        // A split given no folds was asked to be empty: no warning.
        var noTest = PtbXlDataset.Load(DataFiles.Shared("ptbxl"), new PtbXlOptions { Task = PtbXlTask.None, ValFolds = [9], TestFolds = [] });
        Assert.Empty(noTest.EmptySplitWarnings());
    }

    [Fact]
    public void GenericCsvDuplicateRecordsAreAnErrorAndEmptyReportsAreListed()
    {
        using var dir = new TempDir();
        string rec = DataFiles.Shared("ptbxl", "records500", "00000", "00001_hr");
        dir.File("records.csv", $"record,report,split\n{rec},normal ecg,train\n{rec}.hea,sinus rhythm,val\n");
        var ex = Assert.Throws<InputFormatException>(() => GenericDataset.Load(dir.Path));
        Assert.Contains("records.csv: line 3: record " + rec + ".hea is already listed on line 2", ex.Message);

        string other = DataFiles.Shared("ptbxl", "records500", "00000", "00002_hr");
        dir.File("records.csv", $"record,report,split\n{rec},normal ecg,train\n{other}, ,val\n");
        var ds = GenericDataset.Load(dir.Path);
        Assert.Equal(2, ds.Entries.Count);
        Assert.Equal([other], ds.Unreported().Select(e => e.Id));
        // A CSV with a split column is expected to fill all three splits.
        Assert.Equal(["generic: the test split is empty (no listed record in the split column)"], ds.EmptySplitWarnings());
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("10")]
    [InlineData("0")]
    [InlineData("af")]
    public void CpscLabelsMustBeIntegerClassNumbers(string label)
    {
        using var dir = new TempDir();
        File.Copy(DataFiles.Shared("cpsc2018", "A1980.mat"), Path.Combine(dir.Path, "A1980.mat"));
        File.Copy(DataFiles.Shared("cpsc2018", "A1981.mat"), Path.Combine(dir.Path, "A1981.mat"));
        dir.File("REFERENCE.csv", $"Recording,First_label,Second_label,Third_label\nA1980,7.0,,\nA1981,{label},,\n");
        var ex = Assert.Throws<InputFormatException>(() => Cpsc2018Dataset.Load(dir.Path));
        Assert.Contains($"REFERENCE.csv: line 3: record A1981: label '{label}' is not a class number 1–9", ex.Message);
        // "7.0" (pandas' spelling of a column with blanks) is class 7.
        dir.File("REFERENCE.csv", "Recording,First_label,Second_label,Third_label\nA1980,7.0,,\nA1981,1,2,\n");
        var ds = Cpsc2018Dataset.Load(dir.Path);
        Assert.Equal(1, ds.Entries.Single(e => e.Id == "A1980").Labels.Sum());
        Assert.Equal(2, ds.Entries.Single(e => e.Id == "A1981").Labels.Sum());
    }

    [Fact]
    public void CpscDuplicateRecordingsAreAnError()
    {
        using var dir = new TempDir();
        dir.File("REFERENCE.csv", "Recording,First_label\nA1980,7\nA1980,1\n");
        var ex = Assert.Throws<InputFormatException>(() => Cpsc2018Dataset.Load(dir.Path));
        Assert.Contains("REFERENCE.csv: line 3: record A1980 is already listed on line 2", ex.Message);
    }

    [Fact]
    public void StoresListTheirRecordsWithoutAReport()
    {
        using var dir = new TempDir();
        var ds = PtbXlDataset.Load(ZscoreRoot(dir), new PtbXlOptions { Task = PtbXlTask.None, Rate = 100 });
        string path = Path.Combine(dir.Path, "store");
        var built = EcgStoreBuilder.Build(ds, path, new StoreBuildOptions { Workers = 1 });
        Assert.Equal(5, built.Written);
        Assert.Equal(2, built.NoReport);
        Assert.Equal("id,path\n10000," + ds.Entries[0].RecordPath + "\n1005," + ds.Entries[4].RecordPath + "\n",
            File.ReadAllText(Path.Combine(path, EcgStore.NoReportFile)));
        Assert.Equal(2, EcgStoreBuilder.Build(ds, path).NoReport);
    }
}
