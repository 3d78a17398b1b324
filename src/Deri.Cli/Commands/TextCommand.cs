using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Deri.Text;
using Deri.Weights;
using TorchSharp;

namespace Deri.Cli.Commands;

/// <summary><c>deri text</c>: the text encoder — vocabulary, model folders, encoding and the feature store.</summary>
internal static class TextCommand
{
    /// <summary>Builds the <c>text</c> group and its commands.</summary>
    public static Command Create() => CommandGroup.Create("text",
        "Text encoder: build a vocabulary, create or load a BERT, encode reports, precompute features",
        Vocab(), Init(), Encode(), Cache(), Probe());

    private static Option<string> Reports() => new("--reports")
    {
        Description = "Reports: a CSV file (see --column) or a text file with one report per line",
        Required = true,
    };

    private static Option<string> Column() => new("--column")
    {
        Description = "CSV column holding the report",
        DefaultValueFactory = _ => "report",
    };

    internal static Option<int> MaxLength() => new("--max-length")
    {
        Description = "Tokens per text including [CLS] and [SEP]",
        DefaultValueFactory = _ => TextTokenizer.DefaultMaxLength,
    };

    internal static Option<bool> Longest() => new("--compute-on-longest")
    {
        Description = "Run the BERT only over each batch's longest report; padding rows of hidden become zeros",
    };

    private static Command Vocab()
    {
        var reports = Reports();
        var column = Column();
        var minCount = new Option<int>("--min-count") { Description = "Keep whole words seen at least this often", DefaultValueFactory = _ => 3 };
        var maxWords = new Option<int>("--max-words") { Description = "At most this many whole words (0 = all)", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "vocab.txt to write", Required = true };
        var cmd = new Command("vocab", "Build a WordPiece vocab.txt from training reports (for an encoder trained from scratch)")
            { reports, column, minCount, maxWords, output };
        cmd.SetAction(r =>
        {
            var stdout = r.InvocationConfiguration.Output;
            var corpus = ReportCorpus.Read(r.GetValue(reports)!, r.GetValue(column)!);
            var tokens = WordPieceVocabulary.Build(corpus.Reports, new VocabularyOptions(r.GetValue(minCount), r.GetValue(maxWords)));
            WordPieceVocabulary.Write(r.GetValue(output)!, tokens);
            int pieces = tokens.Count(t => t.StartsWith("##", StringComparison.Ordinal));
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["vocab"] = r.GetValue(output)!, ["tokens"] = tokens.Count, ["continuation_pieces"] = pieces,
                ["reports"] = corpus.Reports.Count, ["skipped_empty"] = corpus.Skipped.Count,
            }));
            return 0;
        });
        return cmd;
    }

    private static Command Init()
    {
        var from = new Option<string>("--from")
        {
            Description = $"Write a pretrained built-in model ({BuiltInTextModel.Names}) as a Hugging Face BERT folder, instead of a random one over --vocab",
        };
        from.AcceptOnlyFromAmong([.. BuiltInTextModel.All.Select(m => m.Name)]);
        var vocab = new Option<string>("--vocab") { Description = "vocab.txt (e.g. from 'deri text vocab') of a randomly initialised BERT" };
        var output = new Option<string>("--out") { Description = "Model folder to write (config.json, model.safetensors, vocab.txt)", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "With --from: move a non-empty --out aside (to OUT.old-…) instead of refusing" };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size = the encoder's output width", DefaultValueFactory = _ => 256 };
        var layers = new Option<int>("--layers") { Description = "Transformer layers", DefaultValueFactory = _ => 4 };
        var heads = new Option<int>("--heads") { Description = "Attention heads", DefaultValueFactory = _ => 4 };
        var maxLength = MaxLength();
        var seed = new Option<long>("--seed") { Description = "Random seed of the initial weights", DefaultValueFactory = _ => 0 };
        var cmd = new Command("init",
            "Create a BERT folder: a pretrained built-in model (--from minilm|arcticxs), or a randomly initialised small BERT over a vocabulary (--vocab), to train jointly with DERI")
            { from, vocab, output, overwrite, hidden, layers, heads, maxLength, seed };
        OptionRules.OneOf(cmd, from, "--from", vocab, "--vocab");
        cmd.SetAction(r =>
        {
            var stdout = r.InvocationConfiguration.Output;
            var stderr = r.InvocationConfiguration.Error;
            if (r.GetValue(from) is { } name)
            {
                using var bert = BuiltInTextModel.Get(name).WriteNewFolder(r.GetValue(output)!, r.GetValue(overwrite), stderr.WriteLine);
                stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["model"] = r.GetValue(output)!, ["from"] = name, ["vocab_size"] = bert.Config.VocabSize,
                    ["hidden_size"] = bert.Config.HiddenSize, ["layers"] = bert.Config.NumHiddenLayers,
                    ["heads"] = bert.Config.NumAttentionHeads, ["pooler"] = bert.HasPooler,
                    ["pooling"] = BuiltInTextModel.Get(name).Pooling.ToString().ToLowerInvariant(),
                    ["mapped_matrices"] = bert.Matrices.Count, ["onnx_inputs"] = bert.Inputs, ["onnx_outputs"] = bert.Outputs,
                }));
                return 0;
            }
            torch.manual_seed(r.GetValue(seed));
            var tokenizer = TextTokenizer.Create(r.GetValue(vocab)!, maxLength: r.GetValue(maxLength));
            var config = BertConfig.Small(tokenizer.VocabSize, r.GetValue(hidden)) with
            {
                NumHiddenLayers = r.GetValue(layers), NumAttentionHeads = r.GetValue(heads),
                MaxPositionEmbeddings = Math.Max(256, r.GetValue(maxLength)),
            };
            config.Validate("--hidden/--layers/--heads");
            using var encoder = TextEncoder.FromVocabulary(r.GetValue(vocab)!, config, new TextEncoderOptions(r.GetValue(maxLength)));
            encoder.Save(r.GetValue(output)!);
            long parameters = encoder.Model.parameters().Sum(p => p.numel());
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["model"] = r.GetValue(output)!, ["vocab_size"] = config.VocabSize, ["hidden_size"] = config.HiddenSize,
                ["layers"] = config.NumHiddenLayers, ["heads"] = config.NumAttentionHeads, ["parameters"] = parameters,
            }));
            return 0;
        });
        return cmd;
    }

    private static Command Encode()
    {
        var model = new Option<string>("--model") { Description = $"Built-in model ({BuiltInTextModel.Names}) or Hugging Face BERT folder (config.json, model.safetensors, vocab.txt)", Required = true };
        var text = new Option<string[]>("--text") { Description = "Text to encode (repeatable)", Required = true, Arity = ArgumentArity.OneOrMore };
        var maxLength = MaxLength();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var longest = Longest();
        var cmd = new Command("encode", "Encode texts with a BERT folder; prints one JSON line per text (tokens, pooled norm, shapes, first values)")
            { model, text, maxLength, longest, device, threads };
        cmd.SetAction(r =>
        {
            var stdout = r.InvocationConfiguration.Output;
            var target = CommonOptions.Settings(r, device, threads).Resolve();
            using var encoder = TextEncoder.FromSetting(TextModelSetting.Resolve(r.GetValue(model)!),
                new TextEncoderOptions(r.GetValue(maxLength), ComputeOnLongest: r.GetValue(longest)));
            var texts = r.GetValue(text)!;
            using var features = encoder.Encode(texts, target);
            using var pooled = features.Pooled.cpu();
            var lengths = features.Mask.sum(1).cpu().data<long>().ToArray();
            for (int i = 0; i < texts.Length; i++)
            {
                var row = pooled[i].data<float>().ToArray();
                stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["text"] = texts[i], ["tokens"] = lengths[i],
                    ["ids"] = encoder.Tokenizer.Encode(encoder.LowerCaseText ? texts[i].ToLowerInvariant() : texts[i]),
                    ["pooled_dim"] = row.Length, ["hidden_shape"] = features.Hidden.shape.Skip(1).ToArray(),
                    ["pooled_norm"] = Math.Sqrt(row.Sum(v => (double)v * v)), ["pooled_head"] = row.Take(4).ToArray(),
                }));
            }
            return 0;
        });
        return cmd;
    }

    private static Command Cache()
    {
        var model = new Option<string>("--model") { Description = $"Pretrained (frozen) built-in model ({BuiltInTextModel.Names}) or Hugging Face BERT folder", Required = true };
        var reports = Reports();
        var column = Column();
        var output = new Option<string>("--out") { Description = "Feature store file to write", Required = true };
        var precision = new Option<string>("--precision") { Description = "f16 or f32", DefaultValueFactory = _ => "f16" };
        var truncate = new Option<bool>("--truncate-hidden")
        {
            Description = "Store only the real tokens' hidden rows (padding rows read back as zeros)",
        };
        var batch = new Option<int>("--batch-size") { Description = "Texts per encoder call", DefaultValueFactory = _ => 32 };
        var maxLength = MaxLength();
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var longest = Longest();
        var cmd = new Command("cache", "Encode every distinct report once with a frozen BERT and write a memory-mappable feature store")
            { model, reports, column, output, precision, truncate, batch, maxLength, longest, device, threads };
        cmd.SetAction(r =>
        {
            var stdout = r.InvocationConfiguration.Output;
            var p = r.GetValue(precision)!.ToLowerInvariant() switch
            {
                "f16" or "float16" => FeaturePrecision.Float16,
                "f32" or "float32" => FeaturePrecision.Float32,
                var other => throw new CliUsageException($"--precision '{other}': expected f16 or f32"),
            };
            var target = CommonOptions.Settings(r, device, threads).Resolve();
            var corpus = ReportCorpus.Read(r.GetValue(reports)!, r.GetValue(column)!);
            using var encoder = TextEncoder.FromSetting(TextModelSetting.Resolve(r.GetValue(model)!),
                new TextEncoderOptions(r.GetValue(maxLength), Frozen: true, ComputeOnLongest: r.GetValue(longest)));
            var clock = Stopwatch.StartNew();
            int written = TextFeatureStore.Build(r.GetValue(output)!, corpus.Reports, encoder, target,
                new TextFeatureCacheOptions(p, FullHidden: !r.GetValue(truncate), BatchSize: r.GetValue(batch)));
            double seconds = clock.Elapsed.TotalSeconds;
            stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["store"] = r.GetValue(output)!, ["reports"] = corpus.Reports.Count, ["distinct"] = written,
                ["skipped_empty"] = corpus.Skipped.Count, ["hidden_size"] = encoder.OutputDim, ["max_length"] = encoder.MaxLength,
                ["bytes"] = new FileInfo(r.GetValue(output)!).Length, ["seconds"] = Math.Round(seconds, 3),
                ["reports_per_second"] = Math.Round(written / Math.Max(seconds, 1e-9), 1), ["device"] = target.ToString(),
            }));
            return 0;
        });
        return cmd;
    }

    private static Command Probe()
    {
        var models = OptionRules.StringList("--model", $"Frozen text encoders to compare: built-in names ({BuiltInTextModel.Names}) or BERT folders", required: true);
        var ptbxl = new Option<string>("--ptbxl") { Description = "PTB-XL folder (ptbxl_database.csv, scp_statements.csv)", Required = true };
        var prompts = new Option<string>("--prompts") { Description = "Class prompts JSON (e.g. CKEPE_prompt.json)", Required = true };
        var folds = OptionRules.IntList("--folds", "Selection folds (never 9 or 10, the test folds); default 1-8");
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var cmd = new Command("probe",
            "Choose a frozen text encoder without ECGs: macro AUC of report–prompt cosine similarity per PTB-XL task (super, sub, form, rhythm) on the selection folds")
            { models, ptbxl, prompts, folds, device, threads };
        cmd.SetAction(r =>
        {
            var stdout = r.InvocationConfiguration.Output;
            var target = CommonOptions.Settings(r, device, threads).Resolve();
            var classPrompts = Deri.Evaluation.ClassPrompts.Load(r.GetValue(prompts)!);
            var chosen = r.GetValue(folds) is { Length: > 0 } f ? f : null;
            foreach (string name in r.GetValue(models)!)
            {
                using var encoder = TextEncoder.FromSetting(TextModelSetting.Resolve(name), new TextEncoderOptions(ComputeOnLongest: true));
                var results = Deri.Evaluation.TextZeroShotProbe.Run(encoder, r.GetValue(ptbxl)!, classPrompts, target, chosen);
                var line = new Dictionary<string, object> { ["model"] = name, ["pooling"] = encoder.Pooling.ToString().ToLowerInvariant() };
                foreach (var t in results) line[$"{t.Task}_macro_auc"] = Math.Round(t.MacroAuc, 2);
                foreach (var t in results) line[$"{t.Task}_reports_classes"] = new[] { t.Reports, t.Classes };
                line["mean_macro_auc"] = Math.Round(results.Average(t => t.MacroAuc), 2);
                stdout.WriteLine(JsonSerializer.Serialize(line));
            }
            return 0;
        });
        return cmd;
    }
}
