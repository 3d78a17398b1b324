namespace Deri.Config;

/// <summary>Settings of <c>Baselines.Clocs</c> (YAML keys are the snake_case property names, e.g. <c>lead_groups</c>).</summary>
public sealed record ClocsConfig : ISslMethodConfig
{
    /// <summary>Accepted values of <see cref="Mode"/>.</summary>
    public static readonly IReadOnlyList<string> Modes = ["cmsc", "cmlc", "cmsmlc"];

    /// <summary>
    /// <c>cmsc</c>: two adjacent non-overlapping segments are the views; <c>cmlc</c>: the lead groups of one segment are
    /// the views; <c>cmsmlc</c>: every (segment, lead group) pair of two adjacent segments is a view.
    /// </summary>
    public string Mode { get; init; } = "cmsc";

    /// <summary>Samples per segment; null = half the input length (CLOCS: two 2500-sample halves of a 5000-sample record).</summary>
    public int? SegmentLength { get; init; }

    /// <summary>Lead indices of each lead-group view (default limb leads 0–5 and chest leads 6–11); leads outside a group are zeroed.</summary>
    public int[][] LeadGroups { get; init; } = [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]];

    /// <summary>Width of the embedding the loss compares (128 as the paper).</summary>
    public int EmbeddingDim { get; init; } = 128;

    /// <summary>Temperature τ of the cosine similarities (0.1 as the paper).</summary>
    public double Temperature { get; init; } = 0.1;

    /// <summary>Records of the same patient are positives (the paper's patient-specific loss); false = instance positives only.</summary>
    public bool PatientAware { get; init; } = true;

    /// <inheritdoc />
    public void Validate(ConfigProblems problems, int leads, int seqLength)
    {
        problems.Require(Modes.Contains(Mode), "ssl.clocs.mode", Mode, "must be one of " + string.Join(", ", Modes));
        int s = EffectiveSegmentLength(seqLength);
        int needed = Mode == "cmlc" ? s : 2 * s;
        problems.Require(s > 0 && needed <= seqLength, "ssl.clocs.segment_length", s,
            $"must be positive and fit {(Mode == "cmlc" ? "once" : "twice")} into the input length {seqLength}");
        if (Mode != "cmsc")
        {
            int groups = Mode == "cmlc" ? 2 : 1;
            problems.Require(LeadGroups.Length >= groups, "ssl.clocs.lead_groups", LeadGroups.Length, $"{Mode} needs at least {groups} group(s)");
            foreach (var g in LeadGroups)
                problems.Require(g.Length > 0 && g.All(i => i >= 0 && i < leads) && g.Distinct().Count() == g.Length, "ssl.clocs.lead_groups",
                    "[" + string.Join(", ", g) + "]", $"each group needs distinct lead indices in 0…{leads - 1}");
        }
        problems.Require(EmbeddingDim > 0, "ssl.clocs.embedding_dim", EmbeddingDim, "must be positive");
        problems.Require(Temperature > 0, "ssl.clocs.temperature", Temperature, "must be > 0");
    }

    /// <summary><see cref="SegmentLength"/>, or half of <paramref name="seqLength"/> when unset.</summary>
    public int EffectiveSegmentLength(int seqLength) => SegmentLength ?? seqLength / 2;
}
