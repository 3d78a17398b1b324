using System.CommandLine;
using Deri.Pretraining;

namespace Deri.Cli.Commands;

/// <summary><c>deri export</c>: a run's weights as safetensors with a JSON config.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Run folder of deri pretrain / deri demo", Required = true };
        var checkpoint = new Option<string>("--checkpoint") { Description = "best, last or a checkpoint path", DefaultValueFactory = _ => "best" };
        var output = new Option<string>("--out", "-o") { Description = "Folder to write model.safetensors, config.json (and text/)", Required = true };
        var cmd = new Command("export", "Export a pretrained model as safetensors (PyTorch state-dict names) + JSON config") { run, checkpoint, output };
        cmd.SetAction(result =>
        {
            using var loaded = PretrainedRun.Load(result.GetValue(run)!, result.GetValue(checkpoint)!, TorchSharp.torch.CPU);
            foreach (string f in RunExporter.Export(loaded, result.GetValue(output)!)) Console.WriteLine(f);
            return 0;
        });
        return cmd;
    }
}
