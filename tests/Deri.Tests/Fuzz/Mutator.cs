using System.Text;

namespace Deri.Tests.Fuzz;

/// <summary>
/// A seeded mutator in the style of coverage-free fuzzers: each input gets one to four edits drawn from bit flips,
/// "interesting" bytes and 32-bit integers (0, −1, extremes, powers of two) written over the data, byte runs inserted,
/// deleted or duplicated, truncation, and — for text formats — tokens replaced by interesting strings and lines
/// deleted, duplicated or swapped. The same seed always gives the same input, so a failure replays exactly.
/// </summary>
public static class Mutator
{
    private static readonly int[] InterestingInts =
        [0, -1, 1, 2, 7, 8, 16, 20, 24, 255, 256, 4096, 32767, -32768, 65535, 65536, int.MaxValue, int.MinValue, int.MaxValue - 7, 1 << 30];

    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'\n', (byte)' ', (byte)'#', (byte)'"', (byte)','];

    private static readonly string[] InterestingTokens =
    [
        "0", "-1", "1", "2147483647", "2147483648", "-2147483648", "99999999999999999999", "9223372036854775807", "1e309", "-1e309",
        "NaN", "inf", "-0", "0.5", "1.5", "x", "", " ", "../", "../../x.dat", "/dev/zero", "16x0", "16+99999999999", "16:2147483647",
        "212x3:1+5", "8", "0(0)/mV", "1e-320", "(", ")", "/", ":", "#", "\t", "\"", ",", "[1", "{a: 1", "- -", "&a", "*a", "!!binary", "~", "null",
        "{\"dtype\":\"F32\",\"shape\":[1000000,1000000],\"data_offsets\":[0,4]}", "\"shape\":[-1]", "\"data_offsets\":[4,0]",
    ];

    /// <summary>A mutated copy of <paramref name="input"/>; <paramref name="text"/> enables the token and line edits.</summary>
    public static byte[] Mutate(byte[] input, Random rng, bool text)
    {
        var data = new List<byte>(input);
        int edits = 1 + rng.Next(4);
        for (int e = 0; e < edits; e++)
        {
            int op = rng.Next(text ? 12 : 9);
            switch (op)
            {
                case 0: FlipBit(data, rng); break;
                case 1: SetByte(data, rng); break;
                case 2: SetInt32(data, rng); break;
                case 3: Insert(data, rng); break;
                case 4: Delete(data, rng); break;
                case 5: Duplicate(data, rng); break;
                case 6: Truncate(data, rng); break;
                case 7: SetInt32(data, rng, nearStart: true); break;
                case 8: SetByte(data, rng, nearStart: true); break;
                case 9:
                case 10: ReplaceToken(data, rng); break;
                default: EditLines(data, rng); break;
            }
        }
        return data.ToArray();
    }

    private static int Position(List<byte> data, Random rng, bool nearStart) =>
        data.Count == 0 ? 0 : nearStart ? rng.Next(Math.Min(data.Count, 160)) : rng.Next(data.Count);

    private static void FlipBit(List<byte> data, Random rng)
    {
        if (data.Count == 0) return;
        int i = rng.Next(data.Count);
        data[i] ^= (byte)(1 << rng.Next(8));
    }

    private static void SetByte(List<byte> data, Random rng, bool nearStart = false)
    {
        if (data.Count == 0) return;
        data[Position(data, rng, nearStart)] = rng.Next(2) == 0 ? InterestingBytes[rng.Next(InterestingBytes.Length)] : (byte)rng.Next(256);
    }

    private static void SetInt32(List<byte> data, Random rng, bool nearStart = false)
    {
        if (data.Count < 4) return;
        int i = Math.Min(Position(data, rng, nearStart) & ~3, data.Count - 4);
        var b = BitConverter.GetBytes(InterestingInts[rng.Next(InterestingInts.Length)]);
        for (int k = 0; k < 4; k++) data[i + k] = b[k];
    }

    private static void Insert(List<byte> data, Random rng)
    {
        var run = new byte[1 + rng.Next(16)];
        rng.NextBytes(run);
        data.InsertRange(Position(data, rng, false), run);
    }

    private static void Delete(List<byte> data, Random rng)
    {
        if (data.Count == 0) return;
        int i = rng.Next(data.Count);
        data.RemoveRange(i, Math.Min(data.Count - i, 1 + rng.Next(32)));
    }

    private static void Duplicate(List<byte> data, Random rng)
    {
        if (data.Count == 0) return;
        int i = rng.Next(data.Count);
        int n = Math.Min(data.Count - i, 1 + rng.Next(64));
        data.InsertRange(Position(data, rng, false), data.GetRange(i, n));
    }

    private static void Truncate(List<byte> data, Random rng)
    {
        if (data.Count == 0) return;
        int keep = rng.Next(data.Count);
        data.RemoveRange(keep, data.Count - keep);
    }

    /// <summary>Replaces one run of non-separator characters with an interesting token.</summary>
    private static void ReplaceToken(List<byte> data, Random rng)
    {
        string s = Encoding.UTF8.GetString(data.ToArray());
        if (s.Length == 0) return;
        int i = rng.Next(s.Length);
        static bool Sep(char c) => c is ' ' or '\t' or '\n' or '\r' or ',' or ':' or '/' or '(' or ')' or '+' or 'x' or '"' or '[' or ']' or '{' or '}';
        int a = i, b = i;
        while (a > 0 && !Sep(s[a - 1])) a--;
        while (b < s.Length && !Sep(s[b])) b++;
        string t = InterestingTokens[rng.Next(InterestingTokens.Length)];
        Set(data, s[..a] + t + s[b..]);
    }

    private static void EditLines(List<byte> data, Random rng)
    {
        var lines = Encoding.UTF8.GetString(data.ToArray()).Split('\n').ToList();
        int i = rng.Next(lines.Count), j = rng.Next(lines.Count);
        switch (rng.Next(3))
        {
            case 0: lines.RemoveAt(i); break;
            case 1: lines.Insert(j, lines[i]); break;
            default: (lines[i], lines[j]) = (lines[j], lines[i]); break;
        }
        Set(data, string.Join('\n', lines));
    }

    private static void Set(List<byte> data, string s)
    {
        data.Clear();
        data.AddRange(Encoding.UTF8.GetBytes(s));
    }
}
