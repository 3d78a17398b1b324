using Deri.Config;

namespace Deri.Tests.Models;

/// <summary>Small model configurations for fast tests.</summary>
internal static class TinyConfigs
{
    /// <summary>The configuration of the <c>deri_tiny</c> parity fixture (tools/parity/make_fixtures.py).</summary>
    public static ModelConfig Parity() => new()
    {
        Network = new NetworkConfig
        {
            EcgModel = "resnet18", NumLeads = 3, EcgBaseWidth = 8, FeatureDim = 20, TextMaxLength = 6,
            ProjectionHead = new ProjectionHeadConfig { MlpHiddenSize = 24, ProjectionSize = 16 },
            PoolHeads = 4, RmeHeads = 2,
            Decoder = new DecoderConfig { Depth = 2, Heads = 2, HeadDim = 8, Dropout = 0, DropPath = 0 },
        },
        Dataset = new ModelDatasetConfig { SeqLength = 200 },
    };

    /// <summary>Like <see cref="Parity"/> with the release's dropout and drop-path, as used in training.</summary>
    public static ModelConfig Training(string method = "deri") => Parity() with
    {
        Network = Parity().Network with { Method = method, Decoder = new DecoderConfig { Depth = 2, Heads = 2, HeadDim = 8 } },
    };
}
