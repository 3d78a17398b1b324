using Deri.Generation.Decoder;
using TorchSharp;

namespace Deri.Tests.Generation.Decoder;

/// <summary>Decoding with the key/value cache gives the tokens and scores of re-running the whole prefix every step.</summary>
public class ReportDecoderCacheTests
{
    public static IEnumerable<object[]> Settings() =>
    [
        [new DecodingOptions(NumBeams: 1, MinLength: 0, MaxLength: 12, NoRepeatNgramSize: 4)],
        [new DecodingOptions(NumBeams: 1, MinLength: 3, MaxLength: 10, NoRepeatNgramSize: 2, RepetitionPenalty: 1.3)],
        [new DecodingOptions(NumBeams: 3, MinLength: 0, MaxLength: 12, NoRepeatNgramSize: 4)],
        [new DecodingOptions(NumBeams: 4, MinLength: 2, MaxLength: 10, NoRepeatNgramSize: 3, RepetitionPenalty: 1.2, LengthPenalty: 0.5)],
        [new DecodingOptions(NumBeams: 5, MinLength: 0, MaxLength: 8, LengthPenalty: -0.5)],
    ];

    [Theory]
    [MemberData(nameof(Settings))]
    public void CachedDecodingEqualsFullPrefixDecoding(DecodingOptions options)
    {
        const int vocab = 6, eos = 5;
        using var model = ReportDecoderTests.TinyModel(vocab, seed: 21);
        // [EOS] made a near copy of token 1, so wherever token 1 is likely [EOS] competes and records end at different steps.
        using (torch.no_grad())
        {
            var wte = model.get_parameter("transformer.wte.weight")!;
            wte[eos].copy_(wte[1] + 0.1 * torch.randn(16));
        }
        torch.manual_seed(4);
        // Enough records that some end early and leave the cache (its rows are then dropped or reordered).
        var memory = torch.randn(9, 1, 16);
        var cached = new ReportDecoder(model, 0, eos, useCache: true).Generate(memory, options);
        var full = new ReportDecoder(model, 0, eos, useCache: false).Generate(memory, options);
        Assert.Equal(full.Count, cached.Count);
        for (var r = 0; r < full.Count; r++)
        {
            Assert.Equal(full[r].Tokens, cached[r].Tokens);
            Assert.Equal(full[r].EndedWithEos, cached[r].EndedWithEos);
            Assert.True(Math.Abs(full[r].Score - cached[r].Score) <= 1e-5, $"record {r}: score {cached[r].Score} cached, {full[r].Score} full prefix");
        }
        // The settings exercise (n-gram bans keep the confident tiny model from looping without [EOS]) both early and late endings.
        Assert.Contains(full, d => d.EndedWithEos);
        Assert.True(full.Select(d => d.Tokens.Length).Distinct().Count() > 1, "all records ended at the same length");
    }
}
