using Deri.Generation.Decoder;
using Deri.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Generation.Decoder;

/// <summary>The key/value cache (<see cref="Gpt2KvCache"/>), token-table resizing and loading a DistilGPT2-layout checkpoint.</summary>
public class Gpt2CacheTests
{
    private static double MaxAbsDiff(Tensor a, Tensor b) => (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();

    private static Gpt2Model LoadTiny()
    {
        var model = new Gpt2Model(Gpt2Config.Load(Gpt2Fixtures.File("gpt2_tiny_config.json")));
        model.LoadHuggingFace(SafeTensors.Load(Gpt2Fixtures.File("gpt2_tiny.safetensors")), strict: true);
        model.eval();
        return model;
    }

    [Fact]
    public void FeedingInChunksWithTheCacheGivesTheFullForwardLogits()
    {
        using var model = LoadTiny();
        var io = SafeTensors.Load(Gpt2Fixtures.File("gpt2_tiny_io.safetensors"));
        var ids = io["input_ids"];
        var mask = io["attention_mask"];
        var memory = io["memory"];
        using var _ = torch.no_grad();
        var full = model.forward(ids, mask, memory);
        using var cache = model.NewCache();
        var parts = new List<Tensor>();
        // Chunks of 4, 1, 1, 3 tokens (9 in all); the memory is given once, then read from the cache.
        var start = 0;
        foreach (var n in new[] { 4, 1, 1, 3 })
        {
            parts.Add(model.Forward(ids[.., start..(start + n)], mask[.., ..(start + n)], start == 0 ? memory : null, cache));
            start += n;
            Assert.Equal(start, cache.Length);
        }
        Assert.Equal(3, cache.BatchSize);
        Assert.Equal(1, cache.MemoryLength);
        var stitched = torch.cat(parts.ToArray(), 1);
        // Padded positions attend to nothing real in either path; compare the real tokens.
        var real = mask.unsqueeze(-1).to(ScalarType.Bool).expand_as(full);
        Assert.True(MaxAbsDiff(stitched.masked_select(real), full.masked_select(real)) < 1e-5);
    }

    [Fact]
    public void ReorderSelectsAndRepeatsRows()
    {
        using var model = LoadTiny();
        var io = SafeTensors.Load(Gpt2Fixtures.File("gpt2_tiny_io.safetensors"));
        var ids = io["input_ids"][.., ..3];
        var memory = io["memory"];
        using var _ = torch.no_grad();
        using var cache = model.NewCache();
        model.Forward(ids[.., ..2], torch.ones(3, 2, dtype: ScalarType.Int64), memory, cache);
        cache.Reorder(torch.tensor(new long[] { 2, 2, 0 }));
        var picked = ids.index_select(0, torch.tensor(new long[] { 2, 2, 0 }));
        var step = model.Forward(picked[.., 2..3], torch.ones(3, 3, dtype: ScalarType.Int64), null, cache);
        var full = model.forward(picked, torch.ones(3, 3, dtype: ScalarType.Int64), memory.index_select(0, torch.tensor(new long[] { 2, 2, 0 })));
        Assert.True(MaxAbsDiff(step[.., 0], full[.., 2]) < 1e-5);
        // A batch that does not match the cache's rows is refused.
        Assert.Throws<ArgumentException>(() => model.Forward(picked[..2, 2..3], torch.ones(2, 4, dtype: ScalarType.Int64), null, cache));
    }

    [Fact]
    public void ResizeKeepsPretrainedRowsAndInitialisesNewRowsToTheMean()
    {
        using var model = LoadTiny();
        var before = model.get_parameter("transformer.wte.weight")!.detach().clone();
        model.ResizeTokenEmbeddings(62);
        Assert.Equal(62, model.Config.VocabSize);
        var after = model.get_parameter("transformer.wte.weight")!;
        Assert.Equal(new long[] { 62, 32 }, after.shape);
        Assert.True(after.requires_grad);
        Assert.Equal(0.0, MaxAbsDiff(after[..60], before));
        var mean = before.mean([0]);
        Assert.True(MaxAbsDiff(after[60], mean) < 1e-7 && MaxAbsDiff(after[61], mean) < 1e-7);
        // The head is tied: logits have 62 columns, and the new ids can be fed.
        using (torch.no_grad())
        {
            var ids = torch.tensor(new long[] { 61, 3, 60 }).view(1, 3);
            Assert.Equal(new long[] { 1, 3, 62 }, model.forward(ids, torch.ones_like(ids), torch.zeros(1, 1, 32)).shape);
        }
        // The resized parameter is what an optimiser sees.
        Assert.Contains(model.parameters(), p => p.shape.SequenceEqual(new long[] { 62, 32 }));
    }

    [Fact]
    public void DistilGpt2LayoutLoadsIntoACrossAttentionModel()
    {
        var dir = Path.Combine(Path.GetTempPath(), "deri-distil-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            torch.manual_seed(5);
            var plainConfig = new Gpt2Config(16, 2, 2, 16, 30);
            using var plain = new Gpt2Model(plainConfig);
            // A DistilGPT2 model.safetensors: transformer.* names, the legacy causal-mask buffers, no lm_head, no cross-attention.
            var checkpoint = plain.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach().clone());
            for (var l = 0; l < 2; l++) checkpoint[$"transformer.h.{l}.attn.bias"] = torch.ones(1, 1, 16, 16).tril();
            Assert.Contains("transformer.h.0.attn.c_attn.weight", checkpoint.Keys);
            var path = Path.Combine(dir, "model.safetensors");
            SafeTensors.Save(path, checkpoint);

            using var cross = new Gpt2Model(plainConfig with { AddCrossAttention = true });
            var crossBefore = cross.named_parameters().Where(p => Gpt2Model.IsCrossAttentionKey(p.name))
                .ToDictionary(p => p.name, p => p.parameter.detach().clone());
            Assert.Equal(2 * 8, crossBefore.Count);
            var report = cross.LoadHuggingFace(SafeTensors.Load(path), strict: true, source: path);

            Assert.Equal(crossBefore.Keys.Order(), report.Missing.Order());
            Assert.Empty(report.Unexpected);
            Assert.Equal(plain.named_parameters().Count(), report.Loaded.Count);
            var loaded = cross.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in plain.named_parameters()) Assert.Equal(0.0, MaxAbsDiff(loaded[name], p));
            foreach (var (name, p) in crossBefore) Assert.Equal(0.0, MaxAbsDiff(loaded[name], p));

            // Strict mode still checks every other key.
            checkpoint.Remove("transformer.h.1.mlp.c_fc.weight");
            var e = Assert.Throws<StateDictMismatchException>(() => cross.LoadHuggingFace(checkpoint, strict: true, source: path));
            Assert.Contains("transformer.h.1.mlp.c_fc.weight", e.Message);
            Assert.DoesNotContain("crossattention", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
