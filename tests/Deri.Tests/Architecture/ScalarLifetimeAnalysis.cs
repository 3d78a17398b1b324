using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using TorchSharp;

namespace Deri.Tests.Architecture;

/// <summary>
/// Finds, in compiled IL, the places where a TorchSharp <see cref="Scalar"/> is made that nothing owns.
/// <para>
/// TorchSharp 0.107 turns a .NET number into a <see cref="Scalar"/> implicitly (<c>t * 2.0</c>, the <c>alpha = 1</c>
/// inside <c>Tensor.add(Tensor)</c>, the coefficients inside its optimizers). The Scalar's raw handle goes to native
/// code and nothing keeps the managed object alive during the call, so the garbage collector may finalise it there and
/// the native op reads freed memory ("Scalar.h:140 toDouble", "alpha must not be a floating point number"). The rule:
/// Deri never creates such a Scalar, and never calls a TorchSharp method that does so internally.
/// </para>
/// <para>
/// A TorchSharp method is <em>unsafe</em> when its body converts a number to a Scalar (<c>op_Implicit</c>,
/// <c>ToScalar</c>) and never disposes one, or calls an unsafe TorchSharp method (a fixed point over TorchSharp's
/// static call graph). A TorchSharp type is unsafe when one of its virtual overrides is unsafe (its <c>forward</c> or
/// <c>step</c> runs when Deri calls the base method), so making one is a violation too.
/// </para>
/// </summary>
public static class ScalarLifetimeAnalysis
{
    private static readonly Dictionary<ushort, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => unchecked((ushort)o.Value));

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance |
                                     BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>One place in Deri's IL that breaks the rule.</summary>
    /// <param name="Method">Declaring type and method.</param>
    /// <param name="Offset">IL offset of the call.</param>
    /// <param name="Callee">What it calls.</param>
    /// <param name="Why">Which rule it breaks.</param>
    /// <param name="Source">File and line from the assembly's portable PDB, when it has one.</param>
    public sealed record Violation(string Method, int Offset, string Callee, string Why, string? Source = null)
    {
        /// <inheritdoc />
        public override string ToString() => $"{Source ?? "?"}: {Method} @IL_{Offset:x4}: {Callee} — {Why}";
    }

    /// <summary>Sequence points of an assembly's portable PDB (file:line by method token and IL offset).</summary>
    private sealed class Lines : IDisposable
    {
        private readonly MetadataReaderProvider? _provider;

        public Lines(Assembly assembly)
        {
            string pdb = Path.ChangeExtension(assembly.Location, ".pdb");
            if (File.Exists(pdb)) _provider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdb));
        }

        public string? At(MethodBase method, int offset)
        {
            if (_provider is null) return null;
            var reader = _provider.GetMetadataReader();
            var handle = MetadataTokens.MethodDefinitionHandle(method.MetadataToken & 0xFFFFFF);
            SequencePoint? best = null;
            foreach (var sp in reader.GetMethodDebugInformation(handle).GetSequencePoints())
                if (!sp.IsHidden && sp.Offset <= offset && (best is null || sp.Offset >= best.Value.Offset)) best = sp;
            if (best is not { } b) return null;
            string file = reader.GetString(reader.GetDocument(b.Document).Name);
            int src = file.IndexOf("/src/", StringComparison.Ordinal);
            return $"{(src >= 0 ? file[(src + 1)..] : file)}:{b.StartLine}";
        }

        public void Dispose() => _provider?.Dispose();
    }

    /// <summary>A call, <c>newobj</c> or <c>ldftn</c> in a method body.</summary>
    /// <param name="Offset">IL offset.</param>
    /// <param name="Target">The method or constructor referred to.</param>
    /// <param name="Op">The instruction (call, callvirt, newobj, ldftn …).</param>
    public readonly record struct Call(int Offset, MethodBase Target, OpCode Op);

    private static readonly Lazy<TorchSharpModel> Model = new(() => TorchSharpModel.Build(typeof(Scalar).Assembly));

    /// <summary>The TorchSharp methods found unsafe, as "Type::Name".</summary>
    public static IReadOnlyCollection<MethodBase> UnsafeTorchSharpMethods => Model.Value.Unsafe;

    /// <summary>Every violation in the given assemblies.</summary>
    public static IReadOnlyList<Violation> Check(IEnumerable<Assembly> assemblies)
    {
        var model = Model.Value;
        var found = new List<Violation>();
        foreach (var assembly in assemblies)
        {
        using var lines = new Lines(assembly);
        int before = found.Count;
        foreach (var type in SafeTypes(assembly))
        foreach (var method in Methods(type))
        {
            int methodStart = found.Count;
            var calls = Calls(method).ToList();
            string where = $"{type.FullName}::{method.Name}";
            var unowned = UnownedConversions(method).Select(c => c.Offset).ToHashSet();
            foreach (var c in calls)
            {
                if (IsConversion(c.Target))
                {
                    // The implicit operator is banned outright; an explicit ToScalar() must be owned: disposed in the
                    // same method (using var) or kept in a static field (Deri.Runtime.Scalars' constants).
                    if (c.Target.Name == "op_Implicit")
                        found.Add(new Violation(where, c.Offset, Describe(c.Target), "implicit number → Scalar conversion (use Deri.Runtime.Scalars or an owned `using var s = x.ToScalar()`)"));
                    else if (unowned.Contains(c.Offset) && !IsScalarHelper(type))
                        found.Add(new Violation(where, c.Offset, Describe(c.Target), "ToScalar() whose Scalar is neither disposed in this method nor kept in a static field"));
                }
                else if (model.Unsafe.Contains(Normalize(c.Target)))
                    found.Add(new Violation(where, c.Offset, Describe(c.Target), "TorchSharp method that makes an unowned Scalar inside"));
                // A derived class's constructor calls its base constructor (call, not newobj): deriving to override the
                // unsafe members (Deri's AdamW) is how such a type is made safe.
                else if (c.Target.IsConstructor && c.Op == OpCodes.Newobj && c.Target.DeclaringType is { } t && t.Assembly == model.Assembly && model.IsUnsafe(t))
                    found.Add(new Violation(where, c.Offset, Describe(c.Target), "TorchSharp type whose overrides make unowned Scalars"));
                else if (c.Target is MethodInfo mi && mi.DeclaringType?.Assembly == model.Assembly && model.IsUnsafe(mi.ReturnType))
                    found.Add(new Violation(where, c.Offset, Describe(c.Target), $"factory of {mi.ReturnType.Name}, whose overrides make unowned Scalars"));
            }
            for (int k = methodStart; k < found.Count; k++) found[k] = found[k] with { Source = lines.At(method, found[k].Offset) };
        }
        _ = before;
        }
        return found;
    }

    private static bool IsScalarHelper(Type type) => type.FullName is { } n && n.StartsWith("Deri.Runtime.Scalars", StringComparison.Ordinal);

    internal static bool IsConversion(MethodBase m) =>
        (m.DeclaringType == typeof(Scalar) && m.Name == "op_Implicit") ||
        (m.DeclaringType?.Name == "ScalarExtensionMethods" && m.Name is "ToScalar" or "ToBFloat16Scalar");

    private static string Describe(MethodBase m) =>
        $"{m.DeclaringType?.Name}::{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    /// <summary>Types of an assembly, skipping those that cannot be loaded.</summary>
    internal static IEnumerable<Type> SafeTypes(Assembly assembly)
    {
        try { return assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { return e.Types.Where(t => t is not null)!; }
    }

    internal static IEnumerable<MethodBase> Methods(Type type) =>
        type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All));

    /// <summary>The generic definition of a method (so calls on constructed generics match the analysed bodies).</summary>
    internal static MethodBase Normalize(MethodBase m)
    {
        if (m is MethodInfo { IsGenericMethod: true } gm && !gm.IsGenericMethodDefinition) m = gm.GetGenericMethodDefinition();
        if (m.DeclaringType is { IsGenericType: true, IsGenericTypeDefinition: false } dt)
        {
            var def = dt.GetGenericTypeDefinition();
            try { return MethodBase.GetMethodFromHandle(m.MethodHandle, def.TypeHandle) ?? m; }
            catch (ArgumentException) { return m; }
        }
        return m;
    }

    internal static Type Definition(Type t) => t.IsGenericType && !t.IsGenericTypeDefinition ? t.GetGenericTypeDefinition() : t;

    /// <summary>One decoded IL instruction: offset, opcode, the local it stores or loads (or -1), and the method it calls (or null).</summary>
    internal readonly record struct Instruction(int Offset, OpCode Op, int Local, MethodBase? Target);

    /// <summary>The calls of a method body, with their targets resolved.</summary>
    internal static IEnumerable<Call> Calls(MethodBase method) =>
        Decode(method).Where(i => i.Target is not null).Select(i => new Call(i.Offset, i.Target!, i.Op));

    /// <summary>Conversions to Scalar in a method body whose result is neither disposed in the method
    /// (<c>using var s = x.ToScalar()</c>: stored to a local that is later loaded for <c>Dispose</c>) nor kept in a static field.</summary>
    internal static IEnumerable<Call> UnownedConversions(MethodBase method)
    {
        var code = Decode(method).ToList();
        for (int k = 0; k < code.Count; k++)
        {
            if (code[k].Target is not { } t || !IsConversion(t)) continue;
            var next = k + 1 < code.Count ? code[k + 1] : default;
            bool owned = next.Op == OpCodes.Stsfld;
            if (next.Local >= 0 && IsStore(next.Op))
                for (int j = 0; j + 1 < code.Count && !owned; j++)
                    owned = code[j].Local == next.Local && IsLoad(code[j].Op) &&
                            code[j + 1].Target is { Name: "Dispose" } d &&
                            (d.DeclaringType == typeof(Scalar) || d.DeclaringType == typeof(IDisposable));
            if (!owned) yield return new Call(code[k].Offset, t, code[k].Op);
        }
    }

    private static bool IsStore(OpCode op) => op == OpCodes.Stloc || op == OpCodes.Stloc_S || op == OpCodes.Stloc_0 ||
                                               op == OpCodes.Stloc_1 || op == OpCodes.Stloc_2 || op == OpCodes.Stloc_3;

    private static bool IsLoad(OpCode op) => op == OpCodes.Ldloc || op == OpCodes.Ldloc_S || op == OpCodes.Ldloc_0 ||
                                              op == OpCodes.Ldloc_1 || op == OpCodes.Ldloc_2 || op == OpCodes.Ldloc_3 ||
                                              op == OpCodes.Ldloca || op == OpCodes.Ldloca_S;

    private static IEnumerable<Instruction> Decode(MethodBase method)
    {
        byte[]? il;
        try { il = method.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or NotSupportedException) { il = null; }
        if (il is null) yield break;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method is MethodInfo { IsGenericMethod: true } g ? g.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            int start = i;
            ushort value = il[i++];
            if (value == 0xFE) value = (ushort)(0xFE00 | il[i++]);
            if (!OpCodesByValue.TryGetValue(value, out var op)) yield break;
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            MethodBase? target = null;
            int local = -1;
            if (op.OperandType == OperandType.InlineMethod)
            {
                try { target = method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (Exception e) when (e is ArgumentException or TypeLoadException or MissingMemberException or BadImageFormatException or FileNotFoundException) { }
            }
            else if (op.OperandType == OperandType.ShortInlineVar && (IsStore(op) || IsLoad(op))) local = il[i];
            else if (op.OperandType == OperandType.InlineVar && (IsStore(op) || IsLoad(op))) local = BitConverter.ToUInt16(il, i);
            else if (op == OpCodes.Stloc_0 || op == OpCodes.Ldloc_0) local = 0;
            else if (op == OpCodes.Stloc_1 || op == OpCodes.Ldloc_1) local = 1;
            else if (op == OpCodes.Stloc_2 || op == OpCodes.Ldloc_2) local = 2;
            else if (op == OpCodes.Stloc_3 || op == OpCodes.Ldloc_3) local = 3;
            yield return new Instruction(start, op, local, target);
            i += size;
        }
    }

    private sealed class TorchSharpModel
    {
        public required Assembly Assembly { get; init; }
        public required HashSet<MethodBase> Unsafe { get; init; }
        public required HashSet<Type> UnsafeTypes { get; init; }

        /// <summary>Whether <paramref name="type"/> or a base class of it declares an unsafe override: a TorchSharp type
        /// inherits its base's <c>forward</c> (BatchNorm1d runs BatchNorm's, which counts batches with <c>add_(1)</c>).</summary>
        public bool IsUnsafe(Type type)
        {
            for (var t = type; t is not null; t = t.BaseType)
                if (UnsafeTypes.Contains(Definition(t))) return true;
            return false;
        }

        public static TorchSharpModel Build(Assembly torchSharp)
        {
            var methods = SafeTypes(torchSharp).SelectMany(Methods).Select(Normalize).Distinct().ToList();
            var calls = methods.ToDictionary(m => m, m => Calls(m).Select(c => c.Target).ToList());
            var unsafeSet = new HashSet<MethodBase>();
            foreach (var (m, targets) in calls)
            {
                // The conversions themselves are where the Scalar is born; a method that only converts and returns
                // it (op_Implicit → ToScalar) hands ownership to its caller, which is judged instead.
                if (IsConversion(m)) continue;
                if (UnownedConversions(m).Any()) unsafeSet.Add(m);
            }
            // Callers of unsafe methods are unsafe: a fixed point over the static call graph.
            bool changed = true;
            while (changed)
            {
                changed = false;
                foreach (var (m, targets) in calls)
                    if (!unsafeSet.Contains(m) && !IsConversion(m) && targets.Any(t => unsafeSet.Contains(Normalize(t))))
                        changed = unsafeSet.Add(m) || changed;
            }
            var unsafeTypes = new HashSet<Type>();
            foreach (var m in unsafeSet)
                if (m is MethodInfo { IsVirtual: true } mi && mi.GetBaseDefinition() != mi && mi.DeclaringType is { } t)
                    unsafeTypes.Add(Definition(t));
            return new TorchSharpModel { Assembly = torchSharp, Unsafe = unsafeSet, UnsafeTypes = unsafeTypes };
        }
    }
}
