using Deri.IO;
using Microsoft.ML.OnnxRuntime;

namespace Deri.Interop.Onnx;

/// <summary>
/// The ECG side of an exported run (<see cref="OnnxEcgExporter"/>: input <c>ecg</c> <c>(B, leads, L)</c> float32, output
/// <c>embedding</c> <c>(B, D)</c> float32, L2-normalised) on ONNX Runtime's CPU provider. One session, used by one
/// thread at a time (the inference worker, a benchmark); each call copies the batch once into a pinned input.
/// </summary>
public sealed class OnnxEcgEmbedder : IDisposable
{
    private readonly InferenceSession session;
    private readonly string input, output;

    /// <summary>Opens the graph in <paramref name="onnx"/> (a file path).</summary>
    /// <param name="onnx">The <c>.onnx</c> file.</param>
    /// <param name="leads">Leads the graph takes.</param>
    /// <param name="length">Samples per lead the graph takes.</param>
    /// <param name="threads">Intra-op threads (the cores one batch may use); 0 lets ONNX Runtime choose.</param>
    /// <param name="inputName">The graph's input.</param>
    /// <param name="outputName">The graph's output.</param>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InputFormatException">ONNX Runtime cannot load the graph, or it lacks the named input or output.</exception>
    public OnnxEcgEmbedder(string onnx, int leads, int length, int threads,
        string inputName = OnnxEcgExporter.InputName, string outputName = OnnxEcgExporter.OutputName)
        : this(File.Exists(onnx) ? File.ReadAllBytes(onnx) : throw new FileNotFoundException($"{onnx}: ONNX graph not found", onnx),
            onnx, leads, length, threads, inputName, outputName)
    {
    }

    /// <summary>Opens a graph held in memory; <paramref name="source"/> names it in errors.</summary>
    /// <inheritdoc cref="OnnxEcgEmbedder(string, int, int, int, string, string)"/>
    public OnnxEcgEmbedder(byte[] onnx, string source, int leads, int length, int threads,
        string inputName = OnnxEcgExporter.InputName, string outputName = OnnxEcgExporter.OutputName)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Leads = leads;
        Length = length;
        input = inputName;
        output = outputName;
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        try
        {
            session = new InferenceSession(onnx, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InputFormatException($"{source}: ONNX Runtime cannot load the graph ({e.Message})", e);
        }
        if (!session.InputMetadata.ContainsKey(input) || !session.OutputMetadata.ContainsKey(output))
        {
            string found = $"inputs {string.Join(", ", session.InputMetadata.Keys)}; outputs {string.Join(", ", session.OutputMetadata.Keys)}";
            session.Dispose();
            throw new InputFormatException($"{source}: the graph has no input '{input}' or no output '{output}' ({found})");
        }
        Dim = (int)session.OutputMetadata[output].Dimensions[^1];
    }

    /// <summary>Leads the graph takes.</summary>
    public int Leads { get; }

    /// <summary>Samples per lead the graph takes.</summary>
    public int Length { get; }

    /// <summary>Width of the embedding.</summary>
    public int Dim { get; }

    /// <summary>
    /// Embeddings of preprocessed records: <paramref name="signals"/> holds B records of <c>leads × L</c> floats each,
    /// lead-major; returns B unit vectors of width <see cref="Dim"/>.
    /// </summary>
    /// <exception cref="InputValueException">A record of the wrong size.</exception>
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
        var all = Run(flat, signals.Count);
        int d = all.Length / signals.Count;
        var rows = new float[signals.Count][];
        for (int i = 0; i < rows.Length; i++) rows[i] = all.AsSpan(i * d, d).ToArray();
        return rows;
    }

    /// <summary>Runs the graph on <paramref name="batch"/> records held lead-major in <paramref name="flat"/> <c>(B·leads·L)</c>; returns <c>(B·D)</c>.</summary>
    public float[] Run(float[] flat, int batch)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(flat, [batch, Leads, Length]);
        using var run = new RunOptions();
        using var results = session.Run(run, [input], [value], [output]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Releases the session.</summary>
    public void Dispose() => session.Dispose();
}
