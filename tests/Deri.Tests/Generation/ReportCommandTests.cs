using System.Text.Json;
using Deri.Tests.Cli;

namespace Deri.Tests.Generation;

public class ReportCommandTests
{
    [Fact]
    public void ReportScorePrintsJsonOfMeans()
    {
        string output = CliRunner.Ok("report", "score", "--refs", Path.Combine(NlgFixtures.Dir, "real_refs.txt"),
            "--hyps", Path.Combine(NlgFixtures.Dir, "real_hyps.txt"));
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(200, root.GetProperty("n").GetInt32());
        foreach (string key in new[] { "bleu_1", "bleu_2", "bleu_3", "bleu_4", "rouge_l" })
            Assert.Equal(NlgFixtures.RealMean(key), root.GetProperty(key).GetDouble(), 1e-12);
    }

    [Fact]
    public void ReportScorePorterOptionSelectsTheStemmerOfRougeL()
    {
        // The one fixture pair whose ROUGE-L differs between NLTK's default stemmer (rouge-score) and ORIGINAL_ALGORITHM.
        var p = NlgFixtures.Special.Single(x => x.RougeL != x.RougeLOriginal);
        string dir = Directory.CreateTempSubdirectory("deri-nlg-cli").FullName;
        try
        {
            string refs = Path.Combine(dir, "refs.txt"), hyps = Path.Combine(dir, "hyps.txt");
            File.WriteAllText(refs, p.Ref + "\n");
            File.WriteAllText(hyps, p.Hyp + "\n");
            foreach (var (mode, expected) in new[] { ("nltk", p.RougeL), ("original", p.RougeLOriginal) })
            {
                using var doc = JsonDocument.Parse(CliRunner.Ok("report", "score", "--refs", refs, "--hyps", hyps, "--porter", mode));
                Assert.Equal(expected, doc.RootElement.GetProperty("rouge_l").GetDouble(), 1e-12);
                Assert.Equal(p.Bleu[3], doc.RootElement.GetProperty("bleu_4").GetDouble(), 1e-12);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ReportScoreFailsClearlyOnLineCountMismatch()
    {
        string dir = Directory.CreateTempSubdirectory("deri-nlg-cli").FullName;
        try
        {
            string refs = Path.Combine(dir, "refs.txt"), hyps = Path.Combine(dir, "hyps.txt");
            File.WriteAllText(refs, "sinus rhythm\n");
            File.WriteAllText(hyps, "sinus rhythm\nnormal ecg\n");
            var r = CliRunner.Run(["report", "score", "--refs", refs, "--hyps", hyps]);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"line 2 of {hyps}", r.Stderr);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
