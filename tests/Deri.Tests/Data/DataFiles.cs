namespace Deri.Tests.Data;

/// <summary>Paths of the shared real data used by the data tests.</summary>
internal static class DataFiles
{
    /// <summary>A path under <c>shared/data</c>.</summary>
    public static string Shared(params string[] parts) => Path.Combine([SharedData.Data, .. parts]);
}
