using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Deri.Signals.Dicom;

/// <summary>One parsed data element: its tag, VR (null where the dataset is implicit VR and the tag is not one Deri knows)
/// and either the span of its value in the file or the items of a sequence.</summary>
internal sealed class DicomElement(uint tag, string? vr, int offset, int length, List<DicomDataset>? items)
{
    public uint Tag { get; } = tag;
    public string? Vr { get; } = vr;
    public int Offset { get; } = offset;
    public int Length { get; } = length;
    public List<DicomDataset>? Items { get; } = items;
}

/// <summary>A dataset (the file's, or one sequence item's): elements by tag.</summary>
internal sealed class DicomDataset(byte[] data, string path)
{
    private readonly Dictionary<uint, DicomElement> elements = [];

    public byte[] Data { get; } = data;
    public string Path { get; } = path;

    public void Add(DicomElement e) => elements.TryAdd(e.Tag, e);

    public DicomElement? Get(uint tag) => elements.GetValueOrDefault(tag);

    /// <summary>The items of a sequence; empty when absent.</summary>
    public IReadOnlyList<DicomDataset> Sequence(uint tag) => Get(tag)?.Items ?? [];

    /// <summary>The first value of a text element, trimmed of padding (space, NUL); null when absent or empty.</summary>
    public string? String(uint tag)
    {
        var e = Get(tag);
        if (e is null || e.Items is not null) return null;
        string s = Encoding.Latin1.GetString(Data, e.Offset, e.Length);
        int cut = s.IndexOf('\\');
        if (cut >= 0) s = s[..cut];
        s = s.Trim(' ', '\0');
        return s.Length == 0 ? null : s;
    }

    /// <summary>A DS/IS element as a number; null when absent; an error when present and not a number.</summary>
    public double? Number(uint tag, string name)
    {
        string? s = String(tag);
        if (s is null) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new EcgFormatException(Path, $"{name} {DicomParser.TagText(tag)} is '{Short(s)}', not a number");
        return v;
    }

    /// <summary>An unsigned integer element (US 2 bytes or UL 4 bytes, by its length); null when absent.</summary>
    public long? Unsigned(uint tag, string name)
    {
        var e = Get(tag);
        if (e is null) return null;
        var span = Data.AsSpan(e.Offset, e.Length);
        return e.Length switch
        {
            2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
            _ => throw new EcgFormatException(Path, $"{name} {DicomParser.TagText(tag)} has {e.Length} bytes; 2 (US) or 4 (UL) were expected"),
        };
    }

    private static string Short(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

/// <summary>
/// A small strict DICOM Part 10 parser for what ECG waveform objects need: the 128-byte preamble and <c>DICM</c>, the
/// group 0002 meta information (explicit VR little endian), then a dataset in Implicit VR Little Endian
/// (1.2.840.10008.1.2) or Explicit VR Little Endian (1.2.840.10008.1.2.1); every other transfer syntax is refused by name.
/// Sequences of defined and undefined length with their items and delimiters are parsed; every length is checked against
/// the bytes that remain, so a corrupt length never reads or allocates beyond the file. Values are not copied: elements
/// point into the file's bytes.
/// </summary>
internal static class DicomParser
{
    public const string ImplicitLittle = "1.2.840.10008.1.2", ExplicitLittle = "1.2.840.10008.1.2.1";

    private const uint Item = 0xFFFEE000, ItemDelimiter = 0xFFFEE00D, SequenceDelimiter = 0xFFFEE0DD, Undefined = 0xFFFFFFFF;
    private const int MaxDepth = 12;

    // Transfer syntaxes refused by name (PS3.6 Annex A).
    private static readonly Dictionary<string, string> Refused = new(StringComparer.Ordinal)
    {
        ["1.2.840.10008.1.2.1.99"] = "deflated explicit VR little endian",
        ["1.2.840.10008.1.2.2"] = "explicit VR big endian",
        ["1.2.840.10008.1.2.4.50"] = "JPEG baseline",
        ["1.2.840.10008.1.2.4.70"] = "JPEG lossless",
        ["1.2.840.10008.1.2.4.80"] = "JPEG-LS lossless",
        ["1.2.840.10008.1.2.4.90"] = "JPEG 2000 lossless",
        ["1.2.840.10008.1.2.4.91"] = "JPEG 2000",
        ["1.2.840.10008.1.2.5"] = "RLE lossless",
    };

    // Sequences Deri reads: in an implicit VR dataset a defined-length element is known to be a sequence only by its tag.
    private static readonly HashSet<uint> KnownSequences =
    [
        0x54000100, // Waveform Sequence
        0x003A0200, // Channel Definition Sequence
        0x003A0208, // Channel Source Sequence
        0x003A0211, // Channel Sensitivity Units Sequence
        0x0040B020, // Waveform Annotation Sequence
        0x0040A043, // Concept Name Code Sequence
        0x004008EA, // Measurement Units Code Sequence
        0x0040A168, // Concept Code Sequence
        0x00081032, // Procedure Code Sequence
    ];

    // Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2).
    private static readonly HashSet<string> LongVrs = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"];

    /// <summary>"(gggg,eeee)".</summary>
    public static string TagText(uint tag) => $"({tag >> 16:X4},{tag & 0xFFFF:X4})";

    /// <summary>Whether the bytes start like a DICOM Part 10 file (preamble then <c>DICM</c>).</summary>
    public static bool IsDicom(ReadOnlySpan<byte> head) => head.Length >= 132 && head[128..132].SequenceEqual("DICM"u8);

    /// <summary>Parses the file: the meta information and the dataset.</summary>
    /// <exception cref="EcgFormatException">Not DICOM, an unsupported transfer syntax, or a malformed or truncated element.</exception>
    public static (DicomDataset Meta, DicomDataset Dataset) Parse(byte[] data, string path)
    {
        if (data.Length < 132) throw new EcgFormatException(path, $"{data.Length} bytes: too short for a DICOM file (128-byte preamble and 'DICM')");
        if (!IsDicom(data)) throw new EcgFormatException(path, "no 'DICM' prefix after the 128-byte preamble: not a DICOM Part 10 file");
        var meta = new DicomDataset(data, path);
        int pos = 132;
        while (pos + 4 <= data.Length && BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(pos)) == 0x0002)
            meta.Add(ReadElement(data, ref pos, data.Length, implicitVr: false, depth: 0, path));
        string? syntax = meta.String(0x00020010);
        if (syntax is null) throw new EcgFormatException(path, "the file meta information has no Transfer Syntax UID (0002,0010)");
        if (Refused.TryGetValue(syntax, out string? name))
            throw new EcgFormatException(path, $"{name} ({syntax}) is not supported: Deri reads implicit VR little endian ({ImplicitLittle}) and explicit VR little endian ({ExplicitLittle})");
        if (syntax is not (ImplicitLittle or ExplicitLittle))
            throw new EcgFormatException(path, $"transfer syntax {syntax} is not supported: Deri reads implicit VR little endian ({ImplicitLittle}) and explicit VR little endian ({ExplicitLittle})");
        var dataset = ReadDataset(data, ref pos, data.Length, syntax == ImplicitLittle, 0, path, untilItemDelimiter: false);
        return (meta, dataset);
    }

    private static DicomDataset ReadDataset(byte[] data, ref int pos, int end, bool implicitVr, int depth, string path, bool untilItemDelimiter)
    {
        var ds = new DicomDataset(data, path);
        while (pos < end)
        {
            if (end - pos < 8) throw new EcgFormatException(path, $"truncated data element at byte {pos}: {end - pos} bytes left");
            uint tag = ReadTag(data, pos);
            if (tag == ItemDelimiter)
            {
                if (!untilItemDelimiter) throw new EcgFormatException(path, $"item delimiter at byte {pos} outside an undefined-length item");
                pos += 8;
                return ds;
            }
            ds.Add(ReadElement(data, ref pos, end, implicitVr, depth, path));
        }
        if (untilItemDelimiter) throw new EcgFormatException(path, "truncated: an undefined-length item has no item delimiter (FFFE,E00D)");
        return ds;
    }

    private static uint ReadTag(byte[] data, int pos) =>
        ((uint)BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(pos)) << 16) | BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(pos + 2));

    private static DicomElement ReadElement(byte[] data, ref int pos, int end, bool implicitVr, int depth, string path)
    {
        int start = pos;
        if (end - pos < 8) throw new EcgFormatException(path, $"truncated data element at byte {pos}");
        uint tag = ReadTag(data, pos);
        if (tag is Item or SequenceDelimiter)
            throw new EcgFormatException(path, $"{(tag == Item ? "item" : "sequence delimiter")} tag at byte {pos} outside a sequence");
        string? vr;
        uint length;
        if (implicitVr)
        {
            length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
            vr = KnownSequences.Contains(tag) || length == Undefined ? "SQ" : null;
            pos += 8;
        }
        else
        {
            vr = Encoding.ASCII.GetString(data, pos + 4, 2);
            if (!(char.IsAsciiLetterUpper(vr[0]) && char.IsAsciiLetterUpper(vr[1])))
                throw new EcgFormatException(path, $"element {TagText(tag)} at byte {pos}: value representation is not two capital letters (bytes 0x{data[pos + 4]:X2} 0x{data[pos + 5]:X2})");
            if (LongVrs.Contains(vr))
            {
                if (end - pos < 12) throw new EcgFormatException(path, $"truncated data element {TagText(tag)} at byte {pos}");
                length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 8));
                pos += 12;
            }
            else
            {
                length = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(pos + 6));
                pos += 8;
            }
            // An undefined-length UN element is a sequence encoded in implicit VR (PS3.5 6.2.2).
            if (vr == "UN" && length == Undefined) return Sequence(data, ref pos, end, tag, length, implicitVr: true, depth, path, start);
        }
        if (vr == "SQ") return Sequence(data, ref pos, end, tag, length, implicitVr, depth, path, start);
        if (length == Undefined)
            throw new EcgFormatException(path, $"element {TagText(tag)} ({vr}) at byte {start} has undefined length; only sequences may (encapsulated data is not supported)");
        if (length > (uint)(end - pos))
            throw new EcgFormatException(path, $"truncated: element {TagText(tag)} at byte {start} declares {length} bytes, {end - pos} remain");
        var e = new DicomElement(tag, vr, pos, (int)length, null);
        pos += (int)length;
        return e;
    }

    private static DicomElement Sequence(byte[] data, ref int pos, int end, uint tag, uint length, bool implicitVr, int depth, string path, int start)
    {
        if (depth >= MaxDepth) throw new EcgFormatException(path, $"sequence {TagText(tag)} at byte {start} is nested more than {MaxDepth} deep");
        int seqEnd;
        bool undefined = length == Undefined;
        if (undefined) seqEnd = end;
        else
        {
            if (length > (uint)(end - pos))
                throw new EcgFormatException(path, $"truncated: sequence {TagText(tag)} at byte {start} declares {length} bytes, {end - pos} remain");
            seqEnd = pos + (int)length;
        }
        var items = new List<DicomDataset>();
        while (true)
        {
            if (!undefined && pos == seqEnd) break;
            if (seqEnd - pos < 8)
                throw new EcgFormatException(path, undefined
                    ? $"truncated: sequence {TagText(tag)} at byte {start} has no sequence delimiter (FFFE,E0DD)"
                    : $"sequence {TagText(tag)} at byte {start}: {seqEnd - pos} stray bytes at its end");
            uint t = ReadTag(data, pos);
            uint itemLength = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(pos + 4));
            if (t == SequenceDelimiter)
            {
                if (!undefined) throw new EcgFormatException(path, $"sequence delimiter at byte {pos} inside the defined-length sequence {TagText(tag)}");
                pos += 8;
                break;
            }
            if (t != Item) throw new EcgFormatException(path, $"sequence {TagText(tag)}: expected an item (FFFE,E000) at byte {pos}, found {TagText(t)}");
            pos += 8;
            if (itemLength == Undefined)
                items.Add(ReadDataset(data, ref pos, seqEnd, implicitVr, depth + 1, path, untilItemDelimiter: true));
            else
            {
                if (itemLength > (uint)(seqEnd - pos))
                    throw new EcgFormatException(path, $"truncated: item at byte {pos - 8} of sequence {TagText(tag)} declares {itemLength} bytes, {seqEnd - pos} remain");
                int itemEnd = pos + (int)itemLength;
                items.Add(ReadDataset(data, ref pos, itemEnd, implicitVr, depth + 1, path, untilItemDelimiter: false));
                if (pos != itemEnd) throw new EcgFormatException(path, $"item of sequence {TagText(tag)} ends at byte {pos}, its length says {itemEnd}");
            }
        }
        return new DicomElement(tag, "SQ", start, pos - start, items);
    }
}
