using Deri.Config;
using Deri.Models.Encoders;

namespace Deri.Models;

/// <summary>
/// Builds ECG encoders and the ECG–text models (DERI, MERL) from a <see cref="ModelConfig"/>: the one place that
/// switches on architecture names. The names themselves are the config's (<see cref="EncoderNames"/>,
/// <see cref="MethodNames.EcgText"/>); the ECG-only baselines are built by <c>Baselines.SslMethodRegistry</c>.
/// </summary>
public static class ModelFactory
{
    /// <summary>Builds the configured DERI or MERL model (on the CPU; move it with <c>.to(device)</c>).</summary>
    /// <exception cref="ArgumentException">The configuration is invalid or names an ECG-only method.</exception>
    public static DeriModel Create(ModelConfig config)
    {
        config.Validate();
        if (MethodNames.IsEcgOnly(config.Network.Method))
            throw new Deri.Config.ConfigException($"network.method = '{config.Network.Method}' is an ECG-only method: build it with Baselines.SslMethodRegistry.Create");
        var encoder = CreateEncoder(config.Network, config.Dataset.SeqLength);
        int stride = config.Network.DownconvStride ?? (encoder is ResNet1d ? 3 : 1);
        var method = config.Network.Method switch
        {
            "deri" => PretrainingMethod.Deri,
            "merl" => PretrainingMethod.Merl,
            var other => throw new Deri.Config.ConfigException(
                $"model config: network.method = '{other}' is unknown: expected one of {string.Join(", ", MethodNames.All)}"),
        };
        return new DeriModel(encoder, config, stride, method);
    }

    /// <summary>Builds the ECG backbone named by <c>network.ecg_model</c> for inputs of <paramref name="length"/> samples.</summary>
    /// <exception cref="ArgumentException">Unknown architecture name.</exception>
    public static EcgEncoder CreateEncoder(NetworkConfig network, int length)
    {
        long leads = network.NumLeads, w = network.EcgBaseWidth;
        return network.EcgModel switch
        {
            "resnet18" => new ResNet1d("ecg_encoder", [2, 2, 2, 2], bottleneck: false, leads, w),
            "resnet34" => new ResNet1d("ecg_encoder", [3, 4, 6, 3], bottleneck: false, leads, w),
            "resnet50" => new ResNet1d("ecg_encoder", [3, 4, 6, 3], bottleneck: true, leads, w),
            "resnet101" => new ResNet1d("ecg_encoder", [3, 4, 23, 3], bottleneck: true, leads, w),
            "vit_tiny" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 192, 12, 3),
            "vit_small" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 384, 12, 6),
            "vit_middle" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 512, 12, 8),
            "vit_base" => new VisionTransformer1d("ecg_encoder", leads, length, network.PatchSize, 768, 12, 12),
            _ => throw new Deri.Config.ConfigException(
                $"model config: network.ecg_model = '{network.EcgModel}' is unknown: expected one of {string.Join(", ", EncoderNames.All)}"),
        };
    }
}
