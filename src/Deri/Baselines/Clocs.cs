using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;
using Deri.Runtime;
using Deri.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Deri.IO;

namespace Deri.Baselines;

/// <summary>
/// CLOCS (Kiyasseh, Zhu and Clifton, ICML 2021, "CLOCS: Contrastive Learning of Cardiac Signals Across Space, Time, and
/// Patients") on the shared 12-lead backbone. Views of a record: CMSC — two adjacent non-overlapping segments (a random
/// pair within the record); CMLC — the lead groups of one random segment; CMSMLC — every (segment, group) of two
/// adjacent segments. Every view goes through the backbone, a time average and a linear layer to the embedding
/// (<c>embedding_dim</c>, 128), and the views of all records are compared pairwise with <see cref="PatientContrastiveLoss"/>
/// (τ = 0.1), in which records of the same patient are positives too when the batch names patients.
/// <para>
/// Choices for a shared 12-lead backbone: the paper encodes each lead as a separate one-channel input; here a lead-group
/// view keeps all 12 input channels and zeroes the leads outside its group (singleton groups reproduce one lead per
/// view). The backbone is built for the segment length, so segments — not whole records — are what it sees, as in the
/// paper; <see cref="Represent"/> therefore cuts a record into non-overlapping segments (a remainder shorter than a
/// segment is left out), averages each segment's feature map over time and averages over segments. All views of a batch
/// go through the backbone in one pass (BatchNorm statistics are over all views), where the paper runs one pass per view.
/// </para>
/// </summary>
public sealed class Clocs : EcgSslMethod
{
    /// <summary>Name of the loss term.</summary>
    public const string LossTerm = "clocs";

    private readonly EcgEncoder ecg_encoder;
    private readonly Linear embedding;
    private readonly ClocsConfig config;
    private readonly int segmentLength;

    /// <summary>Builds the method around <paramref name="encoder"/>, which takes <paramref name="segmentLength"/>-sample inputs.</summary>
    public Clocs(EcgEncoder encoder, int segmentLength, ClocsConfig config) : base("clocs")
    {
        if (config.EmbeddingDim <= 0) throw new Deri.Config.ConfigException($"ssl.clocs.embedding_dim = {config.EmbeddingDim} must be positive");
        this.config = config;
        this.segmentLength = segmentLength;
        ecg_encoder = encoder;
        embedding = Linear(encoder.OutputChannels, config.EmbeddingDim);
        RegisterComponents();
    }

    /// <summary>Builds the shared backbone for segments of <paramref name="seqLength"/>-sample inputs and CLOCS's embedding layer.</summary>
    /// <exception cref="ArgumentException">Invalid config for this input length or lead count.</exception>
    public static Clocs Create(NetworkConfig network, int seqLength, ClocsConfig config)
    {
        config.Validated(network.NumLeads, seqLength);
        int s = config.EffectiveSegmentLength(seqLength);
        return new Clocs(ModelFactory.CreateEncoder(network, s), s, config);
    }

    /// <summary>The method's settings.</summary>
    public ClocsConfig Config => config;

    /// <summary>Samples per segment, the input length of the backbone.</summary>
    public int SegmentLength => segmentLength;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, double> DefaultLossWeights { get; } = new Dictionary<string, double> { [LossTerm] = 1.0 };

    /// <inheritdoc/>
    public override long RepresentationDim => ecg_encoder.OutputChannels;

    /// <inheritdoc/>
    public override Tensor Represent(Tensor ecg) => SegmentViews.Represent(ecg_encoder, ecg, segmentLength);

    /// <summary>The views of a batch, <c>(V·B, leads, S)</c> stacked view-major, and the number of views V.</summary>
    public (Tensor Views, int Count) MakeViews(Tensor ecg)
    {
        long l = ecg.shape[2];
        int s = segmentLength;
        switch (config.Mode)
        {
            case "cmsc":
            {
                long o = randint(l - 2 * s + 1, [1]).ToInt64();
                return (cat([SegmentViews.Slice(ecg, o, s), SegmentViews.Slice(ecg, o + s, s)], 0), 2);
            }
            case "cmlc":
            {
                long o = randint(l - s + 1, [1]).ToInt64();
                var seg = SegmentViews.Slice(ecg, o, s);
                return (cat(config.LeadGroups.Select(g => SegmentViews.MaskLeads(seg, g)).ToArray(), 0), config.LeadGroups.Length);
            }
            default:
            {
                long o = randint(l - 2 * s + 1, [1]).ToInt64();
                var views = new List<Tensor>();
                foreach (long start in new[] { o, o + s })
                {
                    var seg = SegmentViews.Slice(ecg, start, s);
                    views.AddRange(config.LeadGroups.Select(g => SegmentViews.MaskLeads(seg, g)));
                }
                return (cat(views.ToArray(), 0), views.Count);
            }
        }
    }

    /// <inheritdoc/>
    public override LossTerms Losses(EcgBatch batch)
    {
        var x = batch.Ecg; // (B, leads, L)
        long b = x.shape[0];
        if (b < 2) throw new ArgumentException($"CLOCS contrasts records of a batch: needs at least 2, got {b}");
        var (views, v) = MakeViews(x);
        var h = embedding.forward(ecg_encoder.forward(views).mean([2])).view(v, b, -1); // (V, B, E)
        var loss = PatientContrastiveLoss(h, config.PatientAware ? batch.Patients : null, config.Temperature);
        return new LossTerms().Add(LossTerm, loss);
    }

    /// <summary>
    /// CLOCS's contrastive loss over <paramref name="views"/> <c>(V, B, E)</c>. For every pair of views (a, b), with
    /// s_ij = cos(a_i, b_j)/τ: −mean_i log softmax_j(s)[i,i] (rows) and −mean_j log softmax_i(s)[j,j] (columns); when
    /// <paramref name="patients"/> are given, also −mean over same-patient pairs i &lt; j of log softmax over row i at j, and
    /// −mean over same-patient pairs i &gt; j of log softmax over column j at i (skipped when there are none). The total is
    /// divided by (number of terms · number of view pairs), as the paper's code. A null or missing patient matches no other record.
    /// </summary>
    public static Tensor PatientContrastiveLoss(Tensor views, IReadOnlyList<string?>? patients, double temperature)
    {
        long v = views.shape[0], b = views.shape[1];
        if (v < 2) throw new ArgumentException($"the contrastive loss needs at least 2 views, got {v}");
        if (patients != null && patients.Count != b) throw new ArgumentException($"{patients.Count} patients for a batch of {b}");
        var (rows1, cols1, rows2, cols2) = SamePatientPairs(patients, b, views.device);
        var z = functional.normalize(views, dim: 2);
        using var tau = temperature.ToScalar(); // a caller's value: owned, not a cached constant
        Tensor? total = null;
        int terms = 2, pairs = 0;
        for (int a = 0; a < v; a++)
            for (int c = a + 1; c < v; c++)
            {
                var s = z[a].mm(z[c].t()).div(tau); // (B, B)
                var byRow = functional.log_softmax(s, 1);   // log(e_ij / Σ_j e_ij)
                var byCol = functional.log_softmax(s, 0);   // log(e_ij / Σ_i e_ij)
                var loss = byRow.diagonal().mean().neg() - byCol.diagonal().mean();
                if (rows1 is not null) loss = loss - byRow.index([rows1, cols1!]).mean();
                if (rows2 is not null) loss = loss - byCol.index([rows2, cols2!]).mean();
                total = total is null ? loss : total.add(loss, Scalars.One);
                pairs++;
            }
        if (rows1 is not null) terms++;
        if (rows2 is not null) terms++;
        using var count = ((double)(terms * pairs)).ToScalar();
        return total!.div(count);
    }

    // Index pairs (i, j), i ≠ j, of records with the same named patient: upper triangle (i < j) and lower triangle (i > j).
    private static (Tensor? Rows1, Tensor? Cols1, Tensor? Rows2, Tensor? Cols2) SamePatientPairs(IReadOnlyList<string?>? patients, long b, Device device)
    {
        if (patients is null) return (null, null, null, null);
        var (r1, c1, r2, c2) = (new List<long>(), new List<long>(), new List<long>(), new List<long>());
        for (int i = 0; i < b; i++)
            for (int j = 0; j < b; j++)
            {
                if (i == j || patients[i] is null || patients[i] != patients[j]) continue;
                if (i < j) { r1.Add(i); c1.Add(j); }
                else { r2.Add(i); c2.Add(j); }
            }
        Tensor? T(List<long> x) => x.Count == 0 ? null : tensor(x.ToArray(), device: device);
        return (T(r1), T(c1), T(r2), T(c2));
    }
}

/// <summary>Segment and lead-group views shared by the segment-based baselines (CLOCS, ASTCL).</summary>
internal static class SegmentViews
{
    /// <summary>Samples <c>[start, start + length)</c> of every lead: <c>(B, leads, L)</c> → <c>(B, leads, length)</c>.</summary>
    public static Tensor Slice(Tensor ecg, long start, long length) => ecg.narrow(2, start, length);

    /// <summary>Zeroes every lead outside <paramref name="group"/>: <c>(B, leads, S)</c>, same shape.</summary>
    public static Tensor MaskLeads(Tensor x, int[] group)
    {
        var keep = zeros(x.shape[1], dtype: x.dtype, device: x.device);
        keep[tensor(group.Select(i => (long)i).ToArray(), device: x.device)] = tensor(1f, dtype: x.dtype, device: x.device);
        return x * keep.view(1, -1, 1);
    }

    /// <summary>
    /// Representation of whole records with a backbone built for <paramref name="segmentLength"/> samples: the record
    /// <c>(B, leads, L)</c> is cut into ⌊L/S⌋ non-overlapping segments, each feature map is averaged over time and the
    /// segments are averaged: <c>(B, C)</c>.
    /// </summary>
    public static Tensor Represent(EcgEncoder encoder, Tensor ecg, int segmentLength)
    {
        using var scope = NewDisposeScope();
        long b = ecg.shape[0], n = ecg.shape[2] / segmentLength;
        if (n < 1) throw new InputValueException($"records of {ecg.shape[2]} samples are shorter than one segment ({segmentLength})");
        var segments = ecg.narrow(2, 0, n * segmentLength).view(b, ecg.shape[1], n, segmentLength)
            .permute(2, 0, 1, 3).reshape(n * b, ecg.shape[1], segmentLength); // (n·B, leads, S), segment-major
        var h = encoder.forward(segments).mean([2]).view(n, b, -1); // (n, B, C)
        return h.mean([0]).MoveToOuterDisposeScope();
    }
}
