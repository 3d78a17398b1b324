// Makes TorchSharp's native glue library loadable on Linux systems whose libstdc++ lacks the
// GLIBCXX_3.4.32 version (Debian 12, Ubuntu 22.04). libLibTorchSharp.so references exactly one
// symbol of that version, std::ios_base_library_init(). A copy of the library in the build output
// (never the NuGet cache) is changed in two ways:
//   1. the GLIBCXX_3.4.32 entry of .gnu.version_r is marked VER_FLG_WEAK, so the loader no longer
//      refuses the library when libstdc++ does not define that version;
//   2. a small library defining the symbol (build/native/glibcxx_compat.cpp) is added as DT_NEEDED
//      (patchelf) and placed beside it, where the library's RUNPATH ($ORIGIN) finds it.
// Both steps are idempotent. This file is compiled by MSBuild's RoslynCodeTaskFactory (the task
// class) and by the test project (the ELF logic alone, with DERI_TESTS defined).
#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;

namespace Deri.Build
{
    /// <summary>Reads and edits the GNU version-requirement table of a 64-bit little-endian ELF file.</summary>
    public static class ElfVersionPatcher
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtDynamic = 6;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>Whether a shared library's bytes contain the given GLIBCXX version name.</summary>
        public static bool DefinesVersion(string libraryPath, string version)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            for (int i = 0; i + needle.Length <= bytes.Length; i++)
            {
                int k = 0;
                while (k < needle.Length && bytes[i + k] == needle[k]) k++;
                if (k == needle.Length) return true;
            }
            return false;
        }

        /// <summary>The flags of the version requirement named <paramref name="version"/>, or null when the file has none.</summary>
        public static ushort? RequirementFlags(string path, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            long offset = FindVernaux(elf, version);
            return offset < 0 ? null : BitConverter.ToUInt16(elf, (int)offset + 4);
        }

        /// <summary>
        /// Marks the requirement weak. Returns true when the file changed, false when it was already weak
        /// or has no such requirement.
        /// </summary>
        public static bool MarkWeak(string path, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            long offset = FindVernaux(elf, version);
            if (offset < 0) return false;
            ushort flags = BitConverter.ToUInt16(elf, (int)offset + 4);
            if ((flags & VerFlgWeak) != 0) return false;
            flags |= VerFlgWeak;
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.Seek(offset + 4, SeekOrigin.Begin);
            stream.Write(BitConverter.GetBytes(flags), 0, 2);
            return true;
        }

        /// <summary>The DT_NEEDED entries of a shared library, in order.</summary>
        public static List<string> Needed(string path)
        {
            byte[] elf = File.ReadAllBytes(path);
            var result = new List<string>();
            foreach (var sh in Sections(elf))
            {
                if (sh.Type != ShtDynamic) continue;
                var strtab = SectionAt(elf, (int)sh.Link);
                for (long p = sh.Offset; p + 16 <= sh.Offset + sh.Size; p += 16)
                {
                    long tag = BitConverter.ToInt64(elf, (int)p);
                    if (tag == 0) break;
                    if (tag == 1) result.Add(CString(elf, strtab.Offset + BitConverter.ToInt64(elf, (int)p + 8)));
                }
            }
            return result;
        }

        private readonly struct Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            { Type = type; Offset = offset; Size = size; Link = link; Info = info; }
            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
        }

        private static void CheckHeader(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
        }

        private static IEnumerable<Section> Sections(byte[] elf)
        {
            CheckHeader(elf);
            long shoff = BitConverter.ToInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            for (int i = 0; i < shnum; i++) yield return ReadSection(elf, shoff + (long)i * shentsize);
        }

        private static Section SectionAt(byte[] elf, int index)
        {
            long shoff = BitConverter.ToInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            return ReadSection(elf, shoff + (long)index * shentsize);
        }

        private static Section ReadSection(byte[] elf, long at)
        {
            int p = (int)at;
            return new Section(
                BitConverter.ToUInt32(elf, p + 4), BitConverter.ToInt64(elf, p + 24), BitConverter.ToInt64(elf, p + 32),
                BitConverter.ToUInt32(elf, p + 40), BitConverter.ToUInt32(elf, p + 44));
        }

        private static string CString(byte[] elf, long at)
        {
            int start = (int)at, end = start;
            while (elf[end] != 0) end++;
            return Encoding.ASCII.GetString(elf, start, end - start);
        }

        // Returns the file offset of the Elf64_Vernaux entry naming `version`, or -1.
        private static long FindVernaux(byte[] elf, string version)
        {
            foreach (var sh in Sections(elf))
            {
                if (sh.Type != ShtGnuVerneed) continue;
                long strtab = SectionAt(elf, (int)sh.Link).Offset;
                long vn = sh.Offset;
                for (uint i = 0; i < sh.Info; i++)
                {
                    // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32
                    int count = BitConverter.ToUInt16(elf, (int)vn + 2);
                    long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                    for (int j = 0; j < count; j++)
                    {
                        // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32
                        if (CString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8)) == version) return aux;
                        aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                    }
                    uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                    if (next == 0) break;
                    vn += next;
                }
            }
            return -1;
        }
    }

#if !DERI_TESTS
    /// <summary>MSBuild task: patches the copy of libLibTorchSharp.so in a build output when the system needs it.</summary>
    public class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        private const string Version = "GLIBCXX_3.4.32";
        private const string ShimName = "libderi_glibcxx_compat.so";

        /// <summary>The copy of libLibTorchSharp.so to patch (in the output folder).</summary>
        [Microsoft.Build.Framework.Required] public string Library { get; set; } = "";
        /// <summary>The C++ source of the compatibility library.</summary>
        [Microsoft.Build.Framework.Required] public string ShimSource { get; set; } = "";

        public override bool Execute()
        {
            string? libstdcxx = FindLibStdCxx();
            if (libstdcxx == null)
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "Deri: no libstdc++.so.6 found in the usual places; leaving TorchSharp as it is.");
                return true;
            }
            if (ElfVersionPatcher.DefinesVersion(libstdcxx, Version))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"Deri: {libstdcxx} defines {Version}; TorchSharp needs no patch.");
                return true;
            }
            if (ElfVersionPatcher.RequirementFlags(Library, Version) == null) return true;

            string dir = Path.GetDirectoryName(Path.GetFullPath(Library))!;
            string shim = Path.Combine(dir, ShimName);
            if (!File.Exists(shim) || File.GetLastWriteTimeUtc(shim) < File.GetLastWriteTimeUtc(ShimSource))
            {
                string tmp = shim + ".tmp";
                if (!Run("g++", $"-shared -fPIC -O2 -o \"{tmp}\" \"{ShimSource}\"",
                        "g++ is needed to build TorchSharp's libstdc++ compatibility library. Install it with: sudo apt-get install g++ (or build-essential)"))
                    return false;
                File.Copy(tmp, shim, true);
                File.Delete(tmp);
            }
            bool changed = false;
            if (!ElfVersionPatcher.Needed(Library).Contains(ShimName))
            {
                if (!Run("patchelf", $"--add-needed {ShimName} \"{Library}\"",
                        "patchelf is needed to make TorchSharp load with this system's libstdc++ (it lacks GLIBCXX_3.4.32). Install it with: sudo apt-get install patchelf"))
                    return false;
                changed = true;
            }
            changed |= ElfVersionPatcher.MarkWeak(Library, Version);
            if (changed)
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"Deri: patched {Library} for {libstdcxx} (no {Version}).");
            return !Log.HasLoggedErrors;
        }

        private static string? FindLibStdCxx()
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
            };
            foreach (string c in candidates) if (File.Exists(c)) return c;
            return null;
        }

        private bool Run(string tool, string args, string missingMessage)
        {
            try
            {
                var psi = new ProcessStartInfo(tool, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
                using var p = Process.Start(psi)!;
                string err = p.StandardError.ReadToEnd();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0)
                {
                    Log.LogError($"Deri: '{tool} {args}' failed with exit code {p.ExitCode}: {err}");
                    return false;
                }
                return true;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                Log.LogError($"Deri: {missingMessage}");
                return false;
            }
        }
    }
#endif
}
