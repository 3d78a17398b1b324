using Deri.Signals;
using Deri.Signals.Clinical;

namespace Deri.Serving;

// Clinical exports as uploads: one DICOM ECG (.dcm), HL7 aECG or GE MUSE XML (.xml), or EDF/BDF file per request.
public static partial class UploadReader
{
    private static bool IsClinical(string name) => Ext(name) is ".dcm" or ".dicom" or ".xml" or ".edf" or ".bdf" or ".scp";

    /// <summary>
    /// Reads one clinical-format file through the same readers as <c>deri data</c>. Their allocations are bounded by the
    /// file's size (declared channels × samples are checked against the bytes present before anything is allocated), and
    /// the upload's size was checked against <see cref="UploadLimits.MaxBytes"/> before; an EDF recording too long to read
    /// whole is refused here rather than cut to a window.
    /// </summary>
    private static UploadedRecord ReadClinical(UploadedFile file, UploadLimits limits)
    {
        string ext = Ext(file.Name);
        if (ext == ".scp") throw new BadUploadException(415, "unsupported format", $"{file.Name}: SCP-ECG (.scp) is not supported: export as DICOM or aECG");
        string dir = Directory.CreateTempSubdirectory("deri-upload-").FullName;
        string path = Path.Combine(dir, "record" + ext);
        try
        {
            File.WriteAllBytes(path, file.Content);
            EcgRecord record;
            RecordReader.Kind kind;
            try
            {
                kind = RecordReader.Resolve(path).Kind;
                record = RecordReader.Read(path, new RecordReadOptions { Limits = limits.Record });
            }
            catch (EcgFormatException e) when (e.Problem.Contains("is not supported: export as", StringComparison.Ordinal))
            {
                throw new BadUploadException(415, "unsupported format", $"{file.Name}: {e.Problem}");
            }
            catch (EcgFormatException e)
            {
                throw new BadUploadException(422, "unreadable record", $"{file.Name}: {e.Problem}");
            }
            if (kind == RecordReader.Kind.Edf && record.Comments.Any(c => c.StartsWith("window ", StringComparison.Ordinal)))
                throw new BadUploadException(422, "unsupported duration", $"{file.Name}: {record.Comments[0]}; uploads must hold the whole record");
            string format = kind switch
            {
                RecordReader.Kind.Dicom => "dicom",
                RecordReader.Kind.Aecg => "aecg",
                RecordReader.Kind.Muse => "muse-xml",
                _ => "edf",
            };
            return FromRecord(record, format, file.Name) with { Id = Path.GetFileNameWithoutExtension(file.Name) };
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
