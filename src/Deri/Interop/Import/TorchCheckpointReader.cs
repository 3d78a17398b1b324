using System.Collections;
using Deri.Weights;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using Deri.IO;

namespace Deri.Interop.Import;

/// <summary>A state dict read from a PyTorch or safetensors file, with how it was unwrapped.</summary>
/// <param name="Tensors">Name → tensor (CPU); the caller disposes them.</param>
/// <param name="Path">The file, for messages.</param>
/// <param name="Container">Keys descended through to reach the state dict (e.g. <c>state_dict</c>), outermost first.</param>
/// <param name="StrippedPrefix">A prefix every key carried and that was removed (<c>module.</c> of DataParallel), or null.</param>
public sealed record TorchStateDict(IReadOnlyDictionary<string, Tensor> Tensors, string Path, IReadOnlyList<string> Container, string? StrippedPrefix) : IDisposable
{
    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

/// <summary>
/// Reads model weights written by PyTorch: <c>.pt</c>/<c>.pth</c> files of <c>torch.save</c> (through TorchSharp.PyBridge's
/// unpickler, which reads the zip format of PyTorch ≥ 1.6) and <c>.safetensors</c> files. A checkpoint that wraps its
/// state dict (<c>{'state_dict': …}</c>, <c>{'model': …}</c>, nested) is unwrapped, and a <c>module.</c> prefix that every key carries is removed.
/// </summary>
public static class TorchCheckpointReader
{
    /// <summary>Keys under which training scripts keep the model's state dict, tried in this order.</summary>
    public static readonly IReadOnlyList<string> ContainerKeys = ["state_dict", "model", "model_state_dict", "ecg_model", "net"];

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="InputFileNotFoundException">The file is missing.</exception>
    /// <exception cref="InputFormatException">The file is not a PyTorch/safetensors checkpoint, or holds no state dict of tensors.</exception>
    public static TorchStateDict Read(string path)
    {
        if (!File.Exists(path)) throw new InputFileNotFoundException($"{path}: checkpoint not found", path);
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        Dictionary<string, Tensor> tensors;
        var container = new List<string>();
        if (ext == ".safetensors")
        {
            tensors = SafeTensors.Load(path);
        }
        else if (ext is ".pt" or ".pth" or ".bin" or ".ckpt")
        {
            object root;
            try
            {
                using var stream = File.OpenRead(path);
                root = PyTorchUnpickler.UnpickleStateDict(stream);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InputFormatException($"{path}: not a readable PyTorch checkpoint (torch.save zip format): {e.Message}", e);
            }
            tensors = Unwrap(root, path, container);
        }
        else
        {
            throw new InputFormatException($"{path}: unknown checkpoint type '{ext}': expected .pt, .pth or .safetensors");
        }
        if (tensors.Count == 0) throw new InputFormatException($"{path}: the state dict holds no tensors");
        string? prefix = null;
        foreach (string candidate in new[] { "module.", "_orig_mod." })
        {
            if (tensors.Keys.All(k => k.StartsWith(candidate, StringComparison.Ordinal)))
            {
                prefix = (prefix ?? "") + candidate;
                tensors = tensors.ToDictionary(kv => kv.Key[candidate.Length..], kv => kv.Value, StringComparer.Ordinal);
            }
        }
        return new TorchStateDict(tensors, path, container, prefix);
    }

    // Descends through dictionaries until one whose values are all tensors; non-tensor entries beside a state dict
    // (epoch, optimizer, config) are left behind.
    private static Dictionary<string, Tensor> Unwrap(object? node, string path, List<string> container)
    {
        for (int depth = 0; depth < 8; depth++)
        {
            if (node is not IDictionary dict)
                throw new InputFormatException($"{path}: the checkpoint holds a {node?.GetType().Name ?? "null"}, not a dictionary of tensors");
            var entries = dict.Keys.Cast<object>().Select(k => (Key: k.ToString() ?? "", Value: dict[k])).ToList();
            if (entries.Count > 0 && entries.All(e => e.Value is Tensor))
                return entries.ToDictionary(e => e.Key, e => (Tensor)e.Value!, StringComparer.Ordinal);
            string? next = ContainerKeys.FirstOrDefault(k => entries.Any(e => e.Key == k && e.Value is IDictionary));
            if (next is null)
            {
                var tensorCount = entries.Count(e => e.Value is Tensor);
                throw new InputFormatException(
                    $"{path}: no state dict found{(container.Count > 0 ? " under '" + string.Join("/", container) + "'" : "")}: " +
                    $"keys are {string.Join(", ", entries.Take(12).Select(e => e.Key))} ({tensorCount} tensors); " +
                    $"expected a dictionary of tensors or one under {string.Join(", ", ContainerKeys)}");
            }
            container.Add(next);
            node = dict[next];
        }
        throw new InputFormatException($"{path}: dictionaries nested too deep ({string.Join("/", container)})");
    }
}
