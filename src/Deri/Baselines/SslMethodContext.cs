using Deri.Config;
using Deri.Models;
using Deri.Models.Encoders;

namespace Deri.Baselines;

/// <summary>What a method's constructor may need: the run's config and the length of the run.</summary>
/// <param name="Config">The run's config (<c>network</c> for the encoder, <c>dataset</c> for the input geometry, <c>ssl</c>).</param>
/// <param name="TotalSteps">Optimizer steps of the whole run (for schedules such as BYOL's momentum); 0 when unknown (evaluation).</param>
public sealed record SslMethodContext(DeriConfig Config, long TotalSteps = 0)
{
    /// <summary>The <c>ssl</c> section.</summary>
    public SslConfig Ssl => Config.Ssl;

    /// <summary><c>network.num_leads</c>: channels of each record.</summary>
    public int Leads => Config.Network.NumLeads;

    /// <summary><c>dataset.seq_length</c>: samples of each record.</summary>
    public int SeqLength => Config.Dataset.SeqLength;

    /// <summary>A new backbone as <c>network.ecg_model</c> names it, for records of <c>dataset.seq_length</c> samples.</summary>
    public EcgEncoder CreateEncoder() => ModelFactory.CreateEncoder(Config.Network, Config.Dataset.SeqLength);

    /// <summary>The two-view augmentation of <c>ssl.augment</c> at <c>dataset.sampling_rate</c>.</summary>
    public EcgAugmentation Augmentation() => new(Config.Ssl.Augment, Config.Dataset.SamplingRate);
}
