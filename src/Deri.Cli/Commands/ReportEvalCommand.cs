using System.CommandLine;
using Deri.Data.Store;
using Deri.Evaluation;
using Deri.Generation;
using Deri.IO;

namespace Deri.Cli.Commands;

/// <summary><c>deri report eval</c>: generates a store split and writes NLG and clinical-efficacy metrics.</summary>
internal static class ReportEvalCommand
{
    public static Command Create()
    {
        var model = ReportGenerateCommand.Model();
        var checkpoint = ReportGenerateCommand.Checkpoint();
        var store = new Option<string>("--store") { Description = "Prepared store with the reference reports", Required = true };
        var split = new Option<string>("--split") { Description = "train, val or test", DefaultValueFactory = _ => "test" };
        var labels = OptionRules.StringList("--labels-store",
            "Stores whose labels are the CE ground truth (records matched by id; default: --store's own labels)");
        var prompts = new Option<string?>("--prompts") { Description = "Class prompt JSON (default: the pretrained run's zeroshot.prompt_dict)" };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (generated.jsonl, metrics.json, metrics.md)", Required = true };
        var beams = ReportGenerateCommand.Beams();
        var maxNew = ReportGenerateCommand.MaxNewTokens();
        var guidance = ReportGenerateCommand.Guidance();
        var batch = ReportGenerateCommand.Batch();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("eval", "Generate a store split's reports and score them: BLEU-1..4, ROUGE-L, clinical efficacy per label store")
        {
            model, checkpoint, store, split, labels, prompts, output, beams, maxNew, guidance, batch, device, threads,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            string storeDir = result.GetValue(store)!;
            string sp = result.GetValue(split)!;
            if (!ReportGeneration.Splits.Contains(sp)) throw new CliUsageException($"--split must be one of {string.Join(", ", ReportGeneration.Splits)}, got '{sp}'");
            if (!EcgStore.Exists(storeDir)) throw new InputFileNotFoundException($"{storeDir}: no prepared store (no index.json)");
            foreach (string l in result.GetValue(labels)!)
                if (!EcgStore.Exists(l)) throw new InputFileNotFoundException($"{l}: no prepared label store (no index.json)");
            var dev = CommonOptions.Settings(result, device, threads).Resolve();
            using var run = ReportRun.Open(result.GetValue(model)!, result.GetValue(checkpoint)!, dev);
            var options = ReportGenerateCommand.Decoding(result, run, beams, maxNew, guidance);
            string promptFile = result.GetValue(prompts) ?? run.Pretrained.Config.Zeroshot.PromptDict;
            if (!File.Exists(promptFile))
                throw new InputFileNotFoundException($"{promptFile}: class prompt file not found (pass --prompts)", promptFile);
            var classPrompts = ClassPrompts.Load(promptFile);
            using var s = EcgStore.Open(storeDir);
            var labelStores = result.GetValue(labels)!.Select(EcgStore.Open).ToList();
            try
            {
                string outDir = result.GetValue(output)!;
                var r = ReportEvaluation.Run(run, s, sp, labelStores, classPrompts, options, result.GetValue(batch), outDir, stderr.WriteLine);
                stdout.WriteLine(ReportEvaluation.ToMarkdown(r, run, sp));
                return 0;
            }
            finally
            {
                foreach (var l in labelStores) l.Dispose();
            }
        });
        return cmd;
    }
}
