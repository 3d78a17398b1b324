using System.Text.RegularExpressions;

namespace Deri.Tests.Architecture;

/// <summary>
/// The library's top-level folders (src/Deri/X, namespace Deri.X) depend on each other in one direction only
/// (docs/ARCHITECTURE.md). These tests read the source: a folder depends on another when one of its files
/// has <c>using Deri.Other…</c>, names <c>Deri.Other.…</c>, or names a type declared in Other through the
/// namespace-relative <c>Other.Type</c>.
/// </summary>
public sealed partial class FolderDependencyTests
{
    private static readonly Lazy<DependencyGraph> Graph = new(() => DependencyGraph.Read(LibraryRoot()));

    [Fact]
    public void NoFolderDependsOnAFolderThatDependsBackOnIt()
    {
        var cycles = Graph.Value.Cycles();
        Assert.True(cycles.Count == 0, "folder dependency cycles:\n" + string.Join("\n", cycles.Select(Graph.Value.Explain)));
    }

    [Fact]
    public void EveryFolderUsesOnlyFoldersAboveItOnTheMap()
    {
        var tiers = MapTiers();
        var tierOf = tiers.SelectMany((folders, i) => folders.Select(f => (f, i))).ToDictionary(x => x.f, x => x.i);
        var onDisk = Directory.GetDirectories(LibraryRoot()).Select(Path.GetFileName).OfType<string>()
            .Where(f => f is not ("bin" or "obj")).ToHashSet();
        var unmapped = onDisk.Where(f => !tierOf.ContainsKey(f)).Order().ToList();
        Assert.True(unmapped.Count == 0, "folders missing from docs/ARCHITECTURE.md's folder table: " + string.Join(", ", unmapped));
        var stale = tierOf.Keys.Where(f => !onDisk.Contains(f)).Order().ToList();
        Assert.True(stale.Count == 0, "docs/ARCHITECTURE.md lists folders that do not exist: " + string.Join(", ", stale));
        var upward = new List<string>();
        foreach (string from in onDisk.Order())
            foreach (var (to, files) in Graph.Value.EdgesFrom(from))
                if (tierOf[to] > tierOf[from]) upward.Add($"{from} → {to} (the map puts {to} below {from}) in {string.Join(", ", files.Take(3))}");
        Assert.True(upward.Count == 0, "folders using a folder that docs/ARCHITECTURE.md places below them:\n" + string.Join("\n", upward));
    }

    [Fact]
    public void TheMapIsReadFromTheArchitectureDocument()
    {
        // The order test must see the real table: the ground floor first, serving near the end.
        var tiers = MapTiers();
        Assert.Contains("IO", tiers[0]);
        Assert.True(tiers.FindIndex(t => t.Contains("Signals")) < tiers.FindIndex(t => t.Contains("Serving")));
        Assert.True(tiers.Count >= 15, $"only {tiers.Count} rows read from the folder table");
    }

    /// <summary>The rows of docs/ARCHITECTURE.md's folder table, in order; each row lists the folders (in backticks) of one tier.</summary>
    private static List<List<string>> MapTiers()
    {
        string doc = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(LibraryRoot()))!, "docs", "ARCHITECTURE.md");
        var lines = File.ReadAllLines(doc);
        int start = Array.FindIndex(lines, l => l.StartsWith("## Library folders", StringComparison.Ordinal));
        Assert.True(start >= 0, $"{doc}: no '## Library folders' section");
        var tiers = new List<List<string>>();
        for (int i = start + 1; i < lines.Length && !lines[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            if (!lines[i].StartsWith("| `", StringComparison.Ordinal)) continue;
            string first = lines[i].Split('|')[1];
            tiers.Add(BacktickName().Matches(first).Select(m => m.Groups[1].Value).ToList());
        }
        return tiers;
    }

    [GeneratedRegex(@"`([A-Z]\w*)`")]
    private static partial Regex BacktickName();

    [Fact]
    public void ConfigIsALeafAboveTheGroundFloor()
    {
        var allowed = new HashSet<string> { "IO", "Runtime" };
        var bad = Graph.Value.EdgesFrom("Config").Where(e => !allowed.Contains(e.Key)).ToList();
        Assert.True(bad.Count == 0, "Config depends on " + string.Join("; ", bad.Select(e => $"{e.Key} ({string.Join(", ", e.Value)})")));
    }

    [Fact]
    public void TheReaderSeesKnownEdgesAndCycles()
    {
        // The checker itself must be able to fail: a synthetic tree with a two-folder cycle.
        string root = Directory.CreateTempSubdirectory("deri-deps-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "A"));
            Directory.CreateDirectory(Path.Combine(root, "B"));
            File.WriteAllText(Path.Combine(root, "A", "X.cs"), "using Deri.B;\nnamespace Deri.A;\npublic sealed class X { }\n");
            File.WriteAllText(Path.Combine(root, "B", "Y.cs"), "namespace Deri.B;\npublic sealed class Y { object o = A.X.Make(); }\n");
            var graph = DependencyGraph.Read(root);
            Assert.Contains("B", graph.EdgesFrom("A").Keys);
            Assert.Contains("A", graph.EdgesFrom("B").Keys);
            Assert.Single(graph.Cycles());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string LibraryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Deri.slnx"))) return Path.Combine(dir.FullName, "src", "Deri");
        throw new DirectoryNotFoundException($"no Deri.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>Folder → folder edges, each with the files that create it.</summary>
    private sealed partial class DependencyGraph
    {
        private readonly Dictionary<string, Dictionary<string, SortedSet<string>>> _edges = [];

        public static DependencyGraph Read(string libraryRoot)
        {
            var folders = Directory.GetDirectories(libraryRoot).Select(Path.GetFileName).OfType<string>()
                .Where(f => f is not ("bin" or "obj")).ToHashSet();
            var files = folders.SelectMany(f => Directory.GetFiles(Path.Combine(libraryRoot, f), "*.cs", SearchOption.AllDirectories)
                .Select(path => (Folder: f, Path: path, Text: File.ReadAllText(path)))).ToList();
            var typesOf = folders.ToDictionary(f => f, f => files.Where(x => x.Folder == f)
                .SelectMany(x => TypeDeclaration().Matches(x.Text).Select(m => m.Groups[1].Value)).ToHashSet());
            var graph = new DependencyGraph();
            foreach (var (folder, path, text) in files)
            {
                string code = StringLiteral().Replace(Comment().Replace(text, ""), "\"\"");
                string name = Path.GetRelativePath(libraryRoot, path);
                foreach (Match m in QualifiedReference().Matches(code)) graph.Add(folder, m.Groups[1].Value, name, folders);
                foreach (Match m in RelativeReference().Matches(code))
                {
                    string other = m.Groups[1].Value;
                    if (folders.Contains(other) && typesOf[other].Contains(m.Groups[2].Value)) graph.Add(folder, other, name, folders);
                }
            }
            return graph;
        }

        public IReadOnlyDictionary<string, SortedSet<string>> EdgesFrom(string folder) =>
            _edges.TryGetValue(folder, out var e) ? e : new Dictionary<string, SortedSet<string>>();

        /// <summary>Every strongly connected set of two or more folders (Tarjan), each sorted by name.</summary>
        public List<List<string>> Cycles()
        {
            var nodes = _edges.Keys.Concat(_edges.Values.SelectMany(e => e.Keys)).Distinct().Order().ToList();
            var index = new Dictionary<string, int>();
            var low = new Dictionary<string, int>();
            var stack = new Stack<string>();
            var onStack = new HashSet<string>();
            var result = new List<List<string>>();
            int next = 0;
            void Visit(string v)
            {
                index[v] = low[v] = next++;
                stack.Push(v);
                onStack.Add(v);
                foreach (string w in EdgesFrom(v).Keys)
                {
                    if (!index.ContainsKey(w))
                    {
                        Visit(w);
                        low[v] = Math.Min(low[v], low[w]);
                    }
                    else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
                }
                if (low[v] != index[v]) return;
                var component = new List<string>();
                string x;
                do
                {
                    x = stack.Pop();
                    onStack.Remove(x);
                    component.Add(x);
                } while (x != v);
                if (component.Count > 1) result.Add([.. component.Order()]);
            }
            foreach (string n in nodes)
                if (!index.ContainsKey(n)) Visit(n);
            return result;
        }

        public string Explain(List<string> cycle) =>
            string.Join(", ", cycle) + ": " + string.Join("; ", cycle.SelectMany(a => EdgesFrom(a)
                .Where(e => cycle.Contains(e.Key)).Select(e => $"{a}→{e.Key} in {string.Join(", ", e.Value.Take(3))}")));

        private void Add(string from, string to, string file, HashSet<string> folders)
        {
            if (from == to || !folders.Contains(to)) return;
            if (!_edges.TryGetValue(from, out var targets)) _edges[from] = targets = [];
            if (!targets.TryGetValue(to, out var set)) targets[to] = set = [];
            set.Add(file);
        }

        [GeneratedRegex(@"\bDeri\.([A-Z]\w*)")]
        private static partial Regex QualifiedReference();

        [GeneratedRegex(@"(?<![\w.])([A-Z]\w*)\.([A-Z]\w*)")]
        private static partial Regex RelativeReference();

        [GeneratedRegex(@"\b(?:class|record|struct|interface|enum)\s+([A-Z]\w*)")]
        private static partial Regex TypeDeclaration();

        [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
        private static partial Regex Comment();

        // A type named inside a message ("build it with Baselines.X") is not a dependency.
        [GeneratedRegex(@"""(?:\\.|[^""\\\n])*""")]
        private static partial Regex StringLiteral();
    }
}
