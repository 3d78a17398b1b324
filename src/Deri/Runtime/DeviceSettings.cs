using TorchSharp;
using Deri.IO;

namespace Deri.Runtime;

/// <summary>Which compute device a command runs on.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when the referenced TorchSharp build and the machine provide it, else CPU.</summary>
    Auto,
    /// <summary>The CPU.</summary>
    Cpu,
    /// <summary>The first CUDA device; an error when none is available.</summary>
    Cuda,
}

/// <summary>
/// Device and threading settings shared by every command. Library code receives the resolved
/// <see cref="torch.Device"/> from <see cref="Resolve"/> and never calls <c>torch.cuda</c> itself,
/// so that the same code runs on CUDA when a user references a CUDA build of TorchSharp.
/// </summary>
/// <param name="Device">Requested device.</param>
/// <param name="Threads">Intra-op CPU threads; 0 keeps LibTorch's default (one per core).</param>
public sealed record DeviceSettings(DeviceKind Device = DeviceKind.Auto, int Threads = 0)
{
    /// <summary>Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c> (case-insensitive).</summary>
    public static DeviceKind ParseKind(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceKind.Auto,
        "cpu" => DeviceKind.Cpu,
        "cuda" or "gpu" => DeviceKind.Cuda,
        _ => throw new InputValueException($"unknown device '{text}': expected cpu, cuda or auto"),
    };

    /// <summary>Applies the thread count and returns the device to place tensors and modules on.</summary>
    /// <exception cref="InvalidOperationException">CUDA was requested but is not available.</exception>
    public torch.Device Resolve()
    {
        if (Threads < 0) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be 0 (default) or positive");
        if (Threads > 0) torch.set_num_threads(Threads);
        bool cuda = torch.cuda.is_available();
        return Device switch
        {
            DeviceKind.Cpu => torch.CPU,
            DeviceKind.Cuda when cuda => torch.CUDA,
            DeviceKind.Cuda => throw new InputValueException(
                "CUDA was requested but is not available: reference a CUDA build of TorchSharp (see README) and check the NVIDIA driver"),
            _ => cuda ? torch.CUDA : torch.CPU,
        };
    }
}
