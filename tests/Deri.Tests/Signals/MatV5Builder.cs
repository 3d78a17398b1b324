using System.IO.Compression;
using System.Text;

namespace Deri.Tests.Signals;

/// <summary>Writes small MAT v5 files in the CPSC2018 layout (struct <c>ECG{sex, age, data}</c>) for tests.</summary>
public static class MatV5Builder
{
    private const int MiInt8 = 1, MiUInt8 = 2, MiInt32 = 5, MiUInt32 = 6, MiDouble = 9, MiMatrix = 14, MiCompressed = 15, MiUtf8 = 16;

    /// <summary>A MAT v5 file with variable <c>ECG</c>; <paramref name="data"/> is leads × samples (written column-major).</summary>
    public static byte[] CpscFile(double[,] data, string sex, byte age, bool compress = true, string variable = "ECG")
    {
        int leads = data.GetLength(0), n = data.GetLength(1);
        var values = new byte[leads * n * 8];
        for (int t = 0; t < n; t++)
            for (int c = 0; c < leads; c++)
                BitConverter.GetBytes(data[c, t]).CopyTo(values, (t * leads + c) * 8);
        byte[] sexField = Matrix(4, [1, sex.Length], "", Element(MiUtf8, Encoding.UTF8.GetBytes(sex)));
        byte[] ageField = Matrix(9, [1, 1], "", Element(MiUInt8, [age]));
        byte[] dataField = Matrix(6, [leads, n], "", Element(MiDouble, values));
        const int fieldLength = 8;
        var names = new byte[3 * fieldLength];
        Encoding.ASCII.GetBytes("sex").CopyTo(names, 0);
        Encoding.ASCII.GetBytes("age").CopyTo(names, fieldLength);
        Encoding.ASCII.GetBytes("data").CopyTo(names, 2 * fieldLength);
        byte[] ecg = Matrix(2, [1, 1], variable, Element(MiInt32, BitConverter.GetBytes(fieldLength)), Element(MiInt8, names), sexField, ageField, dataField);

        var file = new MemoryStream();
        var text = Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, written by Deri tests".PadRight(116));
        file.Write(text);
        file.Write(new byte[8]);
        file.Write([0x00, 0x01, (byte)'I', (byte)'M']);
        if (compress)
        {
            var z = new MemoryStream();
            using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(ecg);
            file.Write(BitConverter.GetBytes(MiCompressed));
            file.Write(BitConverter.GetBytes((int)z.Length));
            file.Write(z.ToArray());
        }
        else file.Write(ecg);
        return file.ToArray();
    }

    private static byte[] Matrix(int cls, int[] dims, string name, params byte[][] parts)
    {
        var body = new MemoryStream();
        body.Write(Element(MiUInt32, [.. BitConverter.GetBytes(cls), .. new byte[4]]));
        body.Write(Element(MiInt32, dims.SelectMany(BitConverter.GetBytes).ToArray()));
        body.Write(Element(MiInt8, Encoding.ASCII.GetBytes(name)));
        foreach (var p in parts) body.Write(p);
        return Element(MiMatrix, body.ToArray());
    }

    private static byte[] Element(int type, byte[] data)
    {
        int padded = (data.Length + 7) / 8 * 8;
        var e = new byte[8 + padded];
        BitConverter.GetBytes(type).CopyTo(e, 0);
        BitConverter.GetBytes(data.Length).CopyTo(e, 4);
        data.CopyTo(e, 8);
        return e;
    }
}
