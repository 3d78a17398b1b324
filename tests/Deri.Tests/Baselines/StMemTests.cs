using Deri.Baselines;
using Deri.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Baselines;

/// <summary>ST-MEM: patching, the masked MSE, masking, the position tables and the release's numbers (the method contract is in <see cref="SslMethodContractTests"/>).</summary>
[Collection("torch-global-generator")]
public class StMemTests
{
    private static readonly StMemConfig Tiny = new()
    {
        PatchSize = 25, Width = 32, Depth = 2, Heads = 4, DecoderWidth = 32, DecoderDepth = 1, DecoderHeads = 4,
    };

    private static StMem TinyModel(int leads = 3, int length = 250, StMemConfig? config = null) =>
        StMem.Create(new NetworkConfig { NumLeads = leads }, length, config ?? Tiny);

    // Sinusoids of random frequency and phase per record and lead, plus noise: (B, leads, L).
    private static Tensor Sinusoids(int batch, int leads, int length)
    {
        var t = arange(length, dtype: ScalarType.Float32).view(1, 1, length) / 250f;
        var freq = rand(batch, leads, 1) * 4 + 1;
        var phase = rand(batch, leads, 1) * 6.28f;
        return (2 * Math.PI * freq * t + phase).sin() + 0.05f * randn(batch, leads, length);
    }

    [Fact]
    public void PatchifyCutsEachLeadIntoConsecutiveSamplesAndUnpatchifyInvertsIt()
    {
        using var x = randn(2, 3, 100);
        using var p = StMemEncoder.Patchify(x, 25);
        Assert.Equal([2L, 3, 4, 25], p.shape);
        var xs = x.data<float>().ToArray();
        var ps = p.data<float>().ToArray();
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++)
                for (int j = 0; j < 4; j++)
                    for (int k = 0; k < 25; k++)
                        Assert.Equal(xs[(b * 3 + c) * 100 + j * 25 + k], ps[((b * 3 + c) * 4 + j) * 25 + k]);
        using var back = StMemEncoder.Unpatchify(p);
        Assert.True(back.eq(x).all().ToBoolean());
        Assert.Throws<ArgumentException>(() => StMemEncoder.Patchify(x, 30));
    }

    private static double LoopMaskedMse(float[] pred, float[] target, float[] mask, int patches, int p, bool norm)
    {
        double sum = 0, count = 0;
        for (int i = 0; i < patches; i++)
        {
            double mean = 0, var = 0;
            for (int k = 0; k < p; k++) mean += target[i * p + k];
            mean /= p;
            for (int k = 0; k < p; k++) var += (target[i * p + k] - mean) * (target[i * p + k] - mean);
            var /= p - 1;
            double err = 0;
            for (int k = 0; k < p; k++)
            {
                double t = norm ? (target[i * p + k] - mean) / Math.Sqrt(var + 1e-6) : target[i * p + k];
                err += (pred[i * p + k] - t) * (pred[i * p + k] - t);
            }
            sum += mask[i] * err / p;
            count += mask[i];
        }
        return sum / count;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MaskedMseAveragesTheSquaredErrorOverMaskedPatchesOnly(bool normTargets)
    {
        // B = 1, 2 leads, 3 patches of 2 samples; patches (0,1), (1,0), (1,2) are masked.
        float[] pred = [1, 2, 0, 0, 5, 5, 0.5f, -1, 3, 3, 0, 1];
        float[] target = [0, 2, 9, 9, -1, 4, 1, 1, 2, 5, 7, -3];
        float[] mask = [0, 1, 0, 1, 0, 1];
        using var loss = StMem.MaskedMse(tensor(pred).view(1, 2, 3, 2), tensor(target).view(1, 2, 3, 2), tensor(mask).view(1, 2, 3), normTargets);
        double expected = LoopMaskedMse(pred, target, mask, 6, 2, normTargets);
        if (!normTargets) Assert.Equal((162 / 2.0 + (0.25 + 4) / 2.0 + (49 + 16) / 2.0) / 3, expected, 12);
        Assert.Equal(expected, loss.ToDouble(), 5);
    }

    [Fact]
    public void LossIsTheMaskedMseOfTheReconstructionUnderTheSameDraw()
    {
        using var model = TinyModel();
        manual_seed(3);
        using var ecg = Sinusoids(2, 3, 250);
        manual_seed(11);
        var (pred, mask) = model.Reconstruct(ecg);
        manual_seed(11);
        using var batch = new EcgBatch(ecg.clone(), [null, null]);
        var terms = model.Losses(batch);
        Assert.Equal(["masked_mse"], terms.Terms.Select(t => t.Name));
        using var target = StMemEncoder.Patchify(ecg, 25);
        double expected = LoopMaskedMse(pred.data<float>().ToArray(), target.data<float>().ToArray(), mask.data<float>().ToArray(), 2 * 3 * 10, 25, true);
        Assert.Equal(expected, terms["masked_mse"].ToDouble(), 4);
        Assert.Equal(1.0, model.DefaultLossWeights["masked_mse"]);
    }

    [Theory]
    [InlineData(0.75, 2)]
    [InlineData(0.5, 5)]
    [InlineData(0.1, 9)]
    public void EachLeadMasksAllButFloorOfItsPatchesTimesOneMinusTheRatio(double ratio, int visible)
    {
        using var model = TinyModel(config: Tiny with { MaskRatio = ratio });
        Assert.Equal(10, model.PatchesPerLead);
        Assert.Equal(visible, model.VisiblePerLead);
        manual_seed(5);
        using var ecg = randn(4, 3, 250);
        var (pred, mask) = model.Reconstruct(ecg);
        Assert.Equal([4L, 3, 10, 25], pred.shape);
        Assert.Equal([4L, 3, 10], mask.shape);
        using var perLead = mask.sum(2);
        Assert.True(perLead.eq(10 - visible).all().ToBoolean(), $"masked per lead: {perLead.str()}");
        Assert.True(mask.eq(0).logical_or(mask.eq(1)).all().ToBoolean());
        // Leads and records draw their masks independently: 12 identical masks would be a 1e-11 chance at most.
        using var first = mask[0, 0];
        Assert.False(mask.reshape(12, 10).eq(first).all(1).all().ToBoolean());
    }

    [Fact]
    public void PredictionsDependOnlyOnVisiblePatches()
    {
        using var model = TinyModel();
        manual_seed(2);
        using var ecg = randn(2, 3, 250);
        manual_seed(9);
        var (pred, mask) = model.Reconstruct(ecg);
        // Replace every masked patch by noise; with the same mask the reconstruction must not change.
        using var noise = randn(2, 3, 10, 25);
        using var maskExpanded = mask.unsqueeze(-1);
        using var changed = StMemEncoder.Unpatchify(StMemEncoder.Patchify(ecg, 25) * (1 - maskExpanded) + noise * maskExpanded);
        Assert.False(changed.allclose(ecg));
        manual_seed(9);
        var (pred2, mask2) = model.Reconstruct(changed);
        Assert.True(mask2.eq(mask).all().ToBoolean());
        Assert.True(pred2.allclose(pred, rtol: 1e-4, atol: 1e-5), "a masked patch leaked into the reconstruction");
    }

    [Fact]
    public void BadGeometryAndSettingsAreRejectedNamingTheKey()
    {
        var e = Assert.Throws<ConfigException>(() => TinyModel(length: 260));
        Assert.Contains("patch_size", e.Message);
        Assert.Contains("decoder_width", Assert.Throws<ConfigException>(() => TinyModel(config: Tiny with { DecoderWidth = 33 })).Message);
        Assert.Contains("head_dim", Assert.Throws<Deri.Config.ConfigException>(() => TinyModel(config: Tiny with { HeadDim = 0 })).Message);
        Assert.Contains("mask_ratio", Assert.Throws<Deri.Config.ConfigException>(() => TinyModel(config: Tiny with { MaskRatio = 1 })).Message);
        Assert.Contains("mask_ratio", Assert.Throws<Deri.Config.ConfigException>(() => TinyModel(config: Tiny with { MaskRatio = 0.95 })).Message);
        Assert.Contains("mask_ratio", Assert.Throws<Deri.Config.ConfigException>(() => TinyModel(config: Tiny with { MaskRatio = 0 })).Message);
        using var model = TinyModel();
        using var wrongLeads = randn(2, 4, 250);
        Assert.Contains("(B, 3, 250)", Assert.Throws<ArgumentException>(() => model.Represent(wrongLeads)).Message);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape ({string.Join(", ", actual.shape)}) != ({string.Join(", ", expected.shape)})");
        using var e = expected.to(ScalarType.Float64);
        using var a = actual.detach().to(ScalarType.Float64);
        double rel = (a - e).norm().ToDouble() / Math.Max(e.norm().ToDouble(), 1e-12);
        Assert.True(rel <= tolerance, $"{what}: relative error {rel:E3} > {tolerance:E1}");
    }

    [Fact]
    public void MatchesThePyTorchImplementationOfTheRelease()
    {
        // tools/baselines/make_st_mem_fixture.py: the release's forward, loss (norm_pix_loss on), backward and representation.
        var fixture = Deri.Weights.SafeTensors.Load(Path.Combine(TestFixtures.Dir("baselines"), "st_mem_tiny.safetensors"));
        try
        {
            using var model = new StMem(3, 100, new StMemConfig
            {
                PatchSize = 10, Width = 16, Depth = 2, Heads = 2, HeadDim = 8, DecoderWidth = 8, DecoderDepth = 1, DecoderHeads = 2,
            });
            var state = model.state_dict();
            Assert.Equal(fixture.Keys.Where(k => k.StartsWith("param.")).Select(k => k[6..]).Order(), state.Keys.Order());
            using (no_grad())
                foreach (var (key, value) in state) value.copy_(fixture["param." + key]);

            model.train();
            var (pred, mask) = model.Reconstruct(fixture["in.ecg"], fixture["in.noise"]);
            Assert.True(mask.eq(fixture["out.mask"]).all().ToBoolean());
            AssertClose(fixture["out.pred"], pred, 1e-5, "prediction");
            var loss = StMem.MaskedMse(pred, StMemEncoder.Patchify(fixture["in.ecg"], 10), mask, normTargets: true);
            AssertClose(fixture["out.loss"], loss.reshape(1), 1e-5, "loss");
            loss.backward();
            int checkedGrads = 0;
            foreach (var (name, parameter) in model.named_parameters())
            {
                if (!fixture.TryGetValue("grad." + name, out var grad)) continue;
                AssertClose(grad, parameter.grad!, 1e-4, "grad " + name);
                checkedGrads++;
            }
            Assert.Equal(fixture.Keys.Count(k => k.StartsWith("grad.")), checkedGrads);

            model.eval();
            using var _ = no_grad();
            AssertClose(fixture["out.repr"], model.Represent(fixture["in.ecg"]), 1e-5, "representation");
        }
        finally
        {
            foreach (var t in fixture.Values) t.Dispose();
        }
    }

    [Fact]
    public void PositionTableIsMaesSineCosineWithZeroRowsForTheSepTokens()
    {
        using var table = StMem.PositionTable(5, 8);
        Assert.Equal([1L, 7, 8], table.shape);
        var v = table.data<float>().ToArray();
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(0f, v[i]);
            Assert.Equal(0f, v[6 * 8 + i]);
        }
        for (int j = 0; j < 5; j++)
            for (int i = 0; i < 4; i++)
            {
                double omega = 1 / Math.Pow(10000, i / 4.0);
                Assert.Equal(Math.Sin(j * omega), v[(j + 1) * 8 + i], 5);
                Assert.Equal(Math.Cos(j * omega), v[(j + 1) * 8 + 4 + i], 5);
            }
    }

    [Fact]
    public void ParametersTrainedAreEverythingButTheFixedPositionTables()
    {
        using var model = TinyModel();
        var frozen = model.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name).Order().ToArray();
        Assert.Equal(["decoder_pos_embed", "encoder.pos_embedding"], frozen);
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var name in new[] { "encoder.lead_embeddings.2", "encoder.sep_embedding", "encoder.to_patch_embedding.2.weight",
            "encoder.block1.attn.fn.to_qkv.bias", "encoder.block0.ff.fn.net.3.weight", "encoder.norm.weight", "mask_embedding",
            "to_decoder_embedding.weight", "decoder_blocks.0.attn.norm.weight", "decoder_head.bias" })
            Assert.Contains(name, names);
    }
}
