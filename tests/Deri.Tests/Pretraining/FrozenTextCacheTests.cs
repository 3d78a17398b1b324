using Deri.Config;
using Deri.Pretraining;
using Deri.Text;
using TorchSharp;

namespace Deri.Tests.Pretraining;

/// <summary>With a frozen (pretrained) text encoder, each distinct report is encoded once and reused.</summary>
[Collection("torch-global-generator")]
public sealed class FrozenTextCacheTests
{
    [Fact]
    public void FrozenEncoderFeaturesAreComputedOncePerDistinctReport()
    {
        string root = Path.Combine(Path.GetTempPath(), $"deri-frozen-{Guid.NewGuid():N}");
        try
        {
            string[] reports = ["sinus rhythm. normal ecg.", "atrial fibrillation. abnormal ecg.", "sinus rhythm. normal ecg.", "sinus bradycardia. borderline ecg."];
            string vocab = Path.Combine(root, "vocab.txt");
            Directory.CreateDirectory(root);
            WordPieceVocabulary.Write(vocab, WordPieceVocabulary.Build(reports, new VocabularyOptions(MinCount: 1)));
            string hf = Path.Combine(root, "bert");
            using (var scratch = TextEncoder.FromVocabulary(vocab, BertConfig.Small(40, 32) with { VocabSize = TextTokenizer.Create(vocab).VocabSize }))
                scratch.Save(hf);

            var config = DeriConfig.Parse($"""
                network:
                  text_model: {hf}
                  ecg_base_width: 4
                  feature_dim: 32
                  text_max_length: 16
                  pool_heads: 2
                  rme_heads: 2
                  projection_head: {"{"}mlp_hidden_size: 32, projection_size: 32{"}"}
                  decoder: {"{"}heads: 2, head_dim: 16{"}"}
                dataset: {"{"}seq_length: 500, sampling_rate: 50{"}"}
                """, "test");
            using var module = Pretrainer.Build(config, Path.Combine(root, "run"), () => reports, torch.CPU);
            Assert.True(module.TextEncoder.Frozen);
            Assert.DoesNotContain(module.named_parameters(), p => p.name.StartsWith("text.", StringComparison.Ordinal));

            var ecg = torch.rand(4, 12, 500);
            double[] Run()
            {
                torch.random.manual_seed(3);
                using var scope = torch.NewDisposeScope();
                var terms = module.Losses(ecg, reports);
                return terms.Terms.Select(t => t.Value.item<float>()).Select(v => (double)v).ToArray();
            }
            var first = Run();
            Assert.Equal(3, module.CachedTexts);
            var second = Run();
            Assert.Equal(3, module.CachedTexts);
            Assert.Equal(first, second);
            Assert.All(first, v => Assert.True(double.IsFinite(v)));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, true);
        }
    }
}
