using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Deri.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Deri.Config;

/// <summary>
/// Reads typed config records from YAML and writes them back. Keys are the snake_case names of the
/// record properties (or their <see cref="YamlMemberAttribute.Alias"/>); a key the record does not
/// have, a wrong type or a duplicate key is a <see cref="ConfigException"/> naming the file, line and
/// dotted key. Missing keys keep the record's defaults. Overrides (<c>trainer.batch_size=64</c>) are
/// applied to the parsed document before binding, so they are checked exactly like file values but
/// their errors name the override instead of the file.
/// </summary>
/// <remarks>
/// A record needs either a parameterless constructor or a constructor whose parameters all have
/// defaults, and settable (or init) properties. Supported value types: string, bool, integers,
/// float/double, enums, nested records, <c>Dictionary&lt;string, T&gt;</c>, <c>List&lt;T&gt;</c> and arrays.
/// </remarks>
public static class ConfigLoader
{
    /// <summary>
    /// Reads the config file <paramref name="path"/> (only defaults when null) and applies <paramref name="overrides"/>.
    /// Relative values of <see cref="ConfigPathAttribute"/> keys written in the file are resolved against the file's
    /// folder; override values stay relative to the working folder.
    /// </summary>
    /// <exception cref="ConfigException">The file is missing or malformed, or a key or value is wrong.</exception>
    public static T Load<T>(string? path, IEnumerable<string>? overrides = null) where T : class =>
        path is null
            ? Parse<T>("", "(defaults)", overrides)
            : Parse<T>(ReadText(path), path, overrides, Path.GetDirectoryName(Path.GetFullPath(path)));

    /// <summary>
    /// Reads a config a run recorded (<c>RUN/config.yaml</c>) exactly as written: its paths were resolved when the run
    /// was started, and relative ones (runs recorded before resolution existed) are relative to the working folder.
    /// </summary>
    /// <exception cref="ConfigException">The file is missing or malformed, or a key or value is wrong.</exception>
    public static T LoadRecorded<T>(string path) where T : class => Parse<T>(ReadText(path), path);

    /// <summary>
    /// Binds YAML text; <paramref name="sourceName"/> names it in errors. When <paramref name="relativeTo"/> is given,
    /// relative values of <see cref="ConfigPathAttribute"/> keys in the text are resolved against that folder.
    /// </summary>
    /// <exception cref="ConfigException">The text is malformed, or a key or value is wrong.</exception>
    public static T Parse<T>(string yaml, string sourceName, IEnumerable<string>? overrides = null, string? relativeTo = null) where T : class
    {
        var ctx = new BindContext(sourceName, relativeTo);
        var root = ParseDocument(yaml, sourceName) ?? new YamlMappingNode();
        if (root is not YamlMappingNode map)
            throw new ConfigException($"{ctx.Where(root)}: the config must be a mapping of sections (key: value), found a {Kind(root)}");
        foreach (string o in overrides ?? []) ApplyOverride(map, o, ctx);
        return (T)BindValue(typeof(T), map, null, "", ctx)!;
    }

    /// <summary>The record as YAML (block style, strings single-quoted, floats always with a '.' or exponent).</summary>
    public static string ToYaml(object config)
    {
        var doc = new YamlDocument(ToNode(config));
        var sb = new StringBuilder();
        using (var w = new StringWriter(sb, CultureInfo.InvariantCulture)) new YamlStream(doc).Save(w, assignAnchors: false);
        // YamlStream ends every document with "...": not needed for a single-document file.
        string text = sb.ToString().TrimEnd();
        if (text.EndsWith("...", StringComparison.Ordinal)) text = text[..^3].TrimEnd();
        return text + "\n";
    }

    /// <summary>Writes <see cref="ToYaml"/> to <paramref name="path"/> atomically (temp file, flush, rename).</summary>
    public static void Save(object config, string path)
    {
        byte[] bytes = new UTF8Encoding(false).GetBytes(ToYaml(config));
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The key a property is read from: its YAML alias or its snake_case name.</summary>
    public static string KeyOf(PropertyInfo property) =>
        property.GetCustomAttribute<YamlMemberAttribute>()?.Alias ?? SnakeCase(property.Name);

    /// <summary><c>BatchSize</c> → <c>batch_size</c>, <c>T0</c> → <c>t_0</c>.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (i > 0)
            {
                char prev = name[i - 1];
                bool boundary = (char.IsUpper(c) && (char.IsLower(prev) || char.IsDigit(prev)))
                    || (char.IsDigit(c) && char.IsLetter(prev))
                    || (char.IsUpper(c) && char.IsUpper(prev) && i + 1 < name.Length && char.IsLower(name[i + 1]));
                if (boundary) sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read the config file: {e.Message}", e);
        }
    }

    private sealed class BindContext(string source, string? relativeTo)
    {
        public string Source { get; } = source;

        /// <summary>The folder relative path values of the file resolve against; null keeps them as written.</summary>
        public string? RelativeTo { get; } = relativeTo;

        /// <summary>Nodes created by an override, mapped to that override's text.</summary>
        public Dictionary<YamlNode, string> OverrideOf { get; } = new(ReferenceEqualityComparer.Instance);

        /// <summary>
        /// Mappings an override path created on its way (absent from the file): bound into a
        /// dictionary they change single entries of the default instead of replacing it.
        /// </summary>
        public HashSet<YamlNode> PathNodes { get; } = new(ReferenceEqualityComparer.Instance);

        public string Where(YamlNode node) =>
            OverrideOf.TryGetValue(node, out var o) ? $"--set {o}" : $"{Source}:{node.Start.Line}:{node.Start.Column}";
    }

    private static YamlNode? ParseDocument(string yaml, string sourceName)
    {
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(yaml));
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{sourceName}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {Innermost(e).Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet fails this way (without a position) on some unterminated flow collections and scalars (an
            // unclosed "[1" followed by another key) and on NUL characters; the scanner's position is where it stopped.
            var at = scanner.CurrentPosition;
            throw new ConfigException(
                $"{sourceName}:{at.Line}:{at.Column}: not valid YAML: the text before this point is malformed (an unclosed '[', '{{' or quote, or a control character?)", e);
        }
        if (stream.Documents.Count > 1)
            throw new ConfigException($"{sourceName}: expected one YAML document, found {stream.Documents.Count}");
        if (stream.Documents.Count == 0) return null;
        var root = stream.Documents[0].RootNode;
        return IsNull(root) ? null : root;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static void ApplyOverride(YamlMappingNode root, string assignment, BindContext ctx)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0)
            throw new ConfigException($"--set {assignment}: expected KEY.PATH=VALUE, for example trainer.batch_size=64");
        string path = assignment[..eq].Trim();
        string valueText = assignment[(eq + 1)..];
        string[] parts = path.Split('.');
        if (parts.Any(p => p.Trim().Length == 0))
            throw new ConfigException($"--set {assignment}: the key path '{path}' has an empty part");
        if (valueText.Trim().Length == 0)
            throw new ConfigException($"--set {assignment}: no value after '='");

        YamlNode value;
        try
        {
            var s = new YamlStream();
            s.Load(new StringReader(valueText));
            value = s.Documents.Count == 1 ? s.Documents[0].RootNode : new YamlScalarNode(valueText);
        }
        catch (YamlException e)
        {
            throw new ConfigException($"--set {assignment}: the value is not valid YAML: {Innermost(e).Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            throw new ConfigException($"--set {assignment}: the value is not valid YAML (an unclosed '[', '{{' or quote?)", e);
        }
        foreach (var n in value.AllNodes) ctx.OverrideOf[n] = assignment;

        var map = root;
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i].Trim();
            var key = map.Children.Keys.FirstOrDefault(k => k is YamlScalarNode s && s.Value == part);
            if (i == parts.Length - 1)
            {
                if (key is not null) map.Children.Remove(key);
                var newKey = new YamlScalarNode(part);
                ctx.OverrideOf[newKey] = assignment;
                map.Children.Add(newKey, value);
                return;
            }
            if (key is null)
            {
                var newKey = new YamlScalarNode(part);
                var child = new YamlMappingNode();
                ctx.OverrideOf[newKey] = assignment;
                ctx.OverrideOf[child] = assignment;
                ctx.PathNodes.Add(child);
                map.Children.Add(newKey, child);
                map = child;
            }
            else if (map.Children[key] is YamlMappingNode existing)
            {
                map = existing;
            }
            else if (IsNull(map.Children[key]))
            {
                var child = new YamlMappingNode();
                ctx.OverrideOf[child] = assignment;
                ctx.PathNodes.Add(child);
                map.Children[key] = child;
                map = child;
            }
            else
            {
                throw new ConfigException($"--set {assignment}: '{string.Join('.', parts[..(i + 1)])}' is a value, not a section");
            }
        }
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s
        && (s.Value is null || s.Value.Length == 0 || s.Value is "~" or "null" or "Null" or "NULL");

    private static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "single value",
    };

    private static string Dotted(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static string Show(string path) => path.Length == 0 ? "the top level" : $"'{path}'";

    private static object? BindValue(Type type, YamlNode node, object? existing, string path, BindContext ctx)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (IsNull(node))
        {
            if (underlying is not null) return null;
            if (type == typeof(string)) return "";
            // An empty section ("trainer:" with every key commented out) keeps its defaults.
            if (!type.IsValueType && existing is not null) return existing;
            throw new ConfigException($"{ctx.Where(node)}: {Show(path)} needs {Describe(type)}, found an empty value");
        }
        type = underlying ?? type;

        if (type == typeof(string) || type.IsPrimitive || type.IsEnum || type == typeof(decimal))
        {
            if (node is not YamlScalarNode scalar)
                throw new ConfigException($"{ctx.Where(node)}: {Show(path)} needs {Describe(type)}, found a {Kind(node)}");
            return ParseScalar(type, scalar, path, ctx);
        }

        if (DictionaryValueType(type) is Type valueType)
        {
            if (node is not YamlMappingNode map)
                throw new ConfigException($"{ctx.Where(node)}: {Show(path)} needs a mapping (name: value), found a {Kind(node)}");
            var dict = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType))!;
            bool merge = ctx.PathNodes.Contains(map) && existing is IDictionary;
            if (merge)
                foreach (DictionaryEntry entry in (IDictionary)existing!) dict[entry.Key] = entry.Value;
            var given = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                string key = KeyText(k, path, ctx);
                if (!given.Add(key))
                    throw new ConfigException($"{ctx.Where(k)}: duplicate key '{Dotted(path, key)}'");
                dict[key] = BindValue(valueType, v, merge ? dict[key] : null, Dotted(path, key), ctx);
            }
            return dict;
        }

        if (ListElementType(type) is Type elementType)
        {
            if (node is not YamlSequenceNode seq)
                throw new ConfigException($"{ctx.Where(node)}: {Show(path)} needs a list, found a {Kind(node)}");
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType))!;
            int i = 0;
            foreach (var item in seq.Children) list.Add(BindValue(elementType, item, null, $"{path}[{i++}]", ctx));
            if (!type.IsArray) return list;
            var array = Array.CreateInstance(elementType, list.Count);
            list.CopyTo(array, 0);
            return array;
        }

        if (node is not YamlMappingNode section)
            throw new ConfigException($"{ctx.Where(node)}: {Show(path)} is a section and needs a mapping (key: value), found a {Kind(node)}");
        object instance = existing is not null ? CloneRecord(existing) : Create(type, path);
        var props = Properties(type);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (k, v) in section.Children)
        {
            string key = KeyText(k, path, ctx);
            if (!seen.Add(key))
                throw new ConfigException($"{ctx.Where(k)}: duplicate key '{Dotted(path, key)}'");
            if (!props.TryGetValue(key, out var prop))
                throw new ConfigException(
                    $"{ctx.Where(k)}: unknown key '{Dotted(path, key)}' in {Show(path)} (known keys: {string.Join(", ", props.Keys)})");
            object? value = BindValue(prop.PropertyType, v, prop.GetValue(instance), Dotted(path, key), ctx);
            if (value is string text && prop.GetCustomAttribute<ConfigPathAttribute>() is { } pathKey && !ctx.OverrideOf.ContainsKey(v))
                value = ResolvePath(text, pathKey, ctx.RelativeTo);
            prop.SetValue(instance, value);
        }
        return instance;
    }

    /// <summary>A relative path of the file, resolved against the file's folder (see <see cref="ConfigPathAttribute"/>).</summary>
    private static string ResolvePath(string value, ConfigPathAttribute key, string? relativeTo)
    {
        if (relativeTo is null || value.Length == 0 || Path.IsPathRooted(value)) return value;
        string resolved = Path.GetFullPath(Path.Combine(relativeTo, value));
        if (key.MayBeName && !File.Exists(resolved) && !Directory.Exists(resolved)) return value;
        return resolved;
    }

    private static string KeyText(YamlNode key, string path, BindContext ctx) =>
        key is YamlScalarNode { Value: { Length: > 0 } text }
            ? text
            : throw new ConfigException($"{ctx.Where(key)}: keys in {Show(path)} must be plain names");

    private static object ParseScalar(Type type, YamlScalarNode scalar, string path, BindContext ctx)
    {
        string text = scalar.Value ?? "";
        var inv = CultureInfo.InvariantCulture;
        object? result = null;
        if (type == typeof(string)) return text;
        string t = text.Trim();
        if (type == typeof(bool))
            result = t.ToLowerInvariant() switch { "true" or "yes" or "on" => true, "false" or "no" or "off" => false, _ => null };
        else if (type == typeof(int) && int.TryParse(t, NumberStyles.Integer, inv, out int i)) result = i;
        else if (type == typeof(long) && long.TryParse(t, NumberStyles.Integer, inv, out long l)) result = l;
        else if (type == typeof(double) && TryParseFloat(t, out double d)) result = d;
        else if (type == typeof(float) && TryParseFloat(t, out double f)) result = (float)f;
        else if (type.IsEnum)
            result = Enum.GetValues(type).Cast<object>().FirstOrDefault(v =>
                string.Equals(SnakeCase(v.ToString()!), t, StringComparison.OrdinalIgnoreCase)
                || string.Equals(v.ToString(), t, StringComparison.OrdinalIgnoreCase));
        return result ?? throw new ConfigException($"{ctx.Where(scalar)}: {Show(path)} needs {Describe(type)}, found '{text}'");
    }

    private static bool TryParseFloat(string t, out double value)
    {
        string lower = t.ToLowerInvariant();
        switch (lower)
        {
            case ".inf" or "+.inf": value = double.PositiveInfinity; return true;
            case "-.inf": value = double.NegativeInfinity; return true;
            case ".nan": value = double.NaN; return true;
        }
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(int) || type == typeof(long)) return "an integer";
        if (type == typeof(double) || type == typeof(float)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "a string";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type).Select(SnakeCase));
        return $"a {type.Name}";
    }

    private static Type? DictionaryValueType(Type type)
    {
        if (!type.IsGenericType) return null;
        var def = type.GetGenericTypeDefinition();
        if (def != typeof(Dictionary<,>) && def != typeof(IDictionary<,>) && def != typeof(IReadOnlyDictionary<,>)) return null;
        var args = type.GetGenericArguments();
        return args[0] == typeof(string) ? args[1] : null;
    }

    private static Type? ListElementType(Type type)
    {
        if (type.IsArray) return type.GetElementType();
        if (!type.IsGenericType) return null;
        var def = type.GetGenericTypeDefinition();
        return def == typeof(List<>) || def == typeof(IList<>) || def == typeof(IReadOnlyList<>) || def == typeof(IEnumerable<>)
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static Dictionary<string, PropertyInfo> Properties(Type type)
    {
        var result = new Dictionary<string, PropertyInfo>(StringComparer.Ordinal);
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.SetMethod is null || p.GetCustomAttribute<YamlIgnoreAttribute>() is not null) continue;
            if (p.Name == "EqualityContract") continue;
            result[KeyOf(p)] = p;
        }
        return result;
    }

    private static object Create(Type type, string path)
    {
        if (type.GetConstructor(Type.EmptyTypes) is not null) return Activator.CreateInstance(type)!;
        // Positional records: the primary constructor with every parameter defaulted.
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault(c => c.GetParameters().All(p => p.HasDefaultValue));
        if (ctor is null)
            throw new ConfigException($"{Show(path)}: the config type {type.Name} has no constructor usable with defaults");
        return ctor.Invoke(ctor.GetParameters().Select(p => p.DefaultValue).ToArray());
    }

    private static object CloneRecord(object value)
    {
        // Records expose their copy constructor as "<Clone>$"; cloning keeps defaults set by the parent.
        var clone = value.GetType().GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance);
        return clone is not null ? clone.Invoke(value, null)! : Create(value.GetType(), "");
    }

    private static YamlNode ToNode(object? value)
    {
        if (value is null) return new YamlScalarNode("null") { Style = ScalarStyle.Plain };
        var type = value.GetType();
        var inv = CultureInfo.InvariantCulture;
        switch (value)
        {
            case string s: return new YamlScalarNode(s) { Style = ScalarStyle.SingleQuoted };
            case bool b: return new YamlScalarNode(b ? "true" : "false") { Style = ScalarStyle.Plain };
            case double d: return new YamlScalarNode(FormatFloat(d)) { Style = ScalarStyle.Plain };
            case float f: return new YamlScalarNode(FormatFloat(f)) { Style = ScalarStyle.Plain };
            case Enum e: return new YamlScalarNode(SnakeCase(e.ToString())) { Style = ScalarStyle.Plain };
            case IFormattable n when type.IsPrimitive: return new YamlScalarNode(n.ToString(null, inv)) { Style = ScalarStyle.Plain };
        }
        if (value is IDictionary dict)
        {
            var map = new YamlMappingNode();
            foreach (DictionaryEntry entry in dict)
                map.Add(new YamlScalarNode((string)entry.Key), ToNode(entry.Value));
            return map;
        }
        if (value is IEnumerable items)
        {
            var seq = new YamlSequenceNode();
            foreach (var item in items) seq.Add(ToNode(item));
            if (seq.Children.All(c => c is YamlScalarNode)) seq.Style = YamlDotNet.Core.Events.SequenceStyle.Flow;
            return seq;
        }
        var section = new YamlMappingNode();
        foreach (var (key, prop) in Properties(type))
            section.Add(new YamlScalarNode(key), ToNode(prop.GetValue(value)));
        return section;
    }

    /// <summary>Round-trip text that YAML 1.1 readers (PyYAML) also read as a float: <c>1.0e-08</c>, <c>0.001</c>, <c>5.0</c>.</summary>
    private static string FormatFloat(double d)
    {
        if (double.IsPositiveInfinity(d)) return ".inf";
        if (double.IsNegativeInfinity(d)) return "-.inf";
        if (double.IsNaN(d)) return ".nan";
        string s = d.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant();
        int e = s.IndexOf('e');
        string mantissa = e < 0 ? s : s[..e];
        if (!mantissa.Contains('.')) mantissa += ".0";
        return e < 0 ? mantissa : mantissa + s[e..];
    }
}
