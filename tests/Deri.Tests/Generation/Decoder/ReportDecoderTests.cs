using Deri.Generation.Decoder;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Generation.Decoder;

public class ReportDecoderTests
{
    private const int Bos = 0;

    /// <summary>A tiny random decoder with weights large enough that next-token distributions are far from uniform.</summary>
    internal static Gpt2Model TinyModel(int vocab, int seed)
    {
        torch.manual_seed(seed);
        var model = new Gpt2Model(new Gpt2Config(16, 1, 2, 16, vocab, AddCrossAttention: true));
        using (torch.no_grad())
            foreach (var p in model.parameters()) p.normal_(0, 0.5);
        model.eval();
        return model;
    }

    /// <summary>Log-probabilities (V) of every next token after [BOS] + <paramref name="prefix"/>, by one forward of the full prefix.</summary>
    private static double[][] PositionLogProbs(Gpt2Model model, Tensor memory, int[] seq)
    {
        using var _ = torch.no_grad();
        var ids = torch.tensor(new long[] { Bos }.Concat(seq.Select(t => (long)t)).ToArray()).view(1, -1);
        var logits = model.forward(ids, torch.ones_like(ids), memory);
        var lp = nn.functional.log_softmax(logits.to(ScalarType.Float64), -1)[0];
        return Enumerable.Range(0, (int)lp.shape[0]).Select(i => lp[i].data<double>().ToArray()).ToArray();
    }

    /// <summary>All sequences of at most <paramref name="maxLen"/> tokens: [EOS] only last; at max length any last token.</summary>
    private static IEnumerable<int[]> AllSequences(int vocab, int eos, int maxLen)
    {
        IEnumerable<int[]> Prefixes(int len) => len == 0
            ? [[]]
            : Prefixes(len - 1).SelectMany(p => Enumerable.Range(0, vocab).Where(t => t != eos).Select(t => p.Append(t).ToArray()));
        for (var len = 1; len <= maxLen; len++)
        {
            foreach (var p in Prefixes(len - 1))
            {
                if (len < maxLen) yield return p.Append(eos).ToArray();
                else foreach (var t in Enumerable.Range(0, vocab)) yield return p.Append(t).ToArray();
            }
        }
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(1.0, 0)]
    [InlineData(1.0, 1)]
    [InlineData(2.0, 2)]
    [InlineData(-0.5, 0)]
    public void WideBeamSearchEqualsExhaustiveSearch(double alpha, int minLength)
    {
        const int vocab = 4, eos = 3, maxLen = 3;
        using var model = TinyModel(vocab, seed: 11);
        const int records = 16;
        var memory = torch.randn(records, 1, 16);
        var options = new DecodingOptions(NumBeams: 64, MinLength: minLength, MaxLength: maxLen, LengthPenalty: alpha);
        var got = new ReportDecoder(model, Bos, eos).BeamSearch(memory, options);
        Assert.Equal(records, got.Count);
        for (var r = 0; r < records; r++)
        {
            var mem = memory[r..(r + 1)];
            int[]? best = null;
            var bestScore = double.NegativeInfinity;
            foreach (var seq in AllSequences(vocab, eos, maxLen))
            {
                var eosAt = Array.IndexOf(seq, eos);
                if (eosAt >= 0 && eosAt < minLength) continue;
                var lp = PositionLogProbs(model, mem, seq[..^1]);
                var sum = seq.Select((t, i) => lp[i][t]).Sum();
                var score = sum / Math.Pow(seq.Length, alpha);
                if (score > bestScore) (best, bestScore) = (seq, score);
            }
            var expectedTokens = best![^1] == eos ? best[..^1] : best;
            Assert.Equal(expectedTokens, got[r].Tokens);
            Assert.Equal(best[^1] == eos, got[r].EndedWithEos);
            Assert.Equal(bestScore, got[r].Score, 1e-5);
        }
    }

    [Fact]
    public void GreedyEqualsBeamOne()
    {
        using var model = TinyModel(12, seed: 5);
        var memory = torch.randn(4, 1, 16);
        var decoder = new ReportDecoder(model, Bos, eosId: 11);
        foreach (var options in new[]
        {
            new DecodingOptions(NumBeams: 1, MaxLength: 10, LengthPenalty: 0),
            new DecodingOptions(NumBeams: 1, MinLength: 3, MaxLength: 10, NoRepeatNgramSize: 2, RepetitionPenalty: 1.5, LengthPenalty: 0),
        })
        {
            var greedy = decoder.Greedy(memory, options);
            var beam = decoder.BeamSearch(memory, options);
            Assert.Equal(greedy.Count, beam.Count);
            for (var r = 0; r < greedy.Count; r++)
            {
                Assert.Equal(greedy[r].Tokens, beam[r].Tokens);
                Assert.Equal(greedy[r].EndedWithEos, beam[r].EndedWithEos);
                Assert.Equal(greedy[r].Score, beam[r].Score, 9);
            }
            Assert.Equal(greedy.Select(g => g.Tokens), decoder.Generate(memory, options).Select(g => g.Tokens));
        }
    }

    [Fact]
    public void BatchedDecodingEqualsDecodingEachRecordAlone()
    {
        using var model = TinyModel(12, seed: 9);
        var memory = torch.randn(3, 1, 16);
        var decoder = new ReportDecoder(model, Bos, eosId: 11);
        var options = new DecodingOptions(NumBeams: 3, MaxLength: 8);
        var batched = decoder.BeamSearch(memory, options);
        for (var r = 0; r < 3; r++)
        {
            var alone = decoder.BeamSearch(memory[r..(r + 1)], options)[0];
            Assert.Equal(alone.Tokens, batched[r].Tokens);
            Assert.Equal(alone.Score, batched[r].Score, 5);
        }
        // Different memories give different reports (the memory conditions the decoder).
        Assert.True(batched.Select(b => string.Join(",", b.Tokens)).Distinct().Count() > 1);
    }

    [Fact]
    public void LengthLimitsAndRepetitionControlsHold()
    {
        const int vocab = 12, eos = 11;
        using var model = TinyModel(vocab, seed: 2);
        var memory = torch.randn(3, 1, 16);
        var decoder = new ReportDecoder(model, Bos, eos);
        foreach (var beams in new[] { 1, 3 })
        {
            // Minimum length: EOS is not allowed before 6 tokens; maximum: never more than 9 (EOS included).
            foreach (var d in decoder.Generate(memory, new DecodingOptions(NumBeams: beams, MinLength: 6, MaxLength: 9)))
            {
                Assert.InRange(d.Tokens.Length, 6, 9);
                Assert.DoesNotContain(eos, d.Tokens);
                if (d.EndedWithEos) Assert.True(d.Tokens.Length <= 8);
            }
            // n = 1 bans every token already present ([BOS] included): all distinct.
            foreach (var d in decoder.Generate(memory, new DecodingOptions(NumBeams: beams, MinLength: 8, MaxLength: 10, NoRepeatNgramSize: 1)))
            {
                var full = d.Tokens.Prepend(Bos).ToArray();
                Assert.True(full.Length >= 9);
                Assert.Equal(full.Length, full.Distinct().Count());
            }
            // n = 2: no bigram twice.
            foreach (var d in decoder.Generate(memory, new DecodingOptions(NumBeams: beams, MinLength: 12, MaxLength: 15, NoRepeatNgramSize: 2)))
            {
                var full = d.Tokens.Prepend(Bos).ToArray();
                var bigrams = full.Zip(full.Skip(1), (a, b) => (a, b)).ToArray();
                Assert.Equal(bigrams.Length, bigrams.Distinct().Count());
            }
        }
        // A huge repetition penalty makes greedy avoid repeats while fresh tokens remain; without it, 8 tokens
        // from 10 non-BOS, non-EOS ids drawn by this model repeat at least once (checked so the penalty has work to do).
        var plain = decoder.Greedy(memory, new DecodingOptions(NumBeams: 1, MinLength: 8, MaxLength: 9));
        Assert.Contains(plain, d => d.Tokens.Prepend(Bos).Distinct().Count() < d.Tokens.Length + 1);
        foreach (var d in decoder.Greedy(memory, new DecodingOptions(NumBeams: 1, MinLength: 8, MaxLength: 9, RepetitionPenalty: 1e6)))
            Assert.Equal(d.Tokens.Length + 1, d.Tokens.Prepend(Bos).Distinct().Count());
    }

    [Fact]
    public void BadOptionsAreRejected()
    {
        using var model = TinyModel(12, seed: 1);
        var decoder = new ReportDecoder(model, Bos, 11);
        var memory = torch.randn(1, 1, 16);
        Assert.Throws<InputValueException>(() => decoder.Generate(memory, new DecodingOptions(MaxLength: 17)));
        Assert.Throws<InputValueException>(() => decoder.Generate(memory, new DecodingOptions(NumBeams: 0)));
        Assert.Throws<InputValueException>(() => decoder.Generate(memory, new DecodingOptions(MinLength: 5, MaxLength: 5)));
        Assert.Throws<ArgumentException>(() => decoder.Generate(torch.randn(1, 1, 8), new DecodingOptions(MaxLength: 5)));
        Assert.Throws<ArgumentException>(() => new ReportDecoder(model, Bos, 12));
    }
}
