using Deri.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Evaluation;

public class ZeroShotTests
{
    // Three classes along the first three axes of a 4-d space; each ECG embedding points towards its classes.
    private static (Tensor Ecg, Tensor Classes, int[,] Labels) Separable()
    {
        int[,] y = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 1, 1, 0 }, { 0, 1, 1 }, { 1, 0, 1 }, { 1, 0, 0 }, { 0, 0, 1 } };
        int n = y.GetLength(0);
        var e = new float[n * 4];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < 3; c++) e[i * 4 + c] = y[i, c] * (1 + 0.1f * i) + 0.05f * ((i + c) % 3);
            e[i * 4 + 3] = 0.2f;
        }
        // Class embeddings deliberately not normalised (the classifier normalises both sides).
        var cls = tensor(new float[] { 3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 5, 0 }, [3, 4]);
        return (tensor(e, [n, 4]), cls, y);
    }

    [Fact]
    public void PerfectlySeparableEmbeddingsScoreAuc100AndF1100()
    {
        var (ecg, cls, y) = Separable();
        using (ecg)
        using (cls)
        {
            var scores = ZeroShotClassifier.CosineScores(ecg, cls);
            var r = ZeroShotClassifier.Evaluate(scores, y, ["A", "B", "C"]);
            Assert.Equal(100.0, r.Paper.MacroAuc, 1e-9);
            Assert.Equal(100.0, r.Paper.MacroF1, 1e-9);
            Assert.Empty(r.Paper.Excluded);
            Assert.Null(r.HeldOut);
            // Cosine of an embedding with itself direction: a pure class-0 row against class 0.
            Assert.InRange(scores[0, 0], 0.9, 1.0);
        }
    }

    [Fact]
    public void BatchedScoringUsesTheEncoderAndLowerCasesPrompts()
    {
        var (ecg, cls, y) = Separable();
        using (ecg)
        using (cls)
        {
            var seenTexts = new List<string>();
            int calls = 0;
            var encoder = new DelegateZeroShotEncoder(
                batch =>
                {
                    Assert.False(torch.is_grad_enabled());       // inference runs under no_grad
                    calls++;
                    return batch.mean([1]);                       // (B, 2, 4) → (B, 4)
                },
                texts => { Assert.False(torch.is_grad_enabled()); seenTexts.AddRange(texts); return cls.clone(); });
            var prompts = ClassPrompts.Parse("""{"A": "Atrial FIBRILLATION", "B": "Normal ECG", "C": "ST Elevation", "D": "unused"}""", "inline");
            var texts = prompts.TextsFor(["A", "B", "C"]);
            Assert.Equal(["atrial fibrillation", "normal ecg", "st elevation"], texts);
            using var classEmb = ZeroShotClassifier.ClassEmbeddings(encoder, texts);
            Assert.Equal(["atrial fibrillation", "normal ecg", "st elevation"], seenTexts);
            Assert.Equal(1.0, classEmb[1].norm().item<double>(), 1e-12);

            // Batches of 3, 3 and 2 ECGs, each duplicated along a "lead" axis: (B, 2, 4).
            var batches = new[] { (0, 3), (3, 3), (6, 2) }.Select(b => ecg.narrow(0, b.Item1, b.Item2).unsqueeze(1).expand(-1, 2, -1).contiguous()).ToList();
            var scores = ZeroShotClassifier.Scores(encoder, batches, classEmb);
            Assert.Equal(3, calls);
            Assert.True(torch.is_grad_enabled());
            Assert.All(batches, b => Assert.True(b.IsInvalid));
            var direct = ZeroShotClassifier.CosineScores(ecg, cls);
            Assert.Equal(direct.GetLength(0), scores.GetLength(0));
            for (int i = 0; i < direct.GetLength(0); i++)
                for (int j = 0; j < 3; j++) Assert.Equal(direct[i, j], scores[i, j], 1e-12);
        }
    }

    [Fact]
    public void HeldOutThresholdsDifferFromTheSameSplitProtocol()
    {
        // Validation: max F1 at threshold 0.6. Test: scores shifted down, so 0.6 predicts nothing positive,
        // while the test split's own best threshold (0.45) separates it perfectly.
        double[,] val = { { 0.2 }, { 0.3 }, { 0.6 }, { 0.7 } };
        int[,] valY = { { 0 }, { 0 }, { 1 }, { 1 } };
        double[,] test = { { 0.1 }, { 0.2 }, { 0.45 }, { 0.5 } };
        int[,] testY = { { 0 }, { 0 }, { 1 }, { 1 } };
        var r = ZeroShotClassifier.Evaluate(test, testY, ["X"], val, valY);
        Assert.Equal(100, r.Paper.MacroAuc);
        Assert.Equal(100, r.Paper.MacroF1);
        Assert.Equal(0.45, r.Paper.Classes[0].Threshold);
        Assert.Equal(75, r.Paper.MacroAccuracy);   // score > 0.45 misses the positive at exactly 0.45
        var h = r.HeldOut!;
        Assert.Equal(ThresholdProtocol.ValidationMaxF1, h.Protocol);
        Assert.Equal(0.6, h.Classes[0].Threshold);
        Assert.Equal(100, h.MacroAuc);
        Assert.Equal(0, h.MacroF1);
        Assert.Equal(50, h.MacroAccuracy);
    }

    [Fact]
    public void HeldOutExcludesClassesDegenerateInValidation()
    {
        double[,] s = { { 0.1, 0.2 }, { 0.9, 0.8 } };
        int[,] y = { { 0, 0 }, { 1, 1 } };
        int[,] valY = { { 0, 0 }, { 1, 0 } };
        var r = ZeroShotClassifier.Evaluate(s, y, ["P", "Q"], s, valY);
        Assert.Equal("Q", Assert.Single(r.HeldOut!.Excluded).Name);
        Assert.Equal("no positive samples in the validation split", r.HeldOut.Excluded[0].Reason);
        Assert.Empty(r.Paper.Excluded);
    }

    [Fact]
    public void PromptFileErrorsNameTheProblem()
    {
        Assert.Contains("no prompt for class(es) Z, W", Assert.Throws<InputFormatException>(() =>
            ClassPrompts.Parse("""{"A": "a"}""", "p.json").TextsFor(["A", "Z", "W"])).Message);
        Assert.Contains("p.json: the description of 'A' must be a non-empty string",
            Assert.Throws<InputFormatException>(() => ClassPrompts.Parse("""{"A": 3}""", "p.json")).Message);
        Assert.Contains("label 'A' appears twice",
            Assert.Throws<InputFormatException>(() => ClassPrompts.Parse("""{"A": "x", "A": "y"}""", "p.json")).Message);
        Assert.Contains("expected a JSON object",
            Assert.Throws<InputFormatException>(() => ClassPrompts.Parse("""["A"]""", "p.json")).Message);
    }
}
