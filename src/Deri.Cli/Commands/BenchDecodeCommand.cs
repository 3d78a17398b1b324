using System.CommandLine;
using System.Text.Json;
using Deri.Benchmarks;
using Deri.Generation.Decoder;

namespace Deri.Cli.Commands;

/// <summary><c>deri bench decode</c>: report decoding with and without the key/value cache, printed as one JSON line.</summary>
public static class BenchDecodeCommand
{
    /// <summary>Builds the <c>decode</c> command (placed under <c>bench</c>).</summary>
    public static Command Create()
    {
        var layers = new Option<int>("--layers") { Description = "Decoder blocks (DistilGPT2: 6)", DefaultValueFactory = _ => 6 };
        var width = new Option<int>("--width") { Description = "n_embd (DistilGPT2: 768)", DefaultValueFactory = _ => 768 };
        var heads = new Option<int>("--heads") { Description = "Attention heads (DistilGPT2: 12)", DefaultValueFactory = _ => 12 };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary (GPT-2 + [BOS] + [PAD]: 50259)", DefaultValueFactory = _ => 50259 };
        var batch = new Option<int>("--batch") { Description = "Records decoded at once", DefaultValueFactory = _ => 8 };
        var tokens = new Option<int>("--tokens") { Description = "Tokens generated per record", DefaultValueFactory = _ => 64 };
        var beams = new Option<int>("--beams") { Description = "Beam width (1: greedy)", DefaultValueFactory = _ => 3 };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per mode (the fastest counts)", DefaultValueFactory = _ => 1 };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("decode",
            "Time beam/greedy report decoding of a random cross-attention GPT-2 with and without the key/value cache; prints one JSON line")
        {
            layers, width, heads, vocab, batch, tokens, beams, repeats, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var resolved = CommonOptions.Settings(result, device, threads).Resolve();
            var config = new Gpt2Config(NEmbd: result.GetValue(width), NLayer: result.GetValue(layers), NHead: result.GetValue(heads),
                NPositions: 1024, VocabSize: result.GetValue(vocab), AddCrossAttention: true);
            config.Validate("bench decode");
            var options = new DecodeBenchOptions(config, result.GetValue(batch), result.GetValue(tokens), result.GetValue(beams), result.GetValue(repeats));
            var r = DecodeBenchmark.Run(options, resolved);
            var generated = (double)options.Batch * options.Tokens;
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["bench"] = "decode",
                ["device"] = resolved.ToString(), ["threads"] = TorchSharp.torch.get_num_threads(),
                ["layers"] = config.NLayer, ["width"] = config.NEmbd, ["vocab"] = config.VocabSize, ["params_m"] = Math.Round(r.ParamsMillions, 1),
                ["batch"] = options.Batch, ["tokens"] = options.Tokens, ["beams"] = options.Beams,
                ["cached_s"] = Math.Round(r.CachedSeconds, 3), ["uncached_s"] = Math.Round(r.UncachedSeconds, 3),
                ["cached_tokens_per_s"] = Math.Round(generated / r.CachedSeconds, 1),
                ["uncached_tokens_per_s"] = Math.Round(generated / r.UncachedSeconds, 1),
                ["speedup"] = Math.Round(r.Speedup, 2), ["same_tokens"] = r.SameTokens, ["max_score_diff"] = r.MaxScoreDifference,
            }));
            return 0;
        });
        return cmd;
    }
}
