namespace Deri.Config;

/// <summary>
/// Marks a string config key that names a file or folder. <see cref="ConfigLoader.Load{T}"/> resolves a relative
/// value written in a config file against that file's folder (as most tools that read configs do), so a config
/// means the same from any working folder; values given with <c>--set</c> and the built-in defaults stay relative to
/// the working folder.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigPathAttribute : Attribute
{
    /// <summary>
    /// The value may also be a name that is not a path (a Hugging Face model id such as <c>ncbi/MedCPT-Query-Encoder</c>,
    /// or <c>best</c>/<c>last</c>): it is resolved only when the file's folder holds a file or folder of that name.
    /// </summary>
    public bool MayBeName { get; init; }
}
