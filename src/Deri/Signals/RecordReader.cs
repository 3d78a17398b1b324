using Deri.IO;

namespace Deri.Signals;

/// <summary>Shape and identity of a record whose samples were written into a caller's buffer.</summary>
/// <param name="Id">Record name.</param>
/// <param name="Samples">Samples per channel written.</param>
/// <param name="SamplingRate">Sampling rate in Hz.</param>
/// <param name="Leads">Names of the channels written, in buffer order.</param>
public readonly record struct SignalInfo(string Id, int Samples, double SamplingRate, IReadOnlyList<string> Leads);

/// <summary>
/// The one entry point for reading an ECG record from disk, whatever its format:
/// a WFDB header (<c>X.hea</c>), a WFDB record name without extension (<c>X</c>), a WFDB signal file whose
/// header sits beside it (<c>X.dat</c>, CinC <c>X.mat</c>), a CPSC2018 MAT v5 file (<c>X.mat</c> with no header), or a
/// clinical export: DICOM waveform (<c>.dcm</c>, or any file with the DICM prefix), HL7 aECG or GE MUSE XML (<c>.xml</c>),
/// EDF/EDF+/BDF (<c>.edf</c>, <c>.bdf</c>). Philips XML and SCP-ECG are refused by name.
/// </summary>
public static class RecordReader
{
    /// <summary>What a path resolves to.</summary>
    public enum Kind
    {
        /// <summary>A WFDB record, read through its header.</summary>
        Wfdb,
        /// <summary>A CPSC2018 MAT v5 file.</summary>
        Cpsc2018,
        /// <summary>A DICOM ECG waveform object.</summary>
        Dicom,
        /// <summary>An HL7 aECG XML file.</summary>
        Aecg,
        /// <summary>A GE MUSE XML file.</summary>
        Muse,
        /// <summary>An EDF, EDF+ or BDF file.</summary>
        Edf,
    }

    /// <summary>Extensions of single-file clinical formats (lower case, with the dot).</summary>
    public static IReadOnlyList<string> ClinicalExtensions { get; } = [".dcm", ".dicom", ".xml", ".edf", ".bdf"];

    /// <summary>The kind of a single-file clinical record by its extension and content; null for other extensions.</summary>
    /// <exception cref="EcgFormatException">A format refused by name (SCP-ECG, Philips XML) or an XML file of no known ECG kind.</exception>
    private static Kind? ClinicalKind(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".scp") throw new EcgFormatException(path, "SCP-ECG (.scp) is not supported: export as DICOM or aECG");
        if (!ClinicalExtensions.Contains(ext)) return null;
        RegularFile.Length(path, "file");
        return ext switch
        {
            ".xml" => Deri.Signals.Clinical.EcgXml.Sniff(path) == Deri.Signals.Clinical.EcgXml.Kind.Aecg ? Kind.Aecg : Kind.Muse,
            ".edf" or ".bdf" => Kind.Edf,
            _ => Kind.Dicom,
        };
    }

    private static bool IsDicomFile(string path)
    {
        RegularFile.Length(path, "file");
        Span<byte> head = stackalloc byte[132];
        using var fs = File.OpenRead(path);
        return fs.ReadAtLeast(head, 132, throwOnEndOfStream: false) == 132 && Dicom.DicomParser.IsDicom(head);
    }

    /// <summary>Decides how to read <paramref name="path"/> and which file holds the record's description.</summary>
    /// <returns>The kind and the file to read: the <c>.hea</c> for WFDB, the <c>.mat</c> for CPSC2018.</returns>
    /// <exception cref="EcgFormatException">No record exists at the path, or a <c>.mat</c> without header is not MAT v5.</exception>
    public static (Kind Kind, string File) Resolve(string path)
    {
        if (ClinicalKind(path) is Kind clinical) return (clinical, path);
        string ext = Path.GetExtension(path);
        if (ext.Equals(".hea", StringComparison.OrdinalIgnoreCase))
            return File.Exists(path) ? (Kind.Wfdb, path) : throw new EcgFormatException(path, "header file not found");
        if (ext.Equals(".mat", StringComparison.OrdinalIgnoreCase))
        {
            string hea = Path.ChangeExtension(path, ".hea");
            if (File.Exists(hea)) return (Kind.Wfdb, hea);
            if (!File.Exists(path)) throw new EcgFormatException(path, "file not found");
            return IsMatV5(path) ? (Kind.Cpsc2018, path)
                : throw new EcgFormatException(path, "a .mat file without a WFDB header beside it must be a MAT v5 file (CPSC2018 layout); MAT v4 signal files need their .hea for sampling rate and calibration");
        }
        if (ext.Equals(".dat", StringComparison.OrdinalIgnoreCase))
        {
            string hea = Path.ChangeExtension(path, ".hea");
            return File.Exists(hea) ? (Kind.Wfdb, hea) : throw new EcgFormatException(path, $"no WFDB header {Path.GetFileName(hea)} beside the signal file");
        }
        if (File.Exists(path + ".hea")) return (Kind.Wfdb, path + ".hea");
        if (File.Exists(path + ".mat") && IsMatV5(path + ".mat")) return (Kind.Cpsc2018, path + ".mat");
        if (File.Exists(path) && IsMatV5(path)) return (Kind.Cpsc2018, path);
        if (File.Exists(path) && !Directory.Exists(path) && IsDicomFile(path)) return (Kind.Dicom, path);
        throw new EcgFormatException(path, "no record found: neither a WFDB header (.hea), a MAT v5 file (.mat) nor a DICOM, aECG, MUSE XML or EDF/BDF file exists for this path");
    }

    /// <summary>Reads the record at <paramref name="path"/> (see <see cref="RecordReader"/> for accepted paths).</summary>
    /// <exception cref="EcgFormatException">The record is missing or unreadable; the message names the file and the problem.</exception>
    public static EcgRecord Read(string path, RecordReadOptions? options = null)
    {
        var (kind, file) = Resolve(path);
        return kind == Kind.Wfdb ? WfdbReader.Read(file, options) : ReadSingleFile(kind, file, options);
    }

    private static EcgRecord ReadSingleFile(Kind kind, string file, RecordReadOptions? options)
    {
        var record = kind switch
        {
            Kind.Cpsc2018 => Cpsc2018.Read(file, options),
            Kind.Dicom => Dicom.DicomEcgReader.Read(file, options),
            Kind.Aecg => Deri.Signals.Clinical.AecgReader.Read(file),
            Kind.Muse => Deri.Signals.Clinical.MuseReader.Read(file),
            Kind.Edf => Deri.Signals.Clinical.EdfReader.Read(file, options),
            _ => throw new EcgFormatException(file, $"no reader for {kind}"),
        };
        if (options is { AllowMissing: false } && record.MissingSamples > 0)
            throw new EcgFormatException(file, $"{record.MissingSamples} missing samples");
        return record;
    }

    /// <summary>
    /// Writes the physical values of the 12 leads in <see cref="LeadOrder.Model"/> order into
    /// <paramref name="destination"/>, channel-major <c>[12 × samples]</c>, NaN for missing samples. Format-16 WFDB
    /// records (PTB-XL, MIMIC-IV-ECG, CinC) are decoded straight from the file into the buffer.
    /// </summary>
    /// <exception cref="EcgFormatException">The record is unreadable or lacks one of the 12 leads.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is smaller than 12 × samples.</exception>
    public static SignalInfo ReadModelLeads(string path, Span<float> destination)
    {
        var (kind, file) = Resolve(path);
        if (kind == Kind.Wfdb)
        {
            var header = WfdbHeader.Read(file);
            int[] idx = LeadOrder.Indices(header.Signals.Select(s => s.Description).ToArray(), file);
            return ReadWfdb(header, file, idx, destination, LeadOrder.Model);
        }
        var record = ReadSingleFile(kind, file, null);
        return Copy(record, LeadOrder.Indices(record.Leads, file), destination, LeadOrder.Model);
    }

    /// <summary>
    /// Writes the physical values of the given channels (indices into the record's own channel order) into
    /// <paramref name="destination"/>, channel-major <c>[channels.Length × samples]</c>, NaN for missing samples.
    /// </summary>
    /// <exception cref="EcgFormatException">The record is unreadable.</exception>
    /// <exception cref="ArgumentException">A channel is out of range or <paramref name="destination"/> is too small.</exception>
    public static SignalInfo ReadPhysical(string path, ReadOnlySpan<int> channels, Span<float> destination)
    {
        var (kind, file) = Resolve(path);
        if (kind == Kind.Wfdb)
        {
            var header = WfdbHeader.Read(file);
            var names = new string[channels.Length];
            for (int k = 0; k < channels.Length; k++)
            {
                if ((uint)channels[k] >= (uint)header.SignalCount)
                    throw new InputValueException($"channel {channels[k]} is out of range: {file} has {header.SignalCount} channels");
                names[k] = header.Signals[channels[k]].Description;
            }
            return ReadWfdb(header, file, channels, destination, names);
        }
        var record = ReadSingleFile(kind, file, null);
        var n2 = new string[channels.Length];
        for (int k = 0; k < channels.Length; k++)
        {
            if ((uint)channels[k] >= (uint)record.Channels)
                throw new InputValueException($"channel {channels[k]} is out of range: {file} has {record.Channels} channels");
            n2[k] = record.Leads[channels[k]];
        }
        return Copy(record, channels, destination, n2);
    }

    private static SignalInfo ReadWfdb(WfdbHeader header, string file, ReadOnlySpan<int> channels, Span<float> destination, IReadOnlyList<string> names)
    {
        if (WfdbReader.TryReadPhysicalFormat16(header, file, channels, destination, out int samples))
            return new SignalInfo(header.Name, samples, header.SamplingFrequency, names);
        return Copy(WfdbReader.Read(header, file), channels, destination, names);
    }

    private static SignalInfo Copy(EcgRecord record, ReadOnlySpan<int> channels, Span<float> destination, IReadOnlyList<string> names)
    {
        int n = record.Samples;
        if (destination.Length < (long)channels.Length * n)
            throw new ArgumentException($"destination holds {destination.Length} values, {channels.Length} channels × {n} samples are needed", nameof(destination));
        for (int k = 0; k < channels.Length; k++)
        {
            int c = channels[k];
            var dst = destination.Slice(k * n, n);
            if (record.ExactPhysical is { } exact)
            {
                var src = exact[c];
                for (int t = 0; t < n; t++) dst[t] = (float)src[t];
            }
            else
            {
                var d = record.Digital[c];
                double inv = 1.0 / record.Gain[c];
                int b = record.Baseline[c];
                for (int t = 0; t < n; t++) dst[t] = d[t] == int.MinValue ? float.NaN : (float)((d[t] - b) * inv);
            }
        }
        return new SignalInfo(record.Id, n, record.SamplingRate, names);
    }

    private static bool IsMatV5(string path)
    {
        // A FIFO or device must not block here: only a regular file is opened.
        RegularFile.Length(path, "file");
        Span<byte> head = stackalloc byte[10];
        using var fs = File.OpenRead(path);
        return fs.ReadAtLeast(head, 10, throwOnEndOfStream: false) == 10 && MatV5.IsMatV5(head);
    }
}
