using Deri.IO;

namespace Deri.Generation.Tokenization;

/// <summary>Opens the tokenizer saved in a folder, whichever kind it is.</summary>
public static class ReportTokenizers
{
    /// <summary>
    /// Loads the tokenizer in <paramref name="directory"/>: GPT-2 byte-level BPE when <c>vocab.json</c> and <c>merges.txt</c>
    /// exist (a Hugging Face folder), else the word-level vocabulary when <c>words.txt</c> exists.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InputFormatException">The folder holds no tokenizer this build reads, or its files are invalid.</exception>
    public static IReportTokenizer Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new InputFileNotFoundException($"{directory}: tokenizer folder not found");
        if (File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt")))
            return Gpt2BpeTokenizer.FromHuggingFace(directory);
        if (File.Exists(Path.Combine(directory, WordLevelTokenizer.FileName))) return WordLevelTokenizer.Load(directory);
        throw new InputFormatException(
            $"{directory}: no report tokenizer found (expected vocab.json + merges.txt of GPT-2, or {WordLevelTokenizer.FileName} of a word-level vocabulary)");
    }
}
