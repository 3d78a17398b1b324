using Deri.Pretraining;
using static TorchSharp.torch;

namespace Deri.Retrieval;

/// <summary>
/// ECGs and texts of a DERI or MERL run into the aligned space that zero-shot classification uses: an ECG through
/// <see cref="Models.DeriModel.ZeroShotEcgEmbedding"/>, a text (report, prompt or free query) through the text encoder
/// and <c>proj_t</c> as class prompts are. Both are unit length, so a dot product is their cosine similarity.
/// Calls run under <c>no_grad</c> with the module in eval mode (as <see cref="PretrainedRun.Load"/> leaves it).
/// </summary>
public sealed class PairEncoder
{
    private readonly PretrainedRun run;

    /// <summary>Wraps an opened run.</summary>
    /// <exception cref="InvalidOperationException">The run is an ECG-only baseline (no text side).</exception>
    public PairEncoder(PretrainedRun run)
    {
        this.run = run;
        _ = run.Module;   // throws with the run's name for an ECG-only baseline
    }

    /// <summary>The run.</summary>
    public PretrainedRun Run => run;

    /// <summary>Record length L the model takes.</summary>
    public int Length => run.Config.Dataset.SeqLength;

    /// <summary>Leads the model takes.</summary>
    public int Leads => run.Config.Network.NumLeads;

    /// <summary>
    /// Embeddings of preprocessed records: <paramref name="signals"/> holds B records of <c>leads × L</c> floats each,
    /// lead-major; returns B unit vectors of width D.
    /// </summary>
    /// <exception cref="ArgumentException">A record of the wrong size.</exception>
    public float[][] EncodeEcgs(IReadOnlyList<float[]> signals)
    {
        if (signals.Count == 0) return [];
        int size = Leads * Length;
        var flat = new float[signals.Count * size];
        for (int b = 0; b < signals.Count; b++)
        {
            if (signals[b].Length != size)
                throw new ArgumentException($"record {b} has {signals[b].Length} values, the model takes {Leads} × {Length}", nameof(signals));
            signals[b].CopyTo(flat, b * size);
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ecg = tensor(flat, [signals.Count, Leads, Length]).to(run.Device);   // (B, leads, L)
        return Rows(run.Module.Model.ZeroShotEcgEmbedding(ecg));                   // (B, D)
    }

    /// <summary>Embeddings of texts, one unit vector of width D each.</summary>
    public float[][] EncodeTexts(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return Rows(run.Module.ClassEmbeddings(texts, run.Device));                  // (B, D)
    }

    // (B, D) tensor → B float arrays on the CPU.
    private static float[][] Rows(Tensor t)
    {
        int b = (int)t.shape[0], d = (int)t.shape[1];
        var all = t.to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var rows = new float[b][];
        for (int i = 0; i < b; i++) rows[i] = all.AsSpan(i * d, d).ToArray();
        return rows;
    }
}
