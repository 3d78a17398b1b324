using Deri.IO;

namespace Deri.Data.Datasets;

public static partial class PtbXlDataset
{
    /// <summary>
    /// Lists several PTB-XL roots as one dataset (e.g. the raw records of <c>shared/data/ptbxl</c> and the z-scored
    /// copies of <c>shared/data/ptbxl-zscore</c>). Each root is listed as <see cref="Load"/> does, with the same options.
    /// An <c>ecg_id</c> listed by several roots is kept once, from the EARLIEST root that yields a usable entry for it
    /// (list the original recordings first: they are unfiltered, in physical units, at both rates); the later rows are
    /// moved to <see cref="EcgDataset.Skipped"/> naming the root kept. Entries keep their root's order, roots in the order given.
    /// </summary>
    /// <exception cref="ArgumentException">No root, or the same folder twice.</exception>
    /// <exception cref="InputFormatException">The roots' <c>scp_statements.csv</c> give different classes, a duplicated
    /// <c>ecg_id</c> names another patient or fold split in another root, or a patient has records in two splits.</exception>
    public static EcgDataset LoadRoots(IReadOnlyList<string> roots, PtbXlOptions? options = null)
    {
        options ??= new PtbXlOptions();
        if (roots.Count == 0) throw new InputValueException("PTB-XL: no root folder given");
        var full = roots.Select(r => Path.GetFullPath(r.TrimEnd(Path.DirectorySeparatorChar))).ToList();
        var twice = full.GroupBy(r => r, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice != null) throw new InputValueException($"PTB-XL root {twice.Key} is given twice");
        if (roots.Count == 1) return Load(roots[0], options);

        var parts = roots.Select(r => Load(r, options)).ToList();
        var first = parts[0];
        for (int k = 1; k < parts.Count; k++)
            if (!parts[k].LabelNames.SequenceEqual(first.LabelNames))
                throw new InputFormatException($"{full[k]}: its classes [{string.Join(",", parts[k].LabelNames)}] differ from those of {full[0]} [{string.Join(",", first.LabelNames)}]; the roots' scp_statements.csv (or split files) disagree");

        var kept = new Dictionary<string, (DatasetEntry Entry, int Root)>(StringComparer.Ordinal);
        var entries = new List<DatasetEntry>();
        var skipped = new List<DatasetIssue>();
        for (int k = 0; k < parts.Count; k++)
        {
            skipped.AddRange(parts[k].Skipped.Select(s => s with { Reason = $"{s.Reason} (in {full[k]})" }));
            foreach (var e in parts[k].Entries)
            {
                if (kept.TryGetValue(e.Id, out var earlier))
                {
                    // The same recording cannot belong to another patient or fold; a disagreement means mixed-up metadata.
                    if (earlier.Entry.Patient != e.Patient || earlier.Entry.Split != e.Split)
                        throw new InputFormatException($"ecg_id {e.Id} is patient {e.Patient ?? "unknown"} in split {e.Split} in {full[k]} but patient {earlier.Entry.Patient ?? "unknown"} in split {earlier.Entry.Split} in {full[earlier.Root]}");
                    skipped.Add(new DatasetIssue(e.Id, $"duplicate: ecg_id also in {full[earlier.Root]}, which is kept (in {full[k]})"));
                    continue;
                }
                kept[e.Id] = (e, k);
                entries.Add(e);
            }
        }
        var merged = new EcgDataset(first.Name, first.LabelNames, entries, first.Preprocess, skipped) { ExpectedSplits = first.ExpectedSplits };
        CheckPatientSplits(merged, string.Join(" + ", full));
        return merged;
    }

    /// <summary>Refuses a dataset with a patient in two splits: a model would be tested on a patient it was trained on.</summary>
    /// <exception cref="InputFormatException">Some patient's records are in more than one split; the message names the first few.</exception>
    internal static void CheckPatientSplits(EcgDataset dataset, string where)
    {
        var leaks = dataset.PatientsInSeveralSplits();
        if (leaks.Count == 0) return;
        string list = string.Join("; ", leaks.Take(5).Select(l => $"patient {l.Patient} in {string.Join(" and ", l.Splits)}"));
        throw new InputFormatException($"{where}: {leaks.Count} patients have records in more than one split ({list}{(leaks.Count > 5 ? "; …" : "")}); PTB-XL folds are patient-disjoint, so the metadata is inconsistent");
    }
}
