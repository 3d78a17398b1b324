using Deri.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Generation.Decoder;

/// <summary>How <see cref="ReportDecoder"/> searches.</summary>
/// <param name="NumBeams">Beam width; 1 means greedy decoding.</param>
/// <param name="MinLength">Fewest generated tokens before <c>[EOS]</c> may be chosen (<c>[EOS]</c> not counted).</param>
/// <param name="MaxLength">Most generated tokens, <c>[EOS]</c> included; a sequence that reaches it ends unfinished.</param>
/// <param name="NoRepeatNgramSize">When positive, no n-gram of this size occurs twice in <c>[BOS]</c> + generated tokens.</param>
/// <param name="RepetitionPenalty">Multiplies the log-probability of every token already in the sequence (1 = off, &gt; 1 discourages repeats).</param>
/// <param name="LengthPenalty">α of Hugging Face's length penalty: a hypothesis scores (sum of log-probabilities) / length^α, length counting generated tokens with <c>[EOS]</c>.</param>
/// <param name="GuidanceScale">
/// γ of classifier-free guidance (0 = off): next-token log-probabilities become log_softmax((1 + γ)·log p(·|ECG) − γ·log p(·|no ECG)),
/// where "no ECG" is the unconditional memory the caller passes (a model trained with memory dropout). It moves decoding
/// away from what every record shares (the report prior) towards what this ECG changes.
/// </param>
public sealed record DecodingOptions(
    int NumBeams = 3,
    int MinLength = 1,
    int MaxLength = 256,
    int NoRepeatNgramSize = 0,
    double RepetitionPenalty = 1.0,
    double LengthPenalty = 1.0,
    double GuidanceScale = 0.0)
{
    /// <summary>Checks every field against the model's longest sequence <paramref name="nPositions"/>.</summary>
    /// <exception cref="ArgumentException">A field is out of range.</exception>
    public void Validate(int nPositions)
    {
        if (NumBeams < 1) throw new InputValueException($"num_beams must be at least 1, got {NumBeams}");
        if (MaxLength < 1 || MaxLength > nPositions)
            throw new InputValueException($"max_length must be in [1, {nPositions}] (the model's n_positions, [BOS] + max_length − 1 tokens are fed), got {MaxLength}");
        if (MinLength < 0 || MinLength >= MaxLength) throw new InputValueException($"min_length must be in [0, max_length), got {MinLength}");
        if (NoRepeatNgramSize < 0) throw new InputValueException($"no_repeat_ngram_size must be non-negative, got {NoRepeatNgramSize}");
        if (!(RepetitionPenalty > 0) || !double.IsFinite(RepetitionPenalty)) throw new InputValueException($"repetition_penalty must be positive, got {RepetitionPenalty}");
        if (!double.IsFinite(LengthPenalty)) throw new InputValueException($"length_penalty must be finite, got {LengthPenalty}");
        if (!(GuidanceScale >= 0) || !double.IsFinite(GuidanceScale)) throw new InputValueException($"guidance_scale must be finite and non-negative, got {GuidanceScale}");
    }
}

/// <summary>One decoded report.</summary>
/// <param name="Tokens">Generated token ids, without <c>[BOS]</c> and <c>[EOS]</c>.</param>
/// <param name="Score">Sum of the (processed) log-probabilities of the generated tokens, <c>[EOS]</c> included, divided by length^α.</param>
/// <param name="EndedWithEos">False when the search stopped at <see cref="DecodingOptions.MaxLength"/>.</param>
public sealed record DecodedReport(int[] Tokens, double Score, bool EndedWithEos);

/// <summary>
/// Greedy and beam-search decoding of a <see cref="Gpt2Model"/> conditioned on an encoder memory,
/// batched over records: every step runs one forward pass over all live hypotheses of all records.
/// By default a key/value cache (<see cref="Gpt2KvCache"/>) lets each step feed only the newest token, its rows
/// reordered when beams are selected or records finish; without it (<c>useCache: false</c>, kept for checking) each
/// step re-runs the whole prefix, which costs O(T²) forward tokens.
/// Logit processing follows Hugging Face's beam search and is applied to log-probabilities in
/// both modes (so greedy equals beam 1): repetition penalty, then no-repeat n-gram and minimum-length bans.
/// </summary>
public sealed class ReportDecoder
{
    private readonly Gpt2Model model;
    private readonly int bosId;
    private readonly int eosId;
    private readonly bool useCache;

    /// <summary>
    /// Creates a decoder that starts every sequence with <paramref name="bosId"/> and ends it at <paramref name="eosId"/>;
    /// <paramref name="useCache"/> false re-runs the whole prefix every step (same results up to float rounding, slower).
    /// </summary>
    public ReportDecoder(Gpt2Model model, int bosId, int eosId, bool useCache = true)
    {
        var v = model.Config.VocabSize;
        if (bosId < 0 || bosId >= v) throw new ArgumentException($"BOS id {bosId} is outside the vocabulary (size {v})");
        if (eosId < 0 || eosId >= v) throw new ArgumentException($"EOS id {eosId} is outside the vocabulary (size {v})");
        this.model = model;
        this.bosId = bosId;
        this.eosId = eosId;
        this.useCache = useCache;
    }

    /// <summary>Decodes one report per memory row: greedy when <see cref="DecodingOptions.NumBeams"/> is 1, beam search otherwise.</summary>
    /// <param name="memory">Encoder memory <c>(B, M, E)</c>.</param>
    /// <param name="options">Search settings.</param>
    /// <param name="unconditional">
    /// The memory without an ECG <c>(1, M', E)</c>, needed when <see cref="DecodingOptions.GuidanceScale"/> is positive.
    /// </param>
    /// <exception cref="ArgumentException">Guidance is on and <paramref name="unconditional"/> is missing or mis-shaped.</exception>
    public IReadOnlyList<DecodedReport> Generate(Tensor memory, DecodingOptions options, Tensor? unconditional = null)
    {
        if (options.GuidanceScale > 0)
        {
            if (unconditional is null) throw new ArgumentException("guidance_scale > 0 needs the unconditional memory");
            if (unconditional.dim() != 3 || unconditional.shape[0] != 1 || unconditional.shape[2] != model.Config.NEmbd)
                throw new ArgumentException($"the unconditional memory must be (1, M, {model.Config.NEmbd}), got [{string.Join(", ", unconditional.shape)}]");
        }
        unconditionalMemory = options.GuidanceScale > 0 ? unconditional : null;
        try
        {
            return options.NumBeams == 1 ? Greedy(memory, options) : BeamSearch(memory, options);
        }
        finally
        {
            unconditionalMemory = null;
        }
    }

    // The unconditional memory (1, M', E) of the running Generate call when guidance is on, else null.
    private Tensor? unconditionalMemory;

    /// <summary>Greedy decoding: the most probable (processed) token at every step, for every record at once.</summary>
    /// <param name="memory">Encoder memory <c>(B, M, E)</c>.</param>
    /// <param name="options">Search settings; <see cref="DecodingOptions.NumBeams"/> is not used.</param>
    public IReadOnlyList<DecodedReport> Greedy(Tensor memory, DecodingOptions options)
    {
        var b = CheckMemory(memory, options);
        var seqs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var sums = new double[b];
        var done = new bool[b];
        var eos = new bool[b];
        using var cache = useCache ? model.NewCache() : null;
        var previous = Array.Empty<int>();
        while (true)
        {
            var live = Enumerable.Range(0, b).Where(r => !done[r]).ToArray();
            if (live.Length == 0) break;
            // Row i of this step continues row parents[i] of the previous step (the same record).
            var parents = live.Select(r => Array.IndexOf(previous, r)).ToArray();
            var logProbs = NextLogProbs(memory, live, live.Select(r => seqs[r]).ToArray(), cache, parents, options);
            previous = live;
            for (var i = 0; i < live.Length; i++)
            {
                var r = live[i];
                var row = logProbs[i];
                var best = -1;
                for (var t = 0; t < row.Length; t++)
                    if (!double.IsNegativeInfinity(row[t]) && (best < 0 || row[t] > row[best])) best = t;
                if (best < 0)
                {
                    done[r] = true;
                    continue;
                }
                sums[r] += row[best];
                seqs[r].Add(best);
                if (best == eosId) eos[r] = done[r] = true;
                else if (seqs[r].Count >= options.MaxLength) done[r] = true;
            }
        }
        return Enumerable.Range(0, b).Select(r => Finish(seqs[r], sums[r], eos[r], options)).ToArray();
    }

    /// <summary>
    /// Beam search: per record, <see cref="DecodingOptions.NumBeams"/> live hypotheses; an <c>[EOS]</c>
    /// candidate among the best <c>NumBeams</c> ends a hypothesis, and a record stops once it has
    /// <c>NumBeams</c> finished hypotheses and no live one can still beat the worst of them (an exact
    /// bound, not Hugging Face's heuristic). Returns the best finished hypothesis per record.
    /// </summary>
    /// <param name="memory">Encoder memory <c>(B, M, E)</c>.</param>
    /// <param name="options">Search settings.</param>
    public IReadOnlyList<DecodedReport> BeamSearch(Tensor memory, DecodingOptions options)
    {
        var b = CheckMemory(memory, options);
        var k = options.NumBeams;
        // Parent: the row of the previous step's forward pass whose cached keys and values this hypothesis extends.
        var running = Enumerable.Range(0, b).Select(_ => new List<(List<int> Seq, double Sum, int Parent)> { ([], 0.0, -1) }).ToArray();
        var finished = Enumerable.Range(0, b).Select(_ => new List<DecodedReport>()).ToArray();
        var done = new bool[b];
        using var cache = useCache ? model.NewCache() : null;

        void AddFinished(int r, List<int> seq, double sum, bool endedWithEos)
        {
            var list = finished[r];
            list.Add(Finish(seq, sum, endedWithEos, options));
            list.Sort((x, y) => y.Score.CompareTo(x.Score));
            if (list.Count > k) list.RemoveAt(list.Count - 1);
        }

        while (true)
        {
            var records = new List<int>();
            var seqs = new List<List<int>>();
            var owners = new List<(int Record, int Beam)>();
            var parents = new List<int>();
            for (var r = 0; r < b; r++)
            {
                if (done[r]) continue;
                for (var j = 0; j < running[r].Count; j++)
                {
                    records.Add(r);
                    seqs.Add(running[r][j].Seq);
                    owners.Add((r, j));
                    parents.Add(running[r][j].Parent);
                }
            }
            if (records.Count == 0) break;
            var logProbs = NextLogProbs(memory, records.ToArray(), seqs.ToArray(), cache, parents.ToArray(), options);

            var byRecord = owners.Select((o, i) => (o, i)).GroupBy(x => x.o.Record);
            foreach (var group in byRecord)
            {
                var r = group.Key;
                var rowOfBeam = group.ToDictionary(x => x.o.Beam, x => x.i);
                var candidates = BestCandidates(rowOfBeam, logProbs, running[r], k);
                var next = new List<(List<int> Seq, double Sum, int Parent)>();
                for (var rank = 0; rank < candidates.Count && next.Count < k; rank++)
                {
                    var c = candidates[rank];
                    var seq = new List<int>(running[r][c.Beam].Seq) { c.Token };
                    if (c.Token == eosId)
                    {
                        if (rank < k) AddFinished(r, seq, c.Sum, true);
                    }
                    else if (seq.Count >= options.MaxLength) AddFinished(r, seq, c.Sum, false);
                    else next.Add((seq, c.Sum, rowOfBeam[c.Beam]));
                }
                running[r] = next;
                if (next.Count == 0) done[r] = true;
                else if (finished[r].Count >= k)
                {
                    var worst = finished[r][^1].Score;
                    done[r] = next.All(h => UpperBound(h.Sum, h.Seq.Count, options) <= worst);
                }
            }
        }
        return Enumerable.Range(0, b).Select(r => finished[r].Count > 0
            ? finished[r][0]
            : new DecodedReport([], double.NegativeInfinity, false)).ToArray();
    }

    /// <summary>
    /// The best <c>2k</c> extensions (sum, beam, token) of one record's live beams, best first; <paramref name="rowOfBeam"/>
    /// maps each beam to its row of <paramref name="logProbs"/>. Only these can be used: each beam has one <c>[EOS]</c>
    /// candidate (at most k ranks go to finished) and the search stops after k live ones; at max length the finished
    /// list keeps the best k. A bounded insertion keeps them without sorting all beams × V candidates.
    /// </summary>
    private static List<(double Sum, int Beam, int Token)> BestCandidates(Dictionary<int, int> rowOfBeam, double[][] logProbs,
        List<(List<int> Seq, double Sum, int Parent)> beams, int k)
    {
        var candidates = new List<(double Sum, int Beam, int Token)>(2 * k + 1);
        foreach (var (beam, i) in rowOfBeam)
        {
            var row = logProbs[i];
            var baseSum = beams[beam].Sum;
            for (var t = 0; t < row.Length; t++)
            {
                if (double.IsNegativeInfinity(row[t])) continue;
                var c = (baseSum + row[t], beam, t);
                if (candidates.Count == 2 * k && CompareCandidates(c, candidates[^1]) >= 0) continue;
                var at = candidates.BinarySearch(c, CandidateOrder);
                candidates.Insert(at < 0 ? ~at : at, c);
                if (candidates.Count > 2 * k) candidates.RemoveAt(candidates.Count - 1);
            }
        }
        return candidates;
    }

    /// <summary>Best first; ties broken by beam then token, as greedy's first maximum.</summary>
    private static int CompareCandidates((double Sum, int Beam, int Token) x, (double Sum, int Beam, int Token) y) =>
        y.Sum != x.Sum ? y.Sum.CompareTo(x.Sum) : x.Beam != y.Beam ? x.Beam.CompareTo(y.Beam) : x.Token.CompareTo(y.Token);

    private static readonly Comparer<(double Sum, int Beam, int Token)> CandidateOrder = Comparer<(double Sum, int Beam, int Token)>.Create(CompareCandidates);

    /// <summary>
    /// The best score any completion of a live hypothesis (sum <paramref name="sum"/> ≤ 0 over
    /// <paramref name="length"/> tokens) can reach: its sum cannot grow, and the length divisor is most
    /// favourable at the longest (α &gt; 0) or shortest (α ≤ 0) possible completion.
    /// </summary>
    private static double UpperBound(double sum, int length, DecodingOptions options)
    {
        var len = options.LengthPenalty > 0 ? options.MaxLength : length + 1;
        return sum / Math.Pow(len, options.LengthPenalty);
    }

    private DecodedReport Finish(List<int> seq, double sum, bool endedWithEos, DecodingOptions options)
    {
        var score = seq.Count == 0 ? double.NegativeInfinity : sum / Math.Pow(seq.Count, options.LengthPenalty);
        var tokens = endedWithEos ? seq.Take(seq.Count - 1).ToArray() : seq.ToArray();
        return new DecodedReport(tokens, score, endedWithEos);
    }

    private int CheckMemory(Tensor memory, DecodingOptions options)
    {
        options.Validate(model.Config.NPositions);
        if (memory.dim() != 3 || memory.shape[2] != model.Config.NEmbd)
            throw new ArgumentException($"memory must be (B, M, {model.Config.NEmbd}), got [{string.Join(", ", memory.shape)}]");
        return (int)memory.shape[0];
    }

    /// <summary>
    /// One forward pass for the rows <c>[BOS] + seqs[i]</c> with the memories of <paramref name="records"/>; returns the
    /// processed next-token log-probabilities, one array per row. Without a cache the whole prefix (all rows the same
    /// length) is fed. With one, the first call feeds the prefix and fills it; later calls first keep cache row
    /// <c>parents[i]</c> (the previous call's row that row i extends) as row i, then feed only each row's newest token.
    /// </summary>
    private double[][] NextLogProbs(Tensor memory, int[] records, List<int>[] seqs, Gpt2KvCache? cache, int[] parents, DecodingOptions options)
    {
        var n = records.Length;
        double[] values;
        using (torch.no_grad())
        using (var scope = torch.NewDisposeScope())
        {
            var device = memory.device;
            Tensor logits;
            if (cache is null || cache.Length == 0)
            {
                var t = seqs[0].Count + 1;
                var flat = new long[n * t];
                for (var i = 0; i < n; i++)
                {
                    flat[i * t] = bosId;
                    for (var j = 0; j < seqs[i].Count; j++) flat[i * t + j + 1] = seqs[i][j];
                }
                var ids = torch.tensor(flat, dtype: ScalarType.Int64, device: device).view(n, t);
                var mem = memory.index_select(0, torch.tensor(records.Select(r => (long)r).ToArray(), device: device));
                logits = model.NextTokenLogits(ids, torch.ones(n, t, dtype: ScalarType.Int64, device: device), mem, cache);
            }
            else
            {
                // The cache holds [BOS] + seqs[i] without its newest token for the parent row.
                var newest = new long[n];
                for (var i = 0; i < n; i++)
                {
                    if (parents[i] < 0 || parents[i] >= cache.BatchSize || seqs[i].Count != cache.Length)
                        throw new InvalidOperationException($"decoding row {i} (parent {parents[i]}, {seqs[i].Count} tokens) does not extend the key/value cache ({cache.BatchSize} rows of {cache.Length} tokens)");
                    newest[i] = seqs[i][^1];
                }
                if (n != cache.BatchSize || parents.Where((p, i) => p != i).Any())
                    cache.Reorder(torch.tensor(parents.Select(p => (long)p).ToArray(), dtype: ScalarType.Int64, device: device));
                var ids = torch.tensor(newest, dtype: ScalarType.Int64, device: device).view(n, 1);
                var mask = torch.ones(n, cache.Length + 1, dtype: ScalarType.Int64, device: device);
                logits = model.NextTokenLogits(ids, mask, null, cache);
            }
            var logProbs = nn.functional.log_softmax(logits.to(ScalarType.Float64), -1);              // (n, V)
            if (unconditionalMemory is { } u)
            {
                // Classifier-free guidance. The unconditional pass re-runs the whole prefix (every row has the same length)
                // without a cache: reports are short, and a second cache would have to follow the same reorders.
                var t = seqs[0].Count + 1;
                var flat = new long[n * t];
                for (var i = 0; i < n; i++)
                {
                    flat[i * t] = bosId;
                    for (var j = 0; j < seqs[i].Count; j++) flat[i * t + j + 1] = seqs[i][j];
                }
                var ids = torch.tensor(flat, dtype: ScalarType.Int64, device: device).view(n, t);
                var uLogits = model.NextTokenLogits(ids, torch.ones(n, t, dtype: ScalarType.Int64, device: device), u.expand(n, u.shape[1], u.shape[2]), null);
                var uLogProbs = nn.functional.log_softmax(uLogits.to(ScalarType.Float64), -1);
                var g = options.GuidanceScale;
                using var onePlusG = (1 + g).ToScalar();
                using var gScalar = g.ToScalar();
                logProbs = nn.functional.log_softmax(logProbs.mul(onePlusG).sub(uLogProbs.mul(gScalar)), -1);
            }
            values = logProbs.cpu().data<double>().ToArray();
        }
        var v = model.Config.VocabSize;
        var rows = new double[n][];
        for (var i = 0; i < n; i++)
        {
            var row = new double[v];
            Array.Copy(values, i * v, row, 0, v);
            var full = new List<int>(seqs[i].Count + 1) { bosId };
            full.AddRange(seqs[i]);
            Process(row, full, seqs[i].Count, options);
            rows[i] = row;
        }
        return rows;
    }

    /// <summary>
    /// Applies the repetition penalty, the no-repeat n-gram ban and the minimum-length ban to
    /// <paramref name="logProbs"/> (V) in place; <paramref name="full"/> is <c>[BOS]</c> + generated tokens.
    /// </summary>
    private void Process(double[] logProbs, List<int> full, int generated, DecodingOptions options)
    {
        if (options.RepetitionPenalty != 1.0)
            foreach (var token in full.Distinct())
                logProbs[token] = logProbs[token] < 0 ? logProbs[token] * options.RepetitionPenalty : logProbs[token] / options.RepetitionPenalty;
        var n = options.NoRepeatNgramSize;
        if (n > 0 && full.Count + 1 >= n)
        {
            // Ban every token that would complete an n-gram already present.
            for (var start = 0; start + n <= full.Count; start++)
            {
                var match = true;
                for (var j = 0; j < n - 1 && match; j++) match = full[start + j] == full[full.Count - n + 1 + j];
                if (match) logProbs[full[start + n - 1]] = double.NegativeInfinity;
            }
        }
        if (generated < options.MinLength) logProbs[eosId] = double.NegativeInfinity;
    }
}
