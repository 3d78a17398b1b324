using Deri.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Text;

public class TextFeatureCacheTests
{
    /// <summary>A deterministic stand-in encoder that counts the texts it encodes.</summary>
    private sealed class CountingSource : ITextFeatureSource
    {
        public List<string> Seen { get; } = [];
        public int OutputDim => 4;
        public int MaxLength => 6;
        public string Identity { get; init; } = "counting source";

        public TextFeatures Encode(IReadOnlyList<string> texts, Device device)
        {
            Seen.AddRange(texts);
            int b = texts.Count;
            var pooled = torch.zeros(b, 4);
            var hidden = torch.zeros(b, 6, 4);
            var mask = torch.zeros(b, 6, dtype: ScalarType.Int64);
            for (int i = 0; i < b; i++)
            {
                float seed = texts[i].Sum(c => c) / 100f;
                int tokens = Math.Min(6, texts[i].Split(' ').Length + 2);
                pooled[i] = torch.arange(4, dtype: ScalarType.Float32) + seed;
                // Padding rows are non-zero on purpose, as a real BERT's are.
                hidden[i] = torch.arange(24, dtype: ScalarType.Float32).view(6, 4) * seed;
                mask[i, ..tokens] = 1;
            }
            return new TextFeatures(pooled.to(device), hidden.to(device), mask.to(device));
        }
    }

    private static void AssertSame(TextFeatures want, TextFeatures got, double tol = 0)
    {
        Assert.True(want.Pooled.allclose(got.Pooled, rtol: tol, atol: tol));
        Assert.True(want.Hidden.allclose(got.Hidden, rtol: tol, atol: tol));
        Assert.True(want.Mask.eq(got.Mask).all().item<bool>());
    }

    [Fact]
    public void EncodesEachDistinctTextOnceAndReturnsIdenticalFeatures()
    {
        var source = new CountingSource();
        var cache = new TextFeatureCache(source, new TextFeatureCacheOptions(BatchSize: 2));
        string[] first = ["sinus rhythm", "atrial fibrillation", "sinus rhythm", "normal ecg"];
        using (var got = cache.Encode(first, torch.CPU))
        using (var want = new CountingSource().Encode(first, torch.CPU))
            AssertSame(want, got);
        Assert.Equal(["sinus rhythm", "atrial fibrillation", "normal ecg"], source.Seen);

        string[] second = ["normal ecg", "left axis deviation", "sinus rhythm"];
        using (var got = cache.Encode(second, torch.CPU))
        using (var want = new CountingSource().Encode(second, torch.CPU))
            AssertSame(want, got);
        Assert.Equal(4, source.Seen.Count);
        Assert.Equal("left axis deviation", source.Seen[^1]);
        Assert.Equal(4, cache.Count);
        Assert.Equal(4, cache.Encoded);
    }

    [Fact]
    public void TruncatedHiddenKeepsRealTokensAndZeroesPadding()
    {
        var cache = new TextFeatureCache(new CountingSource(), new TextFeatureCacheOptions(Precision: FeaturePrecision.Float16, FullHidden: false));
        using var got = cache.Encode(["sinus rhythm"], torch.CPU);
        using var want = new CountingSource().Encode(["sinus rhythm"], torch.CPU);
        Assert.Equal(ScalarType.Float32, got.Hidden.dtype);
        Assert.True(want.Pooled.allclose(got.Pooled, rtol: 1e-3, atol: 1e-3));
        Assert.True(want.Hidden[.., ..4].allclose(got.Hidden[.., ..4], rtol: 1e-3, atol: 1e-3));
        Assert.Equal(0f, got.Hidden[.., 4..].abs().sum().item<float>());
        Assert.True(want.Mask.eq(got.Mask).all().item<bool>());
    }

    [Fact]
    public void DiskStoreServesTheCacheAndRejectsCorruptFiles()
    {
        using var dir = new TempDir();
        string path = dir.File("features.bin");
        string[] corpus = ["sinus rhythm", "atrial fibrillation", "sinus rhythm", "normal ecg"];
        var builder = new CountingSource();
        int written = TextFeatureStore.Build(path, corpus, builder, torch.CPU, new TextFeatureCacheOptions(FullHidden: false, BatchSize: 2));
        Assert.Equal(3, written);
        Assert.Equal(3, builder.Seen.Count);

        using (var store = TextFeatureStore.Open(path))
        {
            Assert.Equal((4, 6, 3), (store.OutputDim, store.MaxLength, store.Count));
            using (var got = store.Read(["normal ecg", "sinus rhythm"], torch.CPU))
            using (var want = new CountingSource().Encode(["normal ecg", "sinus rhythm"], torch.CPU))
            {
                Assert.True(want.Pooled.allclose(got.Pooled, rtol: 0, atol: 0));
                Assert.True(want.Hidden[0, ..4].allclose(got.Hidden[0, ..4], rtol: 0, atol: 0));
            }
            var missing = Assert.Throws<InputFormatException>(() => store.Read(["unknown report"], torch.CPU));
            Assert.Contains(path, missing.Message);

            var source = new CountingSource();
            var cache = new TextFeatureCache(source, store: store);
            using (cache.Encode(["sinus rhythm", "new report here"], torch.CPU)) { }
            Assert.Equal(["new report here"], source.Seen);

            // The store records which encoder made it; another encoder (other weights, pooling, …) may not read it.
            Assert.Equal("counting source", store.Identity);
            var other = Assert.Throws<InputFormatException>(() => new TextFeatureCache(new CountingSource { Identity = "other model" }, store: store));
            Assert.Contains("made by another encoder (counting source) than this one (other model)", other.Message);
        }
        // A store of the previous format, which did not record the encoder, is refused with what to do.
        var old = System.IO.File.ReadAllBytes(path);
        "DERITXF1"u8.CopyTo(old);
        System.IO.File.WriteAllBytes(dir.File("old.bin"), old);
        Assert.Contains("rebuild it with `deri text cache`", Assert.Throws<InputFormatException>(() => TextFeatureStore.Open(dir.File("old.bin"))).Message);

        var bytes = System.IO.File.ReadAllBytes(path);
        System.IO.File.WriteAllBytes(path, bytes[..^7]);
        var e = Assert.Throws<InputFormatException>(() => TextFeatureStore.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        System.IO.File.WriteAllBytes(path, new byte[100]);
        Assert.Contains("bad magic", Assert.Throws<InputFormatException>(() => TextFeatureStore.Open(path)).Message);
    }

    [Fact]
    public void CachingARealFrozenEncoderIsExactAndATrainableOneIsRefused()
    {
        using var encoder = TextEncoder.FromHuggingFace(TextFixtures.File("hf_tiny"), new TextEncoderOptions(MaxLength: 12));
        var cache = new TextFeatureCache(encoder);
        string[] texts = ["Sinus rhythm. Normal ECG.", "left axis deviation", "Sinus rhythm. Normal ECG."];
        using (var direct = encoder.Encode(texts, torch.CPU))
        using (var cached = cache.Encode(texts, torch.CPU))
            AssertSame(direct, cached);
        Assert.Equal(2, cache.Encoded);

        using var trainable = TextEncoder.FromHuggingFace(TextFixtures.File("hf_tiny"), new TextEncoderOptions(MaxLength: 12, Frozen: false));
        Assert.Throws<ArgumentException>(() => new TextFeatureCache(trainable));
    }
}
