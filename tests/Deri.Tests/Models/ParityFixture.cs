using System.Buffers.Binary;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Deri.Tests.Models;

/// <summary>
/// Reads a parity fixture written by <c>tools/parity/make_fixtures.py</c>: a safetensors file
/// (8-byte little-endian header length, JSON header, raw little-endian data) with keys
/// <c>param.*</c> (PyTorch state dict), <c>in.*</c>, <c>out.*</c> and <c>grad.*</c>.
/// </summary>
internal sealed class ParityFixture : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors;

    private ParityFixture(Dictionary<string, Tensor> tensors) => this.tensors = tensors;

    /// <summary>The parity fixture folder.</summary>
    public static string Folder => TestFixtures.Dir("parity");

    public static ParityFixture Load(string name)
    {
        var path = Path.Combine(Folder, name + ".safetensors");
        var bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        int dataStart = 8 + (int)headerLength;
        var result = new Dictionary<string, Tensor>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var span = bytes.AsSpan(dataStart + offsets[0], offsets[1] - offsets[0]);
            result[entry.Name] = entry.Value.GetProperty("dtype").GetString() switch
            {
                "F32" => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray(), shape),
                "I64" => tensor(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(span).ToArray(), shape),
                var d => throw new InvalidDataException($"{path}: {entry.Name} has unsupported dtype {d}"),
            };
        }
        return new ParityFixture(result);
    }

    public Tensor this[string key] => tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"fixture has no '{key}'");

    public IEnumerable<string> Keys(string prefix) => tensors.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
        .Select(k => k[prefix.Length..]);

    /// <summary>Copies every <c>param.*</c> into the module's state dict; the key sets must be identical.</summary>
    public void LoadInto(nn.Module module)
    {
        var state = module.state_dict();
        var expected = Keys("param.").Order().ToArray();
        Assert.Equal(expected, state.Keys.Order().ToArray());
        using var _ = no_grad();
        foreach (var (key, value) in state)
        {
            var source = this["param." + key];
            Assert.Equal(source.shape, value.shape);
            value.copy_(source);
        }
    }

    /// <summary>‖actual − expected‖ / ‖expected‖ ≤ <paramref name="tolerance"/>, shapes equal.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-5, string what = "")
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{what}: shape ({string.Join(", ", actual.shape)}) != ({string.Join(", ", expected.shape)})");
        using var e = expected.to(ScalarType.Float64);
        using var a = actual.detach().to(ScalarType.Float64);
        double norm = e.norm().ToDouble(), diff = (a - e).norm().ToDouble();
        double rel = diff / Math.Max(norm, 1e-12);
        Assert.True(rel <= tolerance, $"{what}: relative error {rel:E3} > {tolerance:E1} (|expected| = {norm:G4})");
    }

    public void Dispose()
    {
        foreach (var t in tensors.Values) t.Dispose();
    }
}
