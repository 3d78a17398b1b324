using System.CommandLine;
using Deri.Interop.Onnx;
using Deri.Pretraining;

namespace Deri.Cli.Commands;

/// <summary><c>deri export</c>: a run's weights as safetensors with a JSON config, or its ECG side as ONNX with a JSON sidecar.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Run folder of deri pretrain / deri demo / deri import", Required = true };
        var checkpoint = new Option<string>("--checkpoint") { Description = "best, last or a checkpoint path", DefaultValueFactory = _ => "best" };
        var format = new Option<string>("--format")
        {
            Description = "safetensors: model.safetensors, config.json (and text/); onnx: model.onnx (ECG side → L2-normalised zero-shot embedding, " +
                          "dynamic batch, batch norm folded) and deri_onnx.json (preprocessing, class prompt embeddings)",
            DefaultValueFactory = _ => "safetensors",
        };
        format.AcceptOnlyFromAmong("safetensors", "onnx");
        var prompts = new Option<string?>("--prompts") { Description = "With --format onnx: prompt file whose class embeddings go into the sidecar (default: the run's zeroshot.prompt_dict when it exists)" };
        var output = new Option<string>("--out", "-o") { Description = "Folder to write the files into", Required = true };
        var cmd = new Command("export", "Export a pretrained model as safetensors (PyTorch state-dict names) + JSON config, or its ECG side as ONNX")
        {
            run, checkpoint, format, prompts, output,
        };
        cmd.Validators.Add(r =>
        {
            if (r.GetResult(prompts) is { Implicit: false } && r.GetValue(format) != "onnx") r.AddError("--prompts goes with --format onnx");
        });
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            using var loaded = PretrainedRun.Load(result.GetValue(run)!, result.GetValue(checkpoint)!, TorchSharp.torch.CPU);
            if (result.GetValue(format) == "onnx")
            {
                var r = OnnxRunExporter.Export(loaded, result.GetValue(output)!, result.GetValue(prompts), line => stderr.WriteLine("warning: " + line));
                stdout.WriteLine(r.Model);
                stdout.WriteLine(r.Sidecar);
                return 0;
            }
            foreach (string f in RunExporter.Export(loaded, result.GetValue(output)!)) stdout.WriteLine(f);
            return 0;
        });
        return cmd;
    }
}
