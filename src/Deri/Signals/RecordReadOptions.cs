namespace Deri.Signals;

/// <summary>How strictly a record is checked while it is read.</summary>
public sealed record RecordReadOptions
{
    /// <summary>The default: checksums are computed (see <see cref="EcgRecord.ChecksumMatches"/>) but a mismatch is not an error; missing samples are allowed.</summary>
    public static RecordReadOptions Default { get; } = new();

    /// <summary>Throw an <see cref="EcgFormatException"/> when a WFDB checksum does not match the stored samples.</summary>
    public bool VerifyChecksums { get; init; }

    /// <summary>Accept missing samples (WFDB invalid values, NaN doubles); when false a record with any is rejected with their count.</summary>
    public bool AllowMissing { get; init; } = true;

    /// <summary>Start (seconds) of the window read from a recording too long to read whole (EDF/BDF over
    /// <see cref="Clinical.EdfReader.MaxWholeSeconds"/>); null reads from the start. Shorter records are always read whole.</summary>
    public double? FromSeconds { get; init; }

    /// <summary>The most a record may declare (signals, samples, rate, duration), checked before samples are allocated.</summary>
    public RecordLimits Limits { get; init; } = RecordLimits.Default;
}
