using Deri.Baselines;
using Deri.Config;
using Deri.Data.Store;
using Deri.IO;
using Deri.Models;
using Deri.Training;
using static TorchSharp.torch;

namespace Deri.Pretraining;

/// <summary>
/// A pretrained run opened for downstream use: its configuration and its pretraining module with the weights of
/// one checkpoint, in eval mode. A DERI or MERL run (<see cref="IsEcgText"/>) has <see cref="Module"/>; a run of an
/// ECG-only baseline has <see cref="SslMethod"/> instead. Dispose it to release the module.
/// </summary>
public sealed class PretrainedRun : IDisposable
{
    private readonly DeriPretrainingModule? module;

    private PretrainedRun(string directory, string checkpoint, DeriConfig config, DeriPretrainingModule? module, EcgSslMethod? sslMethod,
        Device device)
    {
        Directory = directory;
        CheckpointPath = checkpoint;
        Config = config;
        this.module = module;
        SslMethod = sslMethod;
        Device = device;
    }

    /// <summary>The run folder.</summary>
    public string Directory { get; }

    /// <summary>Full path of the checkpoint whose weights were loaded.</summary>
    public string CheckpointPath { get; }

    /// <summary>The run's configuration (<c>RUN/config.yaml</c>).</summary>
    public DeriConfig Config { get; }

    /// <summary>The run's <c>network.method</c>.</summary>
    public string Method => Config.Network.Method;

    /// <summary>Whether the run is an ECG–text model (DERI or MERL), with a text encoder and zero-shot classification.</summary>
    public bool IsEcgText => module is not null;

    /// <summary>The model and text encoder of a DERI or MERL run, in eval mode.</summary>
    /// <exception cref="InputException">The run is an ECG-only baseline (see <see cref="SslMethod"/>).</exception>
    public DeriPretrainingModule Module => module ?? throw new InputException(
        $"{Directory}: the run was pretrained with {Method}, an ECG-only method without text encoder: it has no ECG–text model, " +
        "so zero-shot classification, report features and the mixed/aligned/global/zeroshot features are not available " +
        "(probe, embed and t-SNE use its encoder feature)");

    /// <summary>The ECG-only method of a baseline run, in eval mode; null for DERI and MERL runs.</summary>
    public EcgSslMethod? SslMethod { get; }

    /// <summary>The module whose weights were loaded (the ECG–text module or the ECG-only method).</summary>
    public TorchSharp.torch.nn.Module Network => (TorchSharp.torch.nn.Module?)module ?? SslMethod!;

    /// <summary>The device the module lives on.</summary>
    public Device Device { get; }

    /// <summary>A short name of the run for tables: the run folder's name.</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(Directory));

    /// <summary>
    /// Resolves <paramref name="checkpoint"/>: <c>best</c> → <c>RUN/best.ckpt</c>, <c>last</c> → <c>RUN/last.ckpt</c>,
    /// anything else is a checkpoint path.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">The checkpoint does not exist.</exception>
    public static string ResolveCheckpoint(string runDirectory, string checkpoint)
    {
        string path = checkpoint switch
        {
            "best" => Path.Combine(runDirectory, "best.ckpt"),
            "last" => Path.Combine(runDirectory, "last.ckpt"),
            _ => checkpoint,
        };
        path = Path.GetFullPath(path);
        if (!File.Exists(path))
            throw new InputFileNotFoundException(checkpoint is "best" or "last"
                ? $"{runDirectory}: the run has no {checkpoint} checkpoint ({path} not found)"
                : $"{path}: checkpoint not found", path);
        return path;
    }

    /// <summary>
    /// Opens a run made by <see cref="Pretrainer.Run"/>: reads <c>RUN/config.yaml</c>, builds the ECG-only method it
    /// names, or the module with the run's text encoder (the vocabulary in <c>RUN/text</c>, or the pretrained folder the config names) and loads the
    /// checkpoint's weights strictly.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">The run folder or its <c>config.yaml</c> is missing.</exception>
    /// <exception cref="InputFileNotFoundException">The checkpoint is missing.</exception>
    /// <exception cref="InputFormatException">The vocabulary is missing or the checkpoint does not fit the configured model.</exception>
    public static PretrainedRun Load(string runDirectory, string checkpoint, Device device)
    {
        string dir = Path.GetFullPath(runDirectory);
        string configPath = Path.Combine(dir, "config.yaml");
        if (!System.IO.Directory.Exists(dir)) throw new InputFileNotFoundException($"{dir}: run folder not found");
        // A model bundle (Interop/Bundle, "model.json") holds the ECG side as ONNX, not the TorchSharp model this needs.
        if (!File.Exists(configPath) && File.Exists(Path.Combine(dir, "model.json")))
            throw new InputFileNotFoundException($"{dir}: a model bundle, not a run folder: this command needs the run's TorchSharp model " +
                "(a bundle carries only the ECG side's zero-shot embedding as ONNX); pass the run folder the bundle was built from (`deri model info` names it)");
        if (!File.Exists(configPath)) throw new InputFileNotFoundException($"{dir}: not a run folder (no config.yaml)");
        string ckpt = ResolveCheckpoint(dir, checkpoint);
        var config = DeriConfig.LoadRecorded(configPath);
        if (MethodNames.IsEcgOnly(config.Network.Method))
        {
            var (method, resolved) = Pretrainer.BuildSsl(config, totalSteps: 0, device);
            return new PretrainedRun(dir, ckpt, resolved, null, LoadWeights(method, ckpt), device);
        }
        var module = Pretrainer.Build(config, dir, () => throw new InputFormatException(
            $"{dir}: the run has no text vocabulary ({Path.Combine(dir, Pretrainer.TextFolder, "vocab.txt")}), which its text encoder " +
            $"trained from scratch needs (network.text_model: {Deri.Text.TextModelSetting.Scratch})"),
            device);
        return new PretrainedRun(dir, ckpt, config, LoadWeights(module, ckpt), null, device);
    }

    /// <summary>
    /// Builds the DERI or MERL module that <c>RUN/config.yaml</c> describes (with <c>RUN/text/vocab.txt</c> for a scratch
    /// text side) without loading a checkpoint: for a caller whose own checkpoint carries the weights it needs (a bundled
    /// report generator's checkpoint holds the ECG side). <paramref name="weights"/> is recorded as <see cref="CheckpointPath"/>.
    /// </summary>
    /// <exception cref="InputFileNotFoundException">The folder or its <c>config.yaml</c> is missing.</exception>
    /// <exception cref="InputFormatException">The config names an ECG-only method, or a scratch text side has no vocabulary.</exception>
    public static PretrainedRun BuildUntrained(string runDirectory, string weights, Device device)
    {
        string dir = Path.GetFullPath(runDirectory);
        string configPath = Path.Combine(dir, "config.yaml");
        if (!File.Exists(configPath)) throw new InputFileNotFoundException($"{dir}: not a run folder (no config.yaml)");
        var config = DeriConfig.LoadRecorded(configPath);
        if (MethodNames.IsEcgOnly(config.Network.Method))
            throw new InputFormatException($"{configPath}: {config.Network.Method} is an ECG-only method; only DERI and MERL modules are built without a checkpoint");
        var module = Pretrainer.Build(config, dir, () => throw new InputFormatException(
            $"{dir}: no text vocabulary ({Path.Combine(dir, Pretrainer.TextFolder, "vocab.txt")}) for the scratch text encoder"), device);
        module.eval();
        return new PretrainedRun(dir, Path.GetFullPath(weights), config, module, null, device);
    }

    /// <summary>Loads <paramref name="checkpoint"/> into <paramref name="module"/> for inference; disposes it if that fails.</summary>
    private static T LoadWeights<T>(T module, string checkpoint) where T : nn.Module
    {
        try
        {
            Checkpoint.Load(checkpoint, module, optimizer: null, restoreRng: false);
            module.eval();
            return module;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>Throws when the store's records do not have the shape the run's model was trained on.</summary>
    /// <exception cref="InputFormatException">Lead count or record length differ.</exception>
    public void CheckStore(EcgStore store)
    {
        if (store.Index.Leads != Config.Network.NumLeads || store.Index.Length != Config.Dataset.SeqLength)
            throw new InputFormatException(
                $"{store.Directory}: records are {store.Index.Leads} leads × {store.Index.Length} samples but the run {Directory} was trained on " +
                $"{Config.Network.NumLeads} leads × {Config.Dataset.SeqLength} samples (prepare the store at the run's sampling rate and length)");
    }

    /// <summary>Releases the module.</summary>
    public void Dispose() => Network.Dispose();
}
