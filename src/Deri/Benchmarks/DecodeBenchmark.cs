using System.Diagnostics;
using Deri.Generation.Decoder;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Benchmarks;

/// <summary>Settings of <see cref="DecodeBenchmark.Run"/>.</summary>
/// <param name="Config">The decoder (randomly initialised; it must have cross-attention).</param>
/// <param name="Batch">Records decoded at once.</param>
/// <param name="Tokens">Tokens generated per record: [EOS] is banned before the last step, so every run does exactly this many steps.</param>
/// <param name="Beams">Beam width (1: greedy).</param>
/// <param name="Repeats">Timed runs per mode; the fastest counts.</param>
/// <param name="Seed">Seed of the random weights and memories.</param>
public sealed record DecodeBenchOptions(Gpt2Config Config, int Batch = 8, int Tokens = 64, int Beams = 3, int Repeats = 1, int Seed = 0);

/// <summary>What <see cref="DecodeBenchmark.Run"/> measured.</summary>
/// <param name="CachedSeconds">Wall seconds of one decoding with the key/value cache (fastest run).</param>
/// <param name="UncachedSeconds">Wall seconds of one decoding re-running the prefix every step (fastest run).</param>
/// <param name="SameTokens">Whether both modes produced the same tokens for every record.</param>
/// <param name="MaxScoreDifference">Largest absolute difference of the two modes' scores.</param>
/// <param name="ParamsMillions">Decoder parameters, millions.</param>
public sealed record DecodeBenchResult(double CachedSeconds, double UncachedSeconds, bool SameTokens, double MaxScoreDifference, double ParamsMillions)
{
    /// <summary>Uncached time over cached time.</summary>
    public double Speedup => UncachedSeconds / CachedSeconds;
}

/// <summary>
/// Times <see cref="ReportDecoder"/> with and without the key/value cache on a randomly initialised decoder (e.g.
/// DistilGPT2-sized with cross-attention and GPT-2's vocabulary plus [BOS]/[PAD]) and a random one-token memory.
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>Runs the benchmark on <paramref name="device"/>: one untimed warm-up of a few tokens, then the timed runs.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public static DecodeBenchResult Run(DecodeBenchOptions options, Device device)
    {
        if (!options.Config.AddCrossAttention) throw new InputValueException("the benchmark decoder needs cross-attention");
        if (options.Batch < 1 || options.Tokens < 2 || options.Beams < 1 || options.Repeats < 1)
            throw new InputValueException($"batch, beams and repeats must be positive and tokens at least 2, got {options}");
        if (options.Config.VocabSize < 2) throw new InputValueException("the vocabulary needs at least 2 tokens ([BOS] and [EOS])");
        torch.manual_seed(options.Seed);
        using var model = new Gpt2Model(options.Config);
        model.to(device);
        model.eval();
        var memory = torch.randn(options.Batch, 1, options.Config.NEmbd, device: device);
        // GPT-2's layout: [EOS] 50256 and [BOS] 50257 when the vocabulary is 50259; otherwise the last two ids.
        var v = options.Config.VocabSize;
        int eos = v == 50259 ? 50256 : v - 1, bos = v == 50259 ? 50257 : v - 2;
        var decoding = new DecodingOptions(NumBeams: options.Beams, MinLength: options.Tokens - 1, MaxLength: options.Tokens);
        var warm = decoding with { MinLength = 1, MaxLength = 2 };

        (double Seconds, IReadOnlyList<DecodedReport> Reports) Time(bool cache)
        {
            var decoder = new ReportDecoder(model, bos, eos, cache);
            using (torch.no_grad()) decoder.Generate(memory, warm);
            var best = double.PositiveInfinity;
            IReadOnlyList<DecodedReport> reports = [];
            for (var i = 0; i < options.Repeats; i++)
            {
                var watch = Stopwatch.StartNew();
                using (torch.no_grad()) reports = decoder.Generate(memory, decoding);
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            return (best, reports);
        }

        var cached = Time(cache: true);
        var full = Time(cache: false);
        var same = cached.Reports.Zip(full.Reports).All(p => p.First.Tokens.SequenceEqual(p.Second.Tokens));
        var diff = cached.Reports.Zip(full.Reports).Max(p => Math.Abs(p.First.Score - p.Second.Score));
        var parameters = model.parameters().Sum(p => p.numel()) / 1e6;
        return new DecodeBenchResult(cached.Seconds, full.Seconds, same, diff, parameters);
    }
}
