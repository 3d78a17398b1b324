using Deri.IO;

namespace Deri.Text;

/// <summary>
/// What <c>network.text_model</c> may name: a built-in pretrained model (<see cref="BuiltInTextModel"/>: <c>minilm</c>,
/// <c>arcticxs</c>; frozen, shipped inside Deri, no download), a local Hugging Face BERT folder (pretrained, frozen, as the
/// release freezes MedCPT) or <see cref="Scratch"/> (a small BERT over a vocabulary of the training reports, trained jointly). Nothing
/// else: a name that is neither is an error, never a silent switch to an untrained encoder, because a run trained
/// that way is a different experiment from the one its config describes.
/// </summary>
public static class TextModelSetting
{
    /// <summary>The value that asks for a small BERT trained from scratch.</summary>
    public const string Scratch = "scratch";

    /// <summary>The files a Hugging Face BERT folder must hold for <see cref="TextEncoder.FromHuggingFace"/>.</summary>
    public static readonly IReadOnlyList<string> RequiredFiles = ["config.json", "model.safetensors", "vocab.txt"];

    /// <summary>Whether <paramref name="value"/> is <see cref="Scratch"/> (exactly; a folder may not be called that).</summary>
    public static bool IsScratch(string value) => string.Equals(value, Scratch, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="value"/> names a built-in model (exactly; a folder of that name is written <c>./minilm</c>).</summary>
    public static bool IsBuiltIn(string value) => BuiltInTextModel.Find(value) is not null;

    /// <summary>
    /// The value a run records: <see cref="Scratch"/> and built-in names unchanged, or the full path of the BERT folder
    /// <paramref name="value"/> names (relative paths against the working folder) after checking that it holds
    /// <see cref="RequiredFiles"/>. Resolving a resolved value gives it back.
    /// </summary>
    /// <param name="value">The <c>network.text_model</c> setting.</param>
    /// <exception cref="ArgumentException">The setting is empty.</exception>
    /// <exception cref="InputFileNotFoundException">No folder of that name exists (e.g. a hub name such as the release's MedCPT, or a typo).</exception>
    /// <exception cref="InputFileNotFoundException">The folder lacks a required file; the message lists every missing one.</exception>
    public static string Resolve(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (IsScratch(value)) return Scratch;
        if (IsBuiltIn(value)) return value;
        if (string.IsNullOrWhiteSpace(value))
            throw new Deri.Config.ConfigException($"network.text_model is empty: name a built-in model ({BuiltInTextModel.Names}), a local Hugging Face BERT folder, or '{Scratch}' to train a small BERT from the training reports");
        string full = Path.GetFullPath(value);
        if (!Directory.Exists(full))
            throw new InputFileNotFoundException(
                $"network.text_model: '{value}' is not a folder ({full} does not exist). Deri does not download models: " +
                $"pass a built-in model ({BuiltInTextModel.Names}), a local Hugging Face BERT folder ({string.Join(", ", RequiredFiles)}), or '{Scratch}' to train a small BERT " +
                "from the training reports");
        var missing = RequiredFiles.Where(f => !File.Exists(Path.Combine(full, f))).ToList();
        if (missing.Count > 0)
        {
            string hint = missing.Contains("model.safetensors") && File.Exists(Path.Combine(full, "pytorch_model.bin"))
                ? $"; it has only pytorch_model.bin, convert it once in that folder: {HuggingFaceBert.ConvertCommand}"
                : "";
            throw new InputFileNotFoundException(
                $"network.text_model: {full} is not a Hugging Face BERT folder: {string.Join(", ", missing)} not found{hint}",
                Path.Combine(full, missing[0]));
        }
        return full;
    }
}
