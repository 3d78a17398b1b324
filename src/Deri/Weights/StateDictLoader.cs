using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Weights;

/// <summary>A checkpoint key whose shape differs from the module's parameter or buffer.</summary>
/// <param name="Key">The module's key.</param>
/// <param name="Expected">The module's shape.</param>
/// <param name="Found">The checkpoint's shape.</param>
public sealed record ShapeMismatch(string Key, long[] Expected, long[] Found)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Key}: module [{string.Join(", ", Expected)}], checkpoint [{string.Join(", ", Found)}]";
}

/// <summary>What <see cref="StateDictLoader.Load"/> did.</summary>
/// <param name="Loaded">Module keys that received a value.</param>
/// <param name="Missing">Module keys with no value in the checkpoint (left as they were).</param>
/// <param name="Unexpected">Checkpoint keys that match nothing in the module.</param>
/// <param name="Mismatched">Keys present on both sides with different shapes (left as they were).</param>
/// <param name="Ignored">Checkpoint keys skipped on purpose (see <see cref="StateDictLoader.Load"/>'s <c>ignore</c>).</param>
public sealed record StateDictReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected, IReadOnlyList<ShapeMismatch> Mismatched, IReadOnlyList<string> Ignored)
{
    /// <summary>True when every module key was loaded and every checkpoint key was used or ignored.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>A multi-line summary listing every problem key.</summary>
    public string Describe()
    {
        var lines = new List<string> { $"loaded {Loaded.Count} tensors, {Missing.Count} missing, {Unexpected.Count} unexpected, {Mismatched.Count} shape mismatches, {Ignored.Count} ignored" };
        if (Missing.Count > 0) lines.Add("missing: " + string.Join(", ", Missing));
        if (Unexpected.Count > 0) lines.Add("unexpected: " + string.Join(", ", Unexpected));
        if (Mismatched.Count > 0) lines.Add("shape mismatch: " + string.Join("; ", Mismatched));
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>A strict load found keys that do not match the module.</summary>
public sealed class StateDictMismatchException : Deri.IO.InputException
{
    /// <summary>Creates the exception from the load report.</summary>
    public StateDictMismatchException(string source, StateDictReport report)
        : base($"{source}: checkpoint does not match the module: {report.Describe()}") => Report = report;

    /// <summary>The full report.</summary>
    public StateDictReport Report { get; }
}

/// <summary>
/// Copies a state dict (name → tensor, e.g. from <see cref="SafeTensors.Load(string)"/>) into a
/// module's parameters and buffers by name, converting dtype and device to the module's.
/// Loads are strict unless a caller opts out: a checkpoint that leaves a module key without a value
/// would otherwise leave that part of the model at its random initialisation without a word.
/// </summary>
public static class StateDictLoader
{
    /// <summary>
    /// Copies <paramref name="tensors"/> into <paramref name="module"/>; by default every module key must receive a value
    /// and every checkpoint key must be used or ignored, or nothing is copied and the exception lists the keys.
    /// A checkpoint key is matched to a module key as is, or with one of <paramref name="prefixes"/>
    /// removed (default: the Hugging Face <c>bert.</c> prefix of task checkpoints such as
    /// <c>BertForMaskedLM</c>). Keys listed in <paramref name="ignore"/> (exact, or ending with
    /// one of them after a dot) are skipped and reported as ignored.
    /// </summary>
    /// <param name="module">Target module.</param>
    /// <param name="tensors">Checkpoint tensors; not disposed.</param>
    /// <param name="strict">
    /// True (the default): any missing, unexpected or shape-mismatched key throws and nothing is copied. False copies
    /// what matches and leaves the rest as it was; only for callers that check the returned report themselves.
    /// </param>
    /// <param name="source">Name of the checkpoint for error messages (typically its path).</param>
    /// <param name="prefixes">Prefixes to strip from checkpoint keys; null means <c>["bert."]</c>.</param>
    /// <param name="ignore">Checkpoint keys (or dotted key suffixes) to skip.</param>
    /// <exception cref="StateDictMismatchException">Strict mode and the keys do not match (the message lists every missing,
    /// unexpected and mis-shaped key).</exception>
    public static StateDictReport Load(nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, bool strict = true,
        string source = "state dict", IReadOnlyList<string>? prefixes = null, IReadOnlyList<string>? ignore = null)
    {
        prefixes ??= ["bert."];
        ignore ??= [];
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in module.named_parameters()) targets[name] = p;
        foreach (var (name, b) in module.named_buffers()) targets.TryAdd(name, b);

        var plan = new List<(string Target, Tensor Value)>();
        var unexpected = new List<string>();
        var ignored = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in tensors)
        {
            if (ignore.Any(i => key == i || key.EndsWith("." + i, StringComparison.Ordinal)))
            {
                ignored.Add(key);
                continue;
            }
            string? target = targets.ContainsKey(key) ? key
                : prefixes.Where(p => key.StartsWith(p, StringComparison.Ordinal))
                    .Select(p => key[p.Length..]).FirstOrDefault(targets.ContainsKey);
            if (target is null)
            {
                unexpected.Add(key);
                continue;
            }
            if (!matched.Add(target))
                throw new ArgumentException($"{source}: keys '{key}' and another key both map to module key '{target}'", nameof(tensors));
            var dest = targets[target];
            if (!dest.shape.SequenceEqual(value.shape))
            {
                mismatched.Add(new ShapeMismatch(target, dest.shape, value.shape));
                continue;
            }
            plan.Add((target, value));
        }
        var missing = targets.Keys.Where(k => !matched.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var report = new StateDictReport(plan.Select(p => p.Target).ToList(), missing, unexpected, mismatched, ignored);
        if (strict && !report.IsExact) throw new StateDictMismatchException(source, report);

        using (torch.no_grad())
        {
            foreach (var (target, value) in plan)
            {
                // copy_ converts dtype and device itself, without a temporary.
                targets[target].copy_(value);
            }
        }
        return report;
    }

    /// <summary>
    /// Writes every parameter and buffer of <paramref name="module"/> to a safetensors file under
    /// its state-dict name (atomically), with optional <c>__metadata__</c>.
    /// </summary>
    public static void Save(nn.Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in module.named_parameters()) tensors[name] = p;
        foreach (var (name, b) in module.named_buffers()) tensors.TryAdd(name, b);
        SafeTensors.Save(path, tensors, metadata);
    }
}
