using System.CommandLine;
using Deri.Interop.Import;

namespace Deri.Cli.Commands;

/// <summary><c>deri import</c>: a PyTorch checkpoint of DERI, MERL or a baseline as a Deri run folder.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "Checkpoint: .pt/.pth (torch.save; a 'state_dict' or 'model' wrapper and a 'module.' prefix are removed) or .safetensors", Required = true };
        var method = new Option<string>("--method") { Description = "network.method of the run: deri, merl or an ECG-only baseline (simclr, byol, …)", Required = true };
        var config = ConfigOptions.File();
        config.Description = "Config describing the checkpoint's architecture (network.*, dataset.seq_length); default: the release defaults";
        var set = ConfigOptions.Set();
        var vocab = new Option<string?>("--vocab") { Description = "vocab.txt of a network.text_model: scratch text encoder" };
        var allowMissing = OptionRules.StringList("--allow-missing",
            "Module key prefixes the checkpoint may lack (left at initialisation), e.g. att_pool_head. or text.; without it every module key must be loaded");
        var output = new Option<string>("--out", "-o") { Description = "Run folder to create (config.yaml, best.ckpt, last.ckpt, import_report.json)", Required = true };
        var cmd = new Command("import", "Turn a PyTorch checkpoint (DERI, MERL or a baseline) into a run folder that zeroshot, probe, embed, export and report train open")
        {
            from, method, config, set, vocab, allowMissing, output,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            var report = CheckpointImporter.Import(new ImportOptions(result.GetValue(from)!, result.GetValue(method)!, result.GetValue(config),
                result.GetValue(output)!, result.GetValue(vocab), OptionRules.Split(result.GetValue(allowMissing) ?? []).ToList(),
                result.GetValue(set) ?? []));
            foreach (string note in report.Notes) stderr.WriteLine(note);
            if (report.Unexpected.Count > 0) stderr.WriteLine("not loaded: " + string.Join(", ", report.Unexpected));
            stdout.WriteLine($"{report.Loaded.Count} tensors loaded, {report.Renamed.Count} renamed, {report.MissingAllowed.Count} left at initialisation, " +
                              $"{report.Unexpected.Count} not loaded → {report.Run}");
            return 0;
        });
        return cmd;
    }
}
