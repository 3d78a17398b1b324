using Deri.Config;
using Deri.Generation.Decoder;
using Deri.Generation.Tokenization;
using Deri.Models;
using Deri.Pretraining;
using Deri.Training;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Generation;

/// <summary>
/// A report-generation run folder: <c>config.yaml</c> (<see cref="ReportConfig"/>, paths made absolute),
/// <c>tokenizer/</c> (the decoder's tokenizer files) and <c>train/</c> (the shared trainer's output:
/// <c>last.ckpt</c>, <c>best.ckpt</c>, <c>metrics.jsonl</c>, <c>losses.png</c>, <c>train.log</c> and the
/// trainer's copy of the report config in <c>config.yaml</c>). Opened, it holds the report model
/// with one checkpoint's weights in eval mode; dispose it to release the model.
/// </summary>
public sealed class ReportRun : IDisposable
{
    /// <summary>The run's configuration file.</summary>
    public const string ConfigFile = "config.yaml";

    /// <summary>Folder of the tokenizer files.</summary>
    public const string TokenizerFolder = "tokenizer";

    /// <summary>Folder of the trainer's output (checkpoints, metrics).</summary>
    public const string TrainFolder = "train";

    /// <summary>The weights-only checkpoint of a bundled report generator (<see cref="WriteBundled"/>).</summary>
    public const string BundledWeights = "model.ckpt";

    /// <summary>The folder of a bundled report generator that describes its ECG side (a run folder without checkpoints).</summary>
    public const string BundledEcgRun = "ecg-run";

    /// <summary>The folder of a bundled report generator that holds its Hugging Face decoder's <c>config.json</c>.</summary>
    public const string BundledDecoder = "decoder";

    private ReportRun(string directory, string checkpoint, ReportConfig config, IReportTokenizer tokenizer, PretrainedRun pretrained,
        ReportModel model, Device device)
    {
        Directory = directory;
        CheckpointPath = checkpoint;
        Config = config;
        Tokenizer = tokenizer;
        Pretrained = pretrained;
        Model = model;
        Device = device;
    }

    /// <summary>The run folder.</summary>
    public string Directory { get; }

    /// <summary>The checkpoint whose weights were loaded.</summary>
    public string CheckpointPath { get; }

    /// <summary>The run's configuration.</summary>
    public ReportConfig Config { get; }

    /// <summary>The decoder's tokenizer.</summary>
    public IReportTokenizer Tokenizer { get; }

    /// <summary>The pretrained run whose model the report model wraps (its ECG side carries the report checkpoint's weights).</summary>
    public PretrainedRun Pretrained { get; }

    /// <summary>The report model, in eval mode.</summary>
    public ReportModel Model { get; }

    /// <summary>Device of the model.</summary>
    public Device Device { get; }

    /// <summary>
    /// Opens a run made by <see cref="ReportTrainer.Run"/>: <paramref name="checkpoint"/> is <c>best</c> (<c>train/best.ckpt</c>),
    /// <c>last</c> or a checkpoint path.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">The folder or its config is missing.</exception>
    /// <exception cref="InputFileNotFoundException">The checkpoint is missing.</exception>
    /// <exception cref="InputFormatException">The tokenizer or checkpoint does not fit the configured model.</exception>
    public static ReportRun Open(string runDirectory, string checkpoint, Device device, Action<string>? log = null)
    {
        string dir = Path.GetFullPath(runDirectory);
        if (!System.IO.Directory.Exists(dir)) throw new InputFileNotFoundException($"{dir}: report run folder not found");
        if (IsBundled(dir)) return OpenBundled(dir, device, log);
        string configPath = Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath)) throw new InputFileNotFoundException($"{dir}: not a report run folder (no {ConfigFile})");
        var config = ReportConfig.LoadRecorded(configPath);
        string trainDir = Path.Combine(dir, TrainFolder);
        // A run without a validation split has no best.ckpt: its last checkpoint is the one to use.
        if (checkpoint == "best" && !File.Exists(Path.Combine(trainDir, "best.ckpt")) && File.Exists(Path.Combine(trainDir, "last.ckpt")))
            checkpoint = "last";
        string ckpt = PretrainedRun.ResolveCheckpoint(trainDir, checkpoint);
        var tokenizer = ReportTokenizers.Load(Path.Combine(dir, TokenizerFolder));
        var pretrained = PretrainedRun.Load(config.PretrainedRun, config.Checkpoint, device);
        ReportModel? model = null;
        try
        {
            model = BuildModel(config, pretrained, tokenizer, device, loadDecoderWeights: false, log);
            Checkpoint.Load(ckpt, model, optimizer: null, restoreRng: false);
            model.eval();
            return new ReportRun(dir, ckpt, config, tokenizer, pretrained, model, device);
        }
        catch
        {
            model?.Generator.Dispose();
            pretrained.Dispose();
            throw;
        }
    }

    /// <summary>True when <paramref name="dir"/> holds a bundled report generator (<see cref="WriteBundled"/>).</summary>
    public static bool IsBundled(string dir) =>
        File.Exists(Path.Combine(dir, BundledWeights)) && System.IO.Directory.Exists(Path.Combine(dir, BundledEcgRun)) && File.Exists(Path.Combine(dir, ConfigFile));

    // A bundled generator: the module built from ecg-run/config.yaml (no pretrained checkpoint: model.ckpt holds the whole
    // report model, ECG side included), the decoder from config.yaml (and decoder/config.json), then model.ckpt strictly.
    private static ReportRun OpenBundled(string dir, Device device, Action<string>? log)
    {
        var config = ReportConfig.LoadRecorded(Path.Combine(dir, ConfigFile));
        string decoder = Path.Combine(dir, BundledDecoder);
        config = config with { Decoder = File.Exists(Path.Combine(decoder, "config.json")) ? decoder : "" };
        var tokenizer = ReportTokenizers.Load(Path.Combine(dir, TokenizerFolder));
        string weights = Path.Combine(dir, BundledWeights);
        var pretrained = PretrainedRun.BuildUntrained(Path.Combine(dir, BundledEcgRun), weights, device);
        ReportModel? model = null;
        try
        {
            model = BuildModel(config, pretrained, tokenizer, device, loadDecoderWeights: false, log);
            Checkpoint.Load(weights, model, optimizer: null, restoreRng: false);
            model.eval();
            return new ReportRun(dir, weights, config, tokenizer, pretrained, model, device);
        }
        catch
        {
            model?.Generator.Dispose();
            pretrained.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes this generator into the empty folder <paramref name="directory"/> as a model bundle carries it: a
    /// weights-only checkpoint of the whole report model (<see cref="BundledWeights"/>, no optimizer state), the config
    /// (paths of this machine left out), the tokenizer, the ECG side's run config (<see cref="BundledEcgRun"/>, with the
    /// scratch text vocabulary when the run has one) and a Hugging Face decoder's <c>config.json</c>. <see cref="Open"/>
    /// reopens it.
    /// </summary>
    /// <exception cref="InputFormatException">The run's text side is a local folder, which a bundle does not carry.</exception>
    public void WriteBundled(string directory)
    {
        var network = Pretrained.Config.Network;
        if (!Deri.Text.TextModelSetting.IsScratch(network.TextModel) && !Deri.Text.TextModelSetting.IsBuiltIn(network.TextModel))
            throw new InputFormatException($"{Pretrained.Directory}: the text side is the folder '{network.TextModel}', which a bundle does not carry " +
                "(a bundled report generator needs a built-in text model or a scratch one)");
        System.IO.Directory.CreateDirectory(directory);
        int epoch = 0;
        try
        {
            epoch = Checkpoint.ReadInfo(CheckpointPath).Epoch;
        }
        catch (Exception e) when (e is InputException or InvalidDataException)
        {
            // The epoch is provenance only.
        }
        Checkpoint.Save(Path.Combine(directory, BundledWeights), new CheckpointInfo
        {
            Epoch = epoch,
            SavedUtc = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        }, Model, optimizer: null);
        var bundled = Config with
        {
            PretrainedRun = BundledEcgRun,
            Decoder = Config.Decoder.Length > 0 ? BundledDecoder : "",
            DataPath = "",
        };
        File.WriteAllText(Path.Combine(directory, ConfigFile), bundled.ToYaml());
        CopyFolder(Path.Combine(Directory, TokenizerFolder), Path.Combine(directory, TokenizerFolder));
        string ecg = Path.Combine(directory, BundledEcgRun);
        System.IO.Directory.CreateDirectory(ecg);
        File.Copy(Path.Combine(Pretrained.Directory, "config.yaml"), Path.Combine(ecg, "config.yaml"));
        string vocab = Path.Combine(Pretrained.Directory, Pretrainer.TextFolder, "vocab.txt");
        if (Deri.Text.TextModelSetting.IsScratch(network.TextModel) && File.Exists(vocab))
        {
            System.IO.Directory.CreateDirectory(Path.Combine(ecg, Pretrainer.TextFolder));
            File.Copy(vocab, Path.Combine(ecg, Pretrainer.TextFolder, "vocab.txt"));
        }
        if (Config.Decoder.Length > 0)
        {
            System.IO.Directory.CreateDirectory(Path.Combine(directory, BundledDecoder));
            File.Copy(Path.Combine(Config.Decoder, "config.json"), Path.Combine(directory, BundledDecoder, "config.json"));
        }
    }

    private static void CopyFolder(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (string f in System.IO.Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, f));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }

    /// <summary>
    /// Builds the report model over <paramref name="pretrained"/>'s model: a GPT-2 from the configured Hugging Face folder
    /// (its weights loaded when <paramref name="loadDecoderWeights"/>, then the token table resized to the tokenizer's size
    /// by <see cref="Gpt2Model.ResizeTokenEmbeddings"/>; cross-attention is new) or the small GPT-2 of <c>small_decoder</c>.
    /// </summary>
    public static ReportModel BuildModel(ReportConfig config, PretrainedRun pretrained, IReportTokenizer tokenizer, Device device,
        bool loadDecoderWeights, Action<string>? log = null)
    {
        var deri = pretrained.Module.Model;
        var feature = ReportModel.ResolveFeature(config.Feature, deri.Method);
        Gpt2Config gpt;
        int vocab = tokenizer.VocabSize;
        Dictionary<string, Tensor>? weights = null;
        if (config.Decoder.Length > 0)
        {
            string cfg = Path.Combine(config.Decoder, "config.json");
            if (!File.Exists(cfg)) throw new InputFileNotFoundException($"decoder: {cfg} not found (decoder must be a Hugging Face GPT-2 folder)", cfg);
            var hf = Gpt2Config.Load(cfg);
            vocab = Math.Max(hf.VocabSize, tokenizer.VocabSize);
            gpt = hf with { AddCrossAttention = true };
            if (config.MaxLength > gpt.NPositions)
                throw new InputFormatException($"max_length {config.MaxLength} exceeds the decoder's n_positions {gpt.NPositions} ({cfg})");
            if (loadDecoderWeights)
            {
                string file = Path.Combine(config.Decoder, "model.safetensors");
                if (!File.Exists(file)) throw new InputFileNotFoundException($"decoder: {file} not found", file);
                weights = SafeTensors.Load(file);
            }
            else
            {
                // Resuming or reopening: the checkpoint already holds the resized table.
                gpt = gpt with { VocabSize = vocab };
            }
        }
        else
        {
            var s = config.SmallDecoder;
            gpt = new Gpt2Config(NEmbd: s.NEmbd, NLayer: s.NLayer, NHead: s.NHead, NPositions: config.MaxLength, VocabSize: vocab,
                AddCrossAttention: true, EmbdPdrop: s.Dropout, AttnPdrop: s.Dropout, ResidPdrop: s.Dropout);
        }
        var model = new ReportModel(deri, feature, gpt, config.FreezeEcg, config.MemoryKind(), config.LabelSmoothing, config.MemoryDropout);
        if (weights is not null)
        {
            // Strict: every key but the cross-attention a plain GPT-2 checkpoint lacks must load, or this throws with the list.
            StateDictReport report;
            try
            {
                report = model.Generator.Decoder.LoadHuggingFace(weights, source: Path.Combine(config.Decoder, "model.safetensors"));
            }
            catch
            {
                model.Generator.Dispose();
                throw;
            }
            finally
            {
                foreach (var t in weights.Values) t.Dispose();
            }
            log?.Invoke($"decoder: {config.Decoder}: {report.Loaded.Count} tensors loaded" + (report.Missing.Count == 0 ? ""
                : $"; {report.Missing.Count} cross-attention tensors are new (the checkpoint has none): {string.Join(", ", report.Missing)}"));
            model.Generator.Decoder.ResizeTokenEmbeddings(vocab);
        }
        model.to(device);
        var final = model.Generator.Decoder.Config;
        log?.Invoke($"report model: {deri.Method} {feature} feature ({deri.Width}-d) → GPT-2 {final.NLayer} layers, {final.NEmbd}-d, vocabulary {final.VocabSize}; " +
                    (config.FreezeEcg ? "ECG side frozen" : "whole model trained"));
        return model;
    }

    /// <summary>Generates one report per ECG <c>(B, leads, L)</c> with <paramref name="options"/>.</summary>
    public IReadOnlyList<string> Generate(Tensor ecg, DecodingOptions options)
    {
        Model.eval();
        using var scope = NewDisposeScope();
        var decoded = Model.Generate(ecg.to(Device), Tokenizer.BosId, Tokenizer.EosId, options);
        return decoded.Select(d => Tokenizer.Decode(d.Tokens)).ToArray();
    }

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        Model.Generator.Dispose();
        Pretrained.Dispose();
    }
}
