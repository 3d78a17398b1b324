namespace Deri.Generation.Tokenization;

/// <summary>
/// Turns report text into decoder token ids and back (METHOD §4: the target of a report is
/// <c>[BOS] report [EOS]</c>, padded with <c>[PAD]</c>). Two implementations: GPT-2 byte-level BPE from a
/// Hugging Face folder (with <c>[BOS]</c>/<c>[PAD]</c> added after the pretrained vocabulary) and a word-level
/// vocabulary built from the training reports when no pretrained decoder is available.
/// </summary>
public interface IReportTokenizer
{
    /// <summary>Number of token ids, special tokens included (the decoder's <c>vocab_size</c> must be at least this).</summary>
    int VocabSize { get; }

    /// <summary>Id of <c>[BOS]</c>, which starts every sequence.</summary>
    int BosId { get; }

    /// <summary>Id of the end-of-sequence token (GPT-2's <c>&lt;|endoftext|&gt;</c>).</summary>
    int EosId { get; }

    /// <summary>Id of <c>[PAD]</c>; padded positions are masked out of attention and of the loss.</summary>
    int PadId { get; }

    /// <summary>The report's token ids without special tokens.</summary>
    int[] Encode(string text);

    /// <summary>The text of <paramref name="ids"/>; special tokens are dropped.</summary>
    string Decode(IEnumerable<int> ids);

    /// <summary>Writes the files that <c>ReportTokenizers.Load</c> reads back into <paramref name="directory"/>.</summary>
    void Save(string directory);
}
