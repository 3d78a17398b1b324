using Deri.Signals;

namespace Deri.Data.Preprocessing;

/// <summary>Finds, for each lead of the model order (I, II, III, aVR, aVF, aVL, V1–V6), the record channel that holds it.</summary>
internal static class ModelLeadMap
{
    private static readonly string[] ModelOrder = ["I", "II", "III", "AVR", "AVF", "AVL", "V1", "V2", "V3", "V4", "V5", "V6"];

    public static int[] Resolve(EcgRecord record)
    {
        var map = new int[ModelOrder.Length];
        for (int i = 0; i < ModelOrder.Length; i++)
        {
            map[i] = -1;
            for (int c = 0; c < record.Leads.Count; c++)
            {
                if (string.Equals(record.Leads[c].Trim(), ModelOrder[i], StringComparison.OrdinalIgnoreCase)) { map[i] = c; break; }
            }
            if (map[i] < 0)
                throw new InvalidDataException($"record {record.Id}: lead {ModelOrder[i]} not found among [{string.Join(", ", record.Leads)}]");
        }
        return map;
    }
}
