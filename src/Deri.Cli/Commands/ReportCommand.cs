using System.CommandLine;
using System.Text.Json.Nodes;
using Deri.Generation.NlgMetrics;

namespace Deri.Cli.Commands;

/// <summary><c>deri report</c>: tools for generated ECG reports; <c>train</c>, <c>generate</c>, <c>eval</c> (the ECG → report model) and <c>score</c> (BLEU-1..4, ROUGE-L).</summary>
internal static class ReportCommand
{
    public static Command Create() => CommandGroup.Create("report", "Generated ECG reports: train the generator, generate, evaluate, score",
        ReportTrainCommand.Create(), ReportGenerateCommand.Create(), ReportEvalCommand.Create(), CreateScore());

    private static Command CreateScore()
    {
        var refs = new Option<string>("--refs") { Description = "Reference reports, one per line (UTF-8)", Required = true };
        var hyps = new Option<string>("--hyps") { Description = "Generated reports, one per line, paired with --refs line by line", Required = true };
        var porter = new Option<string>("--porter")
        {
            Description = "Porter stemmer of ROUGE-L: 'nltk' (NLTK's default mode, what rouge-score uses) or 'original' (ORIGINAL_ALGORITHM)",
            DefaultValueFactory = _ => "nltk",
        };
        porter.AcceptOnlyFromAmong("nltk", "original");
        var cmd = new Command("score",
            "Mean sentence BLEU-1..4 (NLTK sentence_bleu, whitespace tokens, smoothing method1) and ROUGE-L F (rouge-score, Porter stemmer) as JSON")
        {
            refs, hyps, porter,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var mode = result.GetValue(porter) == "original" ? PorterMode.OriginalAlgorithm : PorterMode.NltkExtensions;
            var s = ReportScorer.ScoreFiles(result.GetValue(refs)!, result.GetValue(hyps)!, new RougeL(new PorterStemmer(mode)));
            var o = new JsonObject
            {
                ["bleu_1"] = s.Bleu1,
                ["bleu_2"] = s.Bleu2,
                ["bleu_3"] = s.Bleu3,
                ["bleu_4"] = s.Bleu4,
                ["rouge_l"] = s.RougeL,
                ["n"] = s.Count,
            };
            stdout.WriteLine(o.ToJsonString());
            return 0;
        });
        return cmd;
    }
}
