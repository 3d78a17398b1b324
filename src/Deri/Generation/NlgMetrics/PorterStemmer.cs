namespace Deri.Generation.NlgMetrics;

/// <summary>Which variant of the Porter stemmer to run, as NLTK 3.8's <c>PorterStemmer(mode)</c> names them.</summary>
public enum PorterMode
{
    /// <summary>NLTK's default (<c>NLTK_EXTENSIONS</c>): irregular-form pool, short words kept, NLTK's rule changes.</summary>
    NltkExtensions,

    /// <summary>Martin Porter's 1980 algorithm as published (<c>ORIGINAL_ALGORITHM</c>).</summary>
    OriginalAlgorithm,
}

/// <summary>
/// Port of NLTK 3.8's <c>nltk.stem.porter.PorterStemmer</c> (modes <c>NLTK_EXTENSIONS</c> and <c>ORIGINAL_ALGORITHM</c>),
/// rule for rule, so stems equal NLTK's (checked against a fixture made with NLTK).
/// </summary>
public sealed class PorterStemmer
{
    private static readonly Dictionary<string, string> Pool = BuildPool();
    private readonly PorterMode _mode;

    /// <summary>Creates a stemmer in the given mode.</summary>
    public PorterStemmer(PorterMode mode = PorterMode.NltkExtensions) => _mode = mode;

    /// <summary>The mode this stemmer runs.</summary>
    public PorterMode Mode => _mode;

    private delegate bool Condition(string stem);

    private readonly record struct Rule(string Suffix, string Replacement, Condition? Cond);

    private static Dictionary<string, string> BuildPool()
    {
        var forms = new (string Key, string[] Vals)[]
        {
            ("sky", ["sky", "skies"]), ("die", ["dying"]), ("lie", ["lying"]), ("tie", ["tying"]), ("news", ["news"]),
            ("inning", ["innings", "inning"]), ("outing", ["outings", "outing"]), ("canning", ["cannings", "canning"]),
            ("howe", ["howe"]), ("proceed", ["proceed"]), ("exceed", ["exceed"]), ("succeed", ["succeed"]),
        };
        var pool = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, vals) in forms)
            foreach (string v in vals) pool[v] = key;
        return pool;
    }

    /// <summary>Stems one word (lower-cased first, like NLTK's default <c>to_lowercase=True</c>).</summary>
    public string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        string stem = word.ToLowerInvariant();
        // NLTK looks the *original* word up in the pool but returns the lower-cased entry, and tests the original's length.
        if (_mode == PorterMode.NltkExtensions && Pool.ContainsKey(word)) return Pool[stem];
        if (_mode != PorterMode.OriginalAlgorithm && word.Length <= 2) return stem;
        stem = Step1a(stem);
        stem = Step1b(stem);
        stem = Step1c(stem);
        stem = Step2(stem);
        stem = Step3(stem);
        stem = Step4(stem);
        stem = Step5a(stem);
        stem = Step5b(stem);
        return stem;
    }

    private static bool IsVowelLetter(char c) => c is 'a' or 'e' or 'i' or 'o' or 'u';

    private static bool IsConsonant(string word, int i)
    {
        char c = word[i];
        if (IsVowelLetter(c)) return false;
        if (c == 'y') return i == 0 || !IsConsonant(word, i - 1);
        return true;
    }

    private static int Measure(string stem)
    {
        int count = 0;
        bool prevVowel = false;
        for (int i = 0; i < stem.Length; i++)
        {
            bool cons = IsConsonant(stem, i);
            if (cons && prevVowel) count++;
            prevVowel = !cons;
        }
        return count;
    }

    private static bool HasPositiveMeasure(string stem) => Measure(stem) > 0;

    private static bool ContainsVowel(string stem)
    {
        for (int i = 0; i < stem.Length; i++)
            if (!IsConsonant(stem, i)) return true;
        return false;
    }

    private static bool EndsDoubleConsonant(string word) =>
        word.Length >= 2 && word[^1] == word[^2] && IsConsonant(word, word.Length - 1);

    private bool EndsCvc(string word) =>
        (word.Length >= 3 && IsConsonant(word, word.Length - 3) && !IsConsonant(word, word.Length - 2)
         && IsConsonant(word, word.Length - 1) && word[^1] is not ('w' or 'x' or 'y'))
        || (_mode == PorterMode.NltkExtensions && word.Length == 2 && !IsConsonant(word, 0) && IsConsonant(word, 1));

    private static string ReplaceSuffix(string word, string suffix, string replacement) =>
        word[..(word.Length - suffix.Length)] + replacement;

    private static string ApplyRuleList(string word, IReadOnlyList<Rule> rules)
    {
        foreach (var rule in rules)
        {
            if (rule.Suffix == "*d" && EndsDoubleConsonant(word))
            {
                string s = word[..^2];
                return rule.Cond is null || rule.Cond(s) ? s + rule.Replacement : word;
            }
            if (word.EndsWith(rule.Suffix, StringComparison.Ordinal))
            {
                string s = ReplaceSuffix(word, rule.Suffix, "");
                return rule.Cond is null || rule.Cond(s) ? s + rule.Replacement : word;
            }
        }
        return word;
    }

    private static readonly Rule[] Step1aRules = [new("sses", "ss", null), new("ies", "i", null), new("ss", "ss", null), new("s", "", null)];

    private string Step1a(string word)
    {
        if (_mode == PorterMode.NltkExtensions && word.EndsWith("ies", StringComparison.Ordinal) && word.Length == 4)
            return ReplaceSuffix(word, "ies", "ie");
        return ApplyRuleList(word, Step1aRules);
    }

    private string Step1b(string word)
    {
        if (_mode == PorterMode.NltkExtensions && word.EndsWith("ied", StringComparison.Ordinal))
            return ReplaceSuffix(word, "ied", word.Length == 4 ? "ie" : "i");
        if (word.EndsWith("eed", StringComparison.Ordinal))
        {
            string s = ReplaceSuffix(word, "eed", "");
            return Measure(s) > 0 ? s + "ee" : word;
        }
        string? intermediate = null;
        foreach (string suffix in new[] { "ed", "ing" })
        {
            if (word.EndsWith(suffix, StringComparison.Ordinal))
            {
                string s = ReplaceSuffix(word, suffix, "");
                if (ContainsVowel(s)) { intermediate = s; break; }
            }
        }
        if (intermediate is null) return word;
        string stem = intermediate;
        // NLTK evaluates intermediate_stem[-1] while building the rule list, so an empty stem raises there; a stem
        // with a vowel is never empty, so the guard only mirrors that the list is built from a non-empty stem.
        char last = stem[^1];
        return ApplyRuleList(stem,
        [
            new("at", "ate", null), new("bl", "ble", null), new("iz", "ize", null),
            new("*d", last.ToString(), _ => last is not ('l' or 's' or 'z')),
            new("", "e", s => Measure(s) == 1 && EndsCvc(s)),
        ]);
    }

    private string Step1c(string word)
    {
        Condition cond = _mode == PorterMode.NltkExtensions
            ? s => s.Length > 1 && IsConsonant(s, s.Length - 1)
            : ContainsVowel;
        return ApplyRuleList(word, [new("y", "i", cond)]);
    }

    private string Step2(string word)
    {
        if (_mode == PorterMode.NltkExtensions && word.EndsWith("alli", StringComparison.Ordinal)
            && HasPositiveMeasure(ReplaceSuffix(word, "alli", "")))
            return Step2(ReplaceSuffix(word, "alli", "al"));
        var rules = new List<Rule>
        {
            new("ational", "ate", HasPositiveMeasure), new("tional", "tion", HasPositiveMeasure),
            new("enci", "ence", HasPositiveMeasure), new("anci", "ance", HasPositiveMeasure),
            new("izer", "ize", HasPositiveMeasure),
            _mode == PorterMode.OriginalAlgorithm ? new("abli", "able", HasPositiveMeasure) : new("bli", "ble", HasPositiveMeasure),
            new("alli", "al", HasPositiveMeasure), new("entli", "ent", HasPositiveMeasure),
            new("eli", "e", HasPositiveMeasure), new("ousli", "ous", HasPositiveMeasure),
            new("ization", "ize", HasPositiveMeasure), new("ation", "ate", HasPositiveMeasure),
            new("ator", "ate", HasPositiveMeasure), new("alism", "al", HasPositiveMeasure),
            new("iveness", "ive", HasPositiveMeasure), new("fulness", "ful", HasPositiveMeasure),
            new("ousness", "ous", HasPositiveMeasure), new("aliti", "al", HasPositiveMeasure),
            new("iviti", "ive", HasPositiveMeasure), new("biliti", "ble", HasPositiveMeasure),
        };
        if (_mode == PorterMode.NltkExtensions)
        {
            rules.Add(new("fulli", "ful", HasPositiveMeasure));
            // NLTK tests the measure of the word minus "ogi"'s last three letters, i.e. the stem plus "l".
            rules.Add(new("logi", "log", _ => HasPositiveMeasure(word[..^3])));
        }
        return ApplyRuleList(word, rules);
    }

    private static readonly Rule[] Step3Rules =
    [
        new("icate", "ic", HasPositiveMeasure), new("ative", "", HasPositiveMeasure), new("alize", "al", HasPositiveMeasure),
        new("iciti", "ic", HasPositiveMeasure), new("ical", "ic", HasPositiveMeasure), new("ful", "", HasPositiveMeasure),
        new("ness", "", HasPositiveMeasure),
    ];

    private static string Step3(string word) => ApplyRuleList(word, Step3Rules);

    private static bool MeasureGt1(string s) => Measure(s) > 1;

    private static readonly Rule[] Step4Rules =
    [
        new("al", "", MeasureGt1), new("ance", "", MeasureGt1), new("ence", "", MeasureGt1), new("er", "", MeasureGt1),
        new("ic", "", MeasureGt1), new("able", "", MeasureGt1), new("ible", "", MeasureGt1), new("ant", "", MeasureGt1),
        new("ement", "", MeasureGt1), new("ment", "", MeasureGt1), new("ent", "", MeasureGt1),
        new("ion", "", s => Measure(s) > 1 && s[^1] is 's' or 't'),
        new("ou", "", MeasureGt1), new("ism", "", MeasureGt1), new("ate", "", MeasureGt1), new("iti", "", MeasureGt1),
        new("ous", "", MeasureGt1), new("ive", "", MeasureGt1), new("ize", "", MeasureGt1),
    ];

    private static string Step4(string word) => ApplyRuleList(word, Step4Rules);

    private string Step5a(string word)
    {
        if (word.EndsWith('e'))
        {
            string s = word[..^1];
            if (Measure(s) > 1) return s;
            if (Measure(s) == 1 && !EndsCvc(s)) return s;
        }
        return word;
    }

    private static string Step5b(string word) => ApplyRuleList(word, [new("ll", "l", _ => Measure(word[..^1]) > 1)]);
}
