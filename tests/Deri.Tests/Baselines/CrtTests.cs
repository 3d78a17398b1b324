using Deri.Baselines;
using Deri.Config;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Baselines;

/// <summary>CRT: the frequency domain, patching, the loss terms, dropping and the release's numbers (the method contract is in <see cref="SslMethodContractTests"/>).</summary>
[Collection("torch-global-generator")]
public class CrtTests
{
    private static readonly CrtConfig Tiny = new()
    {
        PatchSize = 25, Width = 32, Depth = 2, Heads = 4, DecoderWidth = 32, DecoderDepth = 1, DecoderHeads = 4,
    };

    private static Crt TinyModel(int leads = 3, int length = 250, CrtConfig? config = null) =>
        Crt.Create(new NetworkConfig { NumLeads = leads }, length, config ?? Tiny);

    private static Tensor Sinusoids(int batch, int leads, int length)
    {
        var t = arange(length, dtype: ScalarType.Float32).view(1, 1, length) / 250f;
        var freq = rand(batch, leads, 1) * 4 + 1;
        var phase = rand(batch, leads, 1) * 6.28f;
        return (2 * Math.PI * freq * t + phase).sin() + 0.05f * randn(batch, leads, length);
    }

    [Theory]
    [InlineData(FFTNormType.Ortho)]
    [InlineData(FFTNormType.Backward)]
    public void SpectrumIsMagnitudeAndPhaseOfTheFirstHalfOfTheDft(FFTNormType norm)
    {
        const int length = 40;
        manual_seed(4);
        using var x = randn(2, 3, length);
        var (magnitude, phase) = Crt.Spectrum(x, norm);
        Assert.Equal([2L, 3, length / 2], magnitude.shape);
        Assert.Equal([2L, 3, length / 2], phase.shape);
        var xs = x.data<float>().ToArray();
        var mag = magnitude.data<float>().ToArray();
        var ph = phase.data<float>().ToArray();
        double scale = norm == FFTNormType.Ortho ? 1 / Math.Sqrt(length) : 1;
        for (int row = 0; row < 6; row++)
            for (int k = 0; k < length / 2; k++)
            {
                double re = 0, im = 0;
                for (int t = 0; t < length; t++)
                {
                    re += xs[row * length + t] * Math.Cos(2 * Math.PI * k * t / length);
                    im -= xs[row * length + t] * Math.Sin(2 * Math.PI * k * t / length);
                }
                re *= scale;
                im *= scale;
                double m = Math.Sqrt(re * re + im * im);
                Assert.Equal(m, mag[row * (length / 2) + k], 1e-4 * Math.Max(1, m));
                if (m > 1e-2) Assert.Equal(Math.Atan2(im, re), ph[row * (length / 2) + k], 1e-3);
            }
    }

    [Fact]
    public void PatchesSpanAllLeadsLeadMajorAndUnpatchifyInvertsThem()
    {
        using var x = randn(2, 3, 100);
        using var p = Crt.Patchify(x, 25);
        Assert.Equal([2L, 4, 75], p.shape);
        var xs = x.data<float>().ToArray();
        var ps = p.data<float>().ToArray();
        for (int b = 0; b < 2; b++)
            for (int j = 0; j < 4; j++)
                for (int c = 0; c < 3; c++)
                    for (int k = 0; k < 25; k++)
                        Assert.Equal(xs[(b * 3 + c) * 100 + j * 25 + k], ps[(b * 4 + j) * 75 + c * 25 + k]);
        using var back = Crt.Unpatchify(p, 3);
        Assert.True(back.eq(x).all().ToBoolean());
    }

    [Fact]
    public void InstanceDiscriminationIsLogSumExpOfOffDiagonalCosines()
    {
        manual_seed(8);
        using var a = randn(2, 4, 5);
        using var e = randn(2, 4, 5);
        using var idc = Crt.InstanceDiscrimination(a, e);
        var av = a.data<float>().ToArray();
        var ev = e.data<float>().ToArray();
        double Norm(float[] v, int row) => Math.Sqrt(Enumerable.Range(0, 5).Sum(d => (double)v[row * 5 + d] * v[row * 5 + d]));
        double expected = 0;
        for (int b = 0; b < 2; b++)
        {
            double sum = 0;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                {
                    if (i == j) continue;
                    int ri = b * 4 + i, rj = b * 4 + j;
                    double dot = Enumerable.Range(0, 5).Sum(d => (double)av[ri * 5 + d] * ev[rj * 5 + d]);
                    sum += Math.Exp(dot / (Norm(av, ri) * Norm(ev, rj)));
                }
            expected += Math.Log(sum) / 2;
        }
        Assert.Equal(expected, idc.ToDouble(), 5);
    }

    [Fact]
    public void LossTermsAreTheMseOfEachDomainAndWeighTogetherToTheReleasesSingleMse()
    {
        using var model = TinyModel();
        manual_seed(3);
        using var ecg = Sinusoids(2, 3, 250);
        manual_seed(17);
        var r = model.Reconstruct(ecg);
        manual_seed(17);
        using var batch = new EcgBatch(ecg.clone(), [null, null]);
        var terms = model.Losses(batch);
        Assert.Equal(["time", "magnitude", "phase", "idc"], terms.Terms.Select(t => t.Name));

        // Targets are the patches of the signal and of its spectrum.
        var (magnitude, phase) = Crt.Spectrum(ecg, FFTNormType.Ortho);
        Assert.True(r.TimeTarget.allclose(Crt.Patchify(ecg, 25)));
        Assert.True(r.MagnitudeTarget.allclose(Crt.Patchify(magnitude, 25)));
        Assert.True(r.PhaseTarget.allclose(Crt.Patchify(phase, 25)));

        static (double Sum, int Count) SquaredErrors(Tensor p, Tensor t)
        {
            var pv = p.data<float>().ToArray();
            var tv = t.data<float>().ToArray();
            double s = 0;
            for (int i = 0; i < pv.Length; i++) s += (pv[i] - tv[i]) * (double)(pv[i] - tv[i]);
            return (s, pv.Length);
        }
        var st = SquaredErrors(r.Time, r.TimeTarget);
        var sm = SquaredErrors(r.Magnitude, r.MagnitudeTarget);
        var sp = SquaredErrors(r.Phase, r.PhaseTarget);
        Assert.Equal(st.Sum / st.Count, terms["time"].ToDouble(), 4);
        Assert.Equal(sm.Sum / sm.Count, terms["magnitude"].ToDouble(), 4);
        Assert.Equal(sp.Sum / sp.Count, terms["phase"].ToDouble(), 4);
        Assert.Equal(r.Idc.ToDouble(), terms["idc"].ToDouble(), 5);

        using var weighted = terms.Weighted(model.DefaultLossWeights);
        double single = (st.Sum + sm.Sum + sp.Sum) / (st.Count + sm.Count + sp.Count);
        Assert.Equal(single + 1e-4 * r.Idc.ToDouble(), weighted.ToDouble(), 4);
    }

    [Theory]
    [InlineData(0.5, 5, 3)]
    [InlineData(0.0, 10, 5)]
    [InlineData(0.9, 1, 1)]
    public void DropKeepsAllButFloorOfRatioTimesThePatchesOfEachDomain(double ratio, int keptTime, int keptSpectral)
    {
        using var model = TinyModel(config: Tiny with { DropRatio = ratio });
        Assert.Equal(10, model.TimePatches);
        Assert.Equal(5, model.SpectralPatches);
        Assert.Equal(keptTime, model.KeptTimePatches);
        Assert.Equal(keptSpectral, model.KeptSpectralPatches);
        manual_seed(6);
        using var ecg = randn(4, 3, 250);
        var seen = new HashSet<string>();
        for (int draw = 0; draw < 5; draw++)
        {
            var r = model.Reconstruct(ecg);
            Assert.Equal([4L, 10, 75], r.Time.shape);
            Assert.Equal([4L, 5, 75], r.Magnitude.shape);
            Assert.Equal([4L, 5, 75], r.Phase.shape);
            var kt = r.KeptTime.data<long>().ToArray();
            var kf = r.KeptSpectrum.data<long>().ToArray();
            Assert.Equal(keptTime, kt.Length);
            Assert.Equal(keptSpectral, kf.Length);
            Assert.Equal(kt.Order(), kt);
            Assert.Equal(kt.Length, kt.Distinct().Count());
            Assert.All(kt, i => Assert.InRange(i, 0, 9));
            Assert.All(kf, i => Assert.InRange(i, 0, 4));
            seen.Add(string.Join(",", kt));
        }
        Assert.Equal(ratio > 0, seen.Count > 1);
    }

    [Fact]
    public void DroppedTimePatchesNeverReachTheModel()
    {
        using var model = TinyModel();
        // Make the spectral tokens independent of the signal, so the signal enters only through the time patches.
        using (no_grad())
            foreach (var (name, parameter) in model.named_parameters())
                if (name.StartsWith("to_patch.1.") || name.StartsWith("to_patch.2.")) parameter.zero_();
        manual_seed(2);
        using var ecg = randn(2, 3, 250);
        manual_seed(9);
        var r = model.Reconstruct(ecg);
        var kept = r.KeptTime.data<long>().ToHashSet();
        Assert.Equal(5, kept.Count);
        // Replace every dropped time patch by noise: with the same draw every prediction must stay the same.
        using var keep = tensor(Enumerable.Range(0, 10).Select(j => kept.Contains(j) ? 1f : 0f).ToArray()).view(1, 1, 10, 1);
        using var changed = (ecg.view(2, 3, 10, 25) * keep + randn(2, 3, 10, 25) * (1 - keep)).view(2, 3, 250);
        manual_seed(9);
        var r2 = model.Reconstruct(changed);
        Assert.True(r2.KeptTime.eq(r.KeptTime).all().ToBoolean());
        Assert.False(r2.TimeTarget.allclose(r.TimeTarget));
        Assert.True(r2.Time.allclose(r.Time, rtol: 1e-4, atol: 1e-5), "a dropped time patch reached the encoder");
        Assert.True(r2.Magnitude.allclose(r.Magnitude, rtol: 1e-4, atol: 1e-5));
        // Kept patches do reach it.
        using var kick = ecg.clone();
        long first = r.KeptTime[0].ToInt64();
        kick[.., .., (int)(first * 25)..(int)(first * 25 + 25)] += 1;
        manual_seed(9);
        var r3 = model.Reconstruct(kick);
        Assert.False(r3.Time.allclose(r.Time, rtol: 1e-4, atol: 1e-5));
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
    public void MatchesAnIndependentPyTorchImplementation()
    {
        // tools/baselines/make_crt_fixture.py builds the encoder input token by token and the decoder input by position.
        var fixture = Deri.Weights.SafeTensors.Load(Path.Combine(TestFixtures.Dir("baselines"), "crt_tiny.safetensors"));
        try
        {
            using var model = new Crt(2, 80, new CrtConfig
            {
                PatchSize = 10, Width = 16, Depth = 2, Heads = 2, HeadDim = 8, DecoderWidth = 12, DecoderDepth = 1, DecoderHeads = 3,
            });
            var state = model.state_dict();
            Assert.Equal(fixture.Keys.Where(k => k.StartsWith("param.")).Select(k => k[6..]).Order(), state.Keys.Order());
            using (no_grad())
                foreach (var (key, value) in state) value.copy_(fixture["param." + key]);

            model.train();
            var r = model.Reconstruct(fixture["in.ecg"], fixture["in.kept_time"].data<long>().ToArray(),
                fixture["in.kept_spectrum"].data<long>().ToArray());
            AssertClose(fixture["out.time"], r.Time, 1e-5, "time");
            AssertClose(fixture["out.magnitude"], r.Magnitude, 1e-5, "magnitude");
            AssertClose(fixture["out.phase"], r.Phase, 1e-5, "phase");
            AssertClose(fixture["out.loss_idc"], r.Idc.reshape(1), 1e-5, "idc");
            using var loss = nn.functional.mse_loss(r.Time, r.TimeTarget) * 0.5 + nn.functional.mse_loss(r.Magnitude, r.MagnitudeTarget) * 0.25
                + nn.functional.mse_loss(r.Phase, r.PhaseTarget) * 0.25 + r.Idc * 1e-4;
            AssertClose(fixture["out.loss_time"], nn.functional.mse_loss(r.Time, r.TimeTarget).reshape(1), 1e-5, "time loss");
            AssertClose(fixture["out.loss_phase"], nn.functional.mse_loss(r.Phase, r.PhaseTarget).reshape(1), 1e-5, "phase loss");
            AssertClose(fixture["out.loss_magnitude"], nn.functional.mse_loss(r.Magnitude, r.MagnitudeTarget).reshape(1), 1e-5, "magnitude loss");
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
    public void BadGeometryAndSettingsAreRejectedNamingTheKey()
    {
        // 2·25 does not divide 275, though 25 does: the spectrum's L/2 bins must split into whole patches.
        Assert.Contains("patch_size", Assert.Throws<ConfigException>(() => TinyModel(length: 275)).Message);
        Assert.Contains("drop_ratio", Assert.Throws<ConfigException>(() => TinyModel(config: Tiny with { DropRatio = 1 })).Message);
        Assert.Contains("fft_norm", Assert.Throws<Deri.Config.ConfigException>(() => TinyModel(config: Tiny with { FftNorm = "none" })).Message);
        Assert.Contains("head_dim", Assert.Throws<Deri.Config.ConfigException>(() => TinyModel(config: Tiny with { HeadDim = -1 })).Message);
        using var model = TinyModel();
        using var wrongLength = randn(2, 3, 200);
        Assert.Contains("(B, 3, 250)", Assert.Throws<ArgumentException>(() => model.Represent(wrongLength)).Message);
    }
}
