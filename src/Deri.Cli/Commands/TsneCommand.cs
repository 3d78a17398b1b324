using System.CommandLine;
using Deri.Downstream;

namespace Deri.Cli.Commands;

/// <summary><c>deri tsne</c>: a t-SNE map of an embeddings file.</summary>
internal static class TsneCommand
{
    public static Command Create()
    {
        var embeddings = new Option<string>("--embeddings") { Description = "CSV written by `deri embed`", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "PNG to write; the coordinates go to the same name with .csv", Required = true };
        var classes = new Option<int>("--classes") { Description = "Colour the records of this many most frequent classes", DefaultValueFactory = _ => 5 };
        var perplexity = new Option<double>("--perplexity") { Description = "t-SNE perplexity", DefaultValueFactory = _ => 30 };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial layout (and of the sample beyond --max-points)", DefaultValueFactory = _ => 0 };
        var iterations = new Option<int>("--iterations") { Description = "Gradient-descent iterations (the first 250 with early exaggeration)", DefaultValueFactory = _ => 1000 };
        var maxPoints = new Option<int>("--max-points") { Description = "Records drawn at most (a seeded sample beyond that)", DefaultValueFactory = _ => 3000 };
        var cmd = new Command("tsne",
            "Exact t-SNE (PCA to 50 dimensions, perplexity search, early exaggeration 12) of embeddings, drawn as a PNG coloured by class")
        {
            embeddings, output, classes, perplexity, seed, iterations, maxPoints,
        };
        cmd.SetAction(result =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            int iters = result.GetValue(iterations);
            var tsne = new TsneOptions
            {
                Perplexity = result.GetValue(perplexity), Seed = result.GetValue(seed), Iterations = iters,
                ExaggerationIterations = Math.Min(250, iters),
            };
            var r = TsneMap.Run(result.GetValue(embeddings)!, result.GetValue(output)!,
                new TsneMapOptions(result.GetValue(classes), result.GetValue(maxPoints), tsne), stderr.WriteLine);
            stdout.WriteLine($"{r.Points} records: {string.Join(", ", r.Classes.Select(c => $"{c.Class} {c.Count}"))} → {r.Png}, {r.Csv}");
            return 0;
        });
        return cmd;
    }
}
