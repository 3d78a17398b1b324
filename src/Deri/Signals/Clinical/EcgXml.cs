using System.Xml;
using System.Xml.Linq;

namespace Deri.Signals.Clinical;

/// <summary>
/// Loads ECG XML files safely: at most <see cref="MaxBytes"/>, no DTD processing (a DOCTYPE line, which GE MUSE exports
/// carry, is skipped, never fetched or expanded), no external resolution. Tells the vendor formats apart by their root.
/// </summary>
public static class EcgXml
{
    /// <summary>Largest XML file read (64 MB; a 10 s 12-lead aECG at 1000 Hz is about 1 MB).</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    /// <summary>The XML ECG kinds told apart by their root element.</summary>
    public enum Kind
    {
        /// <summary>HL7 aECG (<c>AnnotatedECG</c> in <c>urn:hl7-org:v3</c>).</summary>
        Aecg,
        /// <summary>GE MUSE (<c>RestingECG</c>).</summary>
        Muse,
    }

    /// <summary>Loads the document after checking its size.</summary>
    /// <exception cref="EcgFormatException">Too large or not well-formed XML.</exception>
    public static XDocument Load(string path, bool allowDoctype)
    {
        long length = RegularFile.Length(path, "XML file");
        if (length > MaxBytes) throw new EcgFormatException(path, $"{length} bytes: larger than the {MaxBytes} bytes an ECG XML file may have");
        var settings = new XmlReaderSettings
        {
            DtdProcessing = allowDoctype ? DtdProcessing.Ignore : DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = MaxBytes,
            MaxCharactersFromEntities = 0,
        };
        try
        {
            using var reader = XmlReader.Create(path, settings);
            return XDocument.Load(reader);
        }
        catch (XmlException e)
        {
            throw new EcgFormatException(path, $"not well-formed XML: {e.Message}");
        }
    }

    /// <summary>Which XML ECG the file is, by its root element; Philips XML and unknown roots are refused by name.</summary>
    /// <exception cref="EcgFormatException">Not an XML ECG Deri reads.</exception>
    public static Kind Sniff(string path)
    {
        string? root = RootName(path);
        return root switch
        {
            "AnnotatedECG" => Kind.Aecg,
            "RestingECG" => Kind.Muse,
            "restingecgdata" => throw new EcgFormatException(path, "Philips XML ECG (root 'restingecgdata', compressed waveforms) is not supported: export as DICOM or aECG"),
            null => throw new EcgFormatException(path, "not an XML file with a root element"),
            _ => throw new EcgFormatException(path, $"XML root '{root}' is not an ECG format Deri reads (HL7 aECG 'AnnotatedECG', GE MUSE 'RestingECG')"),
        };
    }

    private static string? RootName(string path)
    {
        long length = RegularFile.Length(path, "XML file");
        if (length > MaxBytes) throw new EcgFormatException(path, $"{length} bytes: larger than the {MaxBytes} bytes an ECG XML file may have");
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null, MaxCharactersFromEntities = 0 };
        try
        {
            using var reader = XmlReader.Create(path, settings);
            while (reader.Read())
                if (reader.NodeType == XmlNodeType.Element) return reader.LocalName;
            return null;
        }
        catch (XmlException e)
        {
            throw new EcgFormatException(path, $"not well-formed XML: {e.Message}");
        }
    }
}
