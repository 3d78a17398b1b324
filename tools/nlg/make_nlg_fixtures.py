#!/usr/bin/python3
"""Makes the NLG-metric fixtures of tests/Deri.Tests/Generation with Debian's python3 (nltk 3.8).

Run from the repository root:  /usr/bin/python3 tools/nlg/make_nlg_fixtures.py [path/to/ptbxl_reports.csv]

* BLEU: nltk.translate.bleu_score.sentence_bleu itself, one reference, whitespace tokens (str.split()),
  SmoothingFunction().method1, weights (1,), (.5,.5), (.33,.33,.33), (.25,.25,.25,.25) -- BLEU-3's weights as the
  authors' release and METHOD.md write them (they sum to 0.99, so BLEU-3 is (p1 p2 p3)^0.33, not the geometric mean).
* ROUGE-L: rouge-score is not installed, so rouge_l() below mirrors Google's rouge-score code line for line:
  rouge/tokenize.py (tokenize), rouge/tokenizers.py (DefaultTokenizer(use_stemmer=True) builds
  nltk.stem.porter.PorterStemmer() -- NLTK's default NLTK_EXTENSIONS mode), rouge/rouge_scorer.py
  (_score_lcs, _lcs_table) and rouge/scoring.py (fmeasure). A variant with PorterStemmer('ORIGINAL_ALGORITHM')
  is recorded too (rouge_l_original).
* Porter stemmer: NLTK's PorterStemmer in both modes on a word list (classic examples + PTB-XL report words).

Outputs (JSON, floats written with repr so they round-trip exactly):
  tests/Deri.Tests/Fixtures/nlg/porter_words.json   [{"word", "nltk", "original"}]
  tests/Deri.Tests/Fixtures/nlg/report_pairs.json   {"pairs": [{"ref", "hyp", "bleu": [4], "rouge_l", "rouge_l_original"}],
                                                     "real_mean": {...}}
"""
import csv
import json
import random
import re
import sys
import warnings

import nltk
from nltk.stem import porter
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

assert nltk.__version__ == "3.8", nltk.__version__
warnings.simplefilter("ignore")

OUT = "tests/Deri.Tests/Fixtures/nlg"
CSV = sys.argv[1] if len(sys.argv) > 1 else "../../shared/data/ptbxl-reports/ptbxl_reports.csv"
WEIGHTS = [(1,), (0.5, 0.5), (0.33, 0.33, 0.33), (0.25, 0.25, 0.25, 0.25)]

# --- rouge-score, mirrored ---------------------------------------------------------------------------------
NON_ALPHANUM_RE = re.compile(r"[^a-z0-9]+")
SPACES_RE = re.compile(r"\s+")
VALID_TOKEN_RE = re.compile(r"^[a-z0-9]+$")


def tokenize(text, stemmer):  # rouge/tokenize.py
    text = text.lower()
    text = NON_ALPHANUM_RE.sub(" ", text)
    tokens = SPACES_RE.split(text)
    if stemmer:
        tokens = [stemmer.stem(x) if len(x) > 3 else x for x in tokens]
    tokens = [x for x in tokens if VALID_TOKEN_RE.match(x)]
    return tokens


def _lcs_table(ref, can):  # rouge/rouge_scorer.py
    rows = len(ref)
    cols = len(can)
    lcs_table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if ref[i - 1] == can[j - 1]:
                lcs_table[i][j] = lcs_table[i - 1][j - 1] + 1
            else:
                lcs_table[i][j] = max(lcs_table[i - 1][j], lcs_table[i][j - 1])
    return lcs_table


def fmeasure(precision, recall):  # rouge/scoring.py
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _score_lcs(target_tokens, prediction_tokens):  # rouge/rouge_scorer.py, returns fmeasure
    if not target_tokens or not prediction_tokens:
        return 0.0
    lcs_length = _lcs_table(target_tokens, prediction_tokens)[-1][-1]
    precision = lcs_length / len(prediction_tokens)
    recall = lcs_length / len(target_tokens)
    return fmeasure(precision, recall)


STEM_NLTK = porter.PorterStemmer()  # what rouge-score's DefaultTokenizer(use_stemmer=True) builds
STEM_ORIG = porter.PorterStemmer("ORIGINAL_ALGORITHM")


def rouge_l(target, prediction, stemmer=STEM_NLTK):  # RougeScorer(['rougeL'], use_stemmer=True).score(target, prediction)
    return _score_lcs(tokenize(target, stemmer), tokenize(prediction, stemmer))


def bleu(ref, hyp):
    sm = SmoothingFunction().method1
    return [float(sentence_bleu([ref.split()], hyp.split(), weights=w, smoothing_function=sm)) for w in WEIGHTS]


def pair(ref, hyp):
    return {"ref": ref, "hyp": hyp, "bleu": bleu(ref, hyp), "rouge_l": rouge_l(ref, hyp),
            "rouge_l_original": rouge_l(ref, hyp, STEM_ORIG)}


def main():
    reports = [r["report"] for r in csv.DictReader(open(CSV, encoding="utf-8"))]
    rng = random.Random(7)

    special = [
        ("", ""), ("sinus rhythm", ""), ("", "sinus rhythm"), ("sinus", "sinus"), ("sinus", "rhythm"),
        ("sinus rhythm. normal ecg.", "sinus rhythm. normal ecg."), ("sinus rhythm normal ecg", "atrial fibrillation"),
        ("a b c d e", "a b"), ("a b", "a b c d e"), ("a b c", "a b c"), ("the the the the", "the the the the the the the"),
        ("the cat is on the mat", "the the the the the the the"), ("a b c d", "d c b a"), ("x y", "y x"),
        ("left bundle branch block", "left  bundle\tbranch\nblock"), ("Sinus Rhythm", "sinus rhythm"),
        ("ST-Senkung in V5,V6.", "st senkung in v5 v6"), ("İnfarkt \u212aammer", "infarkt kammer"),
        ("sinusrhythmus\u00a0linkstyp", "sinusrhythmus linkstyp\u2003qrs"), ("a\u001cb c", "a b c"),
        ("abnormal abnormality abnormalities", "abnormally abnormal"), ("ischaemia ischaemic", "ischemic ischemia"),
        ("probable old inferior infarction", "possible inferior infarct, age undetermined"),
        ("1 2 3 4 5 6 7 8 9 10", "1 2 3 4 5 6 7 8 9 10 11 12"), ("... ,,, ;;;", "... ,,,"),
        ("sky skies dying lying news innings", "sky skies die lie news inning"),
    ]
    pairs = [pair(r, h) for r, h in special]
    real = []
    while len(real) < 200:
        a, b = rng.sample(range(len(reports)), 2)
        if reports[a] != reports[b]:
            real.append(pair(reports[a], reports[b]))
    n = len(real)
    mean = {f"bleu_{k + 1}": sum(p["bleu"][k] for p in real) / n for k in range(4)}
    mean["rouge_l"] = sum(p["rouge_l"] for p in real) / n
    mean["n"] = n
    with open(f"{OUT}/report_pairs.json", "w", encoding="utf-8") as f:
        json.dump({"weights": WEIGHTS, "special": pairs, "real": real, "real_mean": mean}, f, ensure_ascii=False, indent=0)
    with open(f"{OUT}/real_refs.txt", "w", encoding="utf-8") as f:
        f.writelines(p["ref"] + "\n" for p in real)
    with open(f"{OUT}/real_hyps.txt", "w", encoding="utf-8") as f:
        f.writelines(p["hyp"] + "\n" for p in real)

    classic = ("caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized hopping "
               "tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci hesitanci "
               "digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism "
               "decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize "
               "electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible "
               "irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous "
               "effective bowdlerize probate rate cease controll roll generalizations oscillators dies died dying lying tying "
               "news innings outings cannings howe proceed exceed succeed spied tried flies enjoy enjoyment analogy "
               "archaeology skies cried lies ties happily fully hopefully y yy by ay ies eed ing ed sses is as us ous "
               "syzygy toy trouble oats trees ivy troubles private oaten orrery").split()
    words = set(classic)
    for r in reports:
        words.update(t for t in NON_ALPHANUM_RE.sub(" ", r.lower()).split())
    report_words = sorted(w for w in words if w not in classic and len(w) > 3 and not w.isdigit())
    picked = classic + rng.sample(report_words, 300)
    with open(f"{OUT}/porter_words.json", "w", encoding="utf-8") as f:
        json.dump([{"word": w, "nltk": STEM_NLTK.stem(w), "original": STEM_ORIG.stem(w)} for w in picked], f, indent=0)
    print(f"{len(pairs)} special + {n} real pairs, {len(picked)} words; real mean {mean}")


if __name__ == "__main__":
    main()
