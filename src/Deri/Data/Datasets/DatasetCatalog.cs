using Deri.IO;

namespace Deri.Data.Datasets;

/// <summary>Settings of any dataset listing; each dataset reads the ones that apply to it.</summary>
public sealed record DatasetRequest
{
    /// <summary>PTB-XL label task.</summary>
    public PtbXlTask Task { get; init; } = PtbXlTask.Super;

    /// <summary>PTB-XL record rate (100 or 500).</summary>
    public int Rate { get; init; } = 500;

    /// <summary>Label source of the downstream datasets.</summary>
    public LabelSource Labels { get; init; } = LabelSource.Derived;

    /// <summary>Folder of the paper's split CSVs for this dataset (e.g. <c>shared/splits/ptbxl</c>).</summary>
    public string? SplitsDir { get; init; }

    /// <summary>PTB-XL report text.</summary>
    public PtbXlReport Report { get; init; } = PtbXlReport.Original;

    /// <summary>Seed of seeded splits.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Validation fraction of seeded splits; <c>null</c> = the dataset's default (MIMIC 0.02, CPSC/CSN 0.1).</summary>
    public double? ValFraction { get; init; }

    /// <summary>MIMIC-IV-ECG: minimum report words.</summary>
    public int MinWords { get; init; } = 4;

    /// <summary>PTB-XL stratification folds of the train, validation and test splits; <c>null</c> = 1–8, 9, 10.</summary>
    public (IReadOnlyList<int> Train, IReadOnlyList<int> Val, IReadOnlyList<int> Test)? PtbXlFolds { get; init; }

    /// <summary>Test fraction of a seeded split, for datasets without official test folds (MIMIC layout: 0 unless given).</summary>
    public double? TestFraction { get; init; }

    /// <summary>Generic dataset: the CSV of records.</summary>
    public string Csv { get; init; } = "records.csv";
}

/// <summary>Lists a dataset by name: <c>mimic</c>, <c>ptbxl</c>, <c>cpsc</c>, <c>csn</c> or <c>generic</c>.</summary>
public static class DatasetCatalog
{
    /// <summary>Dataset names understood by <see cref="Load(string, string, DatasetRequest?)"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mimic", "ptbxl", "cpsc", "csn", "generic"];

    /// <summary>Lists dataset <paramref name="name"/> under <paramref name="root"/>.</summary>
    /// <exception cref="InputException">Unknown dataset name.</exception>
    /// <exception cref="InputFormatException">The metadata lists no usable record (e.g. a CSV with only its header row).</exception>
    public static EcgDataset Load(string name, string root, DatasetRequest? request = null) => Load(name, [root], request);

    /// <summary>
    /// Lists dataset <paramref name="name"/> from one or more root folders. Several roots are supported for PTB-XL only
    /// (<see cref="PtbXlDataset.LoadRoots"/>: an <c>ecg_id</c> in several roots is kept once, from the earliest root).
    /// </summary>
    /// <exception cref="InputException">Unknown dataset name.</exception>
    /// <exception cref="ArgumentException">No root, or several roots for a dataset other than PTB-XL.</exception>
    /// <exception cref="InputFormatException">The metadata lists no usable record (e.g. a CSV with only its header row).</exception>
    public static EcgDataset Load(string name, IReadOnlyList<string> roots, DatasetRequest? request = null)
    {
        if (roots.Count == 0) throw new InputValueException("no dataset folder given");
        request ??= new DatasetRequest();
        EcgDataset dataset;
        if (roots.Count == 1)
        {
            dataset = List(name, roots[0], request);
        }
        else
        {
            if (name.Trim().ToLowerInvariant() is not ("ptbxl" or "ptb-xl"))
                throw new InputValueException($"several dataset folders are supported for ptbxl only, not '{name}' (got {roots.Count})");
            foreach (string r in roots)
                if (!Directory.Exists(r)) throw new InputFileNotFoundException($"dataset folder not found: {r}");
            dataset = PtbXlDataset.LoadRoots(roots, PtbXlOptionsOf(request));
        }
        // A store of zero records would be built, reopened and trained on without a word; refuse before any work.
        string root = string.Join(" + ", roots.Select(Path.GetFullPath));
        if (dataset.Entries.Count == 0)
            throw new InputFormatException($"{root}: the {dataset.Name} metadata lists no usable record" +
                (dataset.Skipped.Count == 0 ? "" : $" ({dataset.Skipped.Count} rows left out, first: {dataset.Skipped[0].Id}: {dataset.Skipped[0].Reason})"));
        return dataset;
    }

    private static EcgDataset List(string name, string root, DatasetRequest request)
    {
        if (!Directory.Exists(root)) throw new InputFileNotFoundException($"dataset folder not found: {root}");
        return name.Trim().ToLowerInvariant() switch
        {
            "mimic" or "mimic-iv-ecg" => MimicIvEcgDataset.Load(root, new MimicOptions { Seed = request.Seed, ValFraction = request.ValFraction ?? 0.02, MinWords = request.MinWords, TestFraction = request.TestFraction ?? 0 }),
            "ptbxl" or "ptb-xl" => PtbXlDataset.Load(root, PtbXlOptionsOf(request)),
            "cpsc" or "cpsc2018" or "icbeb" => Cpsc2018Dataset.Load(root, Challenge(request)),
            "csn" or "chapman" => CsnDataset.Load(root, Challenge(request)),
            "generic" => GenericDataset.Load(root, new GenericOptions { Csv = request.Csv, Seed = request.Seed, ValFraction = request.ValFraction ?? 0.1 }),
            _ => throw new InputException($"unknown dataset '{name}' (one of {string.Join(", ", Names)})"),
        };
    }

    private static ChallengeOptions Challenge(DatasetRequest r) =>
        new() { Labels = r.Labels, SplitsDir = r.SplitsDir, Seed = r.Seed, ValFraction = r.ValFraction ?? 0.1 };

    private static PtbXlOptions PtbXlOptionsOf(DatasetRequest r)
    {
        var o = new PtbXlOptions { Rate = r.Rate, Task = r.Task, Labels = r.Labels, SplitsDir = r.SplitsDir, Report = r.Report };
        return r.PtbXlFolds is { } f ? o with { TrainFolds = f.Train, ValFolds = f.Val, TestFolds = f.Test } : o;
    }
}
