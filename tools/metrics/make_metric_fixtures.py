#!/usr/bin/python3
"""Reference vectors for Deri.Evaluation, computed with scikit-learn 1.2 exactly as the DERI/MERL release does.

Run with Debian's interpreter (it has scikit-learn 1.2):  /usr/bin/python3 tools/metrics/make_metric_fixtures.py

Per class the release (utils/zeroshot_val.py, finetune/main_single.py) computes
    auc = roc_auc_score(y, s)
    precision, recall, thresholds = precision_recall_curve(y, s)
    f1 = 2 * recall * precision / (recall + precision), 0 where the denominator is 0
    max_f1 = max(f1); threshold = thresholds[argmax(f1)]
    accuracy = accuracy_score(y, s > threshold)      # strictly greater, unlike the curve's s >= threshold
The held-out protocol applies a fixed threshold t with the curve's own rule s >= t (f1_score, accuracy_score).
Outputs (tests/Deri.Tests/Fixtures/metrics/):
    metric_cases.json       one object per case: scores, labels and the expected numbers per class
    cli_scores.csv, cli_labels.csv, cli_expected.json   a small multi-class table for `deri metrics`
    subsets.json            train_test_split(range(n), train_size=ratio/100, random_state=seed) training indices
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import train_test_split

assert sklearn.__version__.startswith("1.2"), sklearn.__version__
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Deri.Tests", "Fixtures", "metrics")


def release_metrics(y, s):
    """The release's per-class numbers; None when the class has a single label value (excluded)."""
    y = np.asarray(y, dtype=np.int64)
    s = np.asarray(s, dtype=np.float64)
    if y.min() == y.max():
        return None
    precision, recall, thresholds = precision_recall_curve(y, s)
    numerator = 2 * recall * precision
    denom = recall + precision
    f1_scores = np.divide(numerator, denom, out=np.zeros_like(denom), where=(denom != 0))
    k = int(np.argmax(f1_scores))
    thr = float(thresholds[k])
    return {
        "auc": float(roc_auc_score(y, s)),
        "max_f1": float(np.max(f1_scores)),
        "threshold": thr,
        "accuracy": float(accuracy_score(y, s > thr)),
    }


def fixed_threshold_metrics(y, s, t):
    pred = np.asarray(s) >= t
    return {
        "threshold": float(t),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "accuracy": float(accuracy_score(y, pred)),
    }


def case(name, scores, labels, fixed=None):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if scores.ndim == 1:
        scores, labels = scores[:, None], labels[:, None]
    classes = []
    for c in range(scores.shape[1]):
        m = release_metrics(labels[:, c], scores[:, c])
        entry = {"excluded": m is None}
        if m is not None:
            entry.update(m)
            t = fixed[c] if fixed is not None else m["threshold"]
            entry["fixed"] = fixed_threshold_metrics(labels[:, c], scores[:, c], t)
        classes.append(entry)
    return {"name": name, "scores": scores.tolist(), "labels": labels.tolist(), "classes": classes}


def main():
    rng = np.random.RandomState(20250611)
    cases = []
    # Continuous scores, three classes of different prevalence; fixed thresholds away from the optimum.
    n = 200
    y = (rng.rand(n, 3) < [0.1, 0.3, 0.6]).astype(int)
    s = rng.randn(n, 3) + 1.2 * y
    cases.append(case("random", s, y, fixed=[0.0, 0.5, -0.25]))
    # Heavy ties: one decimal.
    n = 150
    y = (rng.rand(n, 2) < 0.4).astype(int)
    s = np.round(rng.rand(n, 2) * 0.6 + 0.4 * y, 1)
    cases.append(case("heavy_ties", s, y, fixed=[0.5, 0.3]))
    # All scores equal.
    cases.append(case("all_equal", np.full(10, 0.5), [0, 1, 0, 0, 1, 0, 1, 0, 0, 0], fixed=[0.5]))
    cases.append(case("all_equal_above", np.full(10, 0.5), [0, 1, 0, 0, 1, 0, 1, 0, 0, 0], fixed=[0.6]))
    # Tiny n.
    cases.append(case("tiny_2", [0.3, 0.7], [0, 1]))
    cases.append(case("tiny_2_inverted", [0.7, 0.3], [0, 1]))
    cases.append(case("tiny_3_tie", [0.2, 0.2, 0.9], [1, 0, 1]))
    # Perfectly separable and perfectly inverted.
    cases.append(case("separable", [0.1, 0.2, 0.3, 0.8, 0.9], [0, 0, 0, 1, 1]))
    cases.append(case("inverted", [0.9, 0.8, 0.7, 0.2, 0.1], [0, 0, 0, 1, 1]))
    # Degenerate classes next to a normal one: all negatives, all positives.
    n = 40
    y = np.zeros((n, 3), dtype=int)
    y[:, 1] = (rng.rand(n) < 0.5).astype(int)
    y[:, 2] = 1
    s = rng.rand(n, 3)
    cases.append(case("degenerate", s, y))
    # Scores from a few discrete values.
    n = 120
    y = (rng.rand(n, 2) < 0.35).astype(int)
    s = rng.randint(0, 3, size=(n, 2)).astype(float) + y * rng.randint(0, 2, size=(n, 2))
    cases.append(case("discrete", s, y, fixed=[1.0, 2.0]))
    # Cosine-like scores stored as float32 and widened, as a model produces them.
    n = 300
    y = (rng.rand(n, 4) < [0.05, 0.2, 0.5, 0.8]).astype(int)
    s = np.tanh(0.3 * rng.randn(n, 4) + 0.25 * y).astype(np.float32).astype(np.float64)
    cases.append(case("cosine_float32", s, y, fixed=[0.1, 0.0, 0.05, 0.2]))
    # Rare positives: a single positive among many.
    y = np.zeros(50, dtype=int)
    y[17] = 1
    cases.append(case("single_positive", rng.rand(50), y))
    with open(os.path.join(OUT, "metric_cases.json"), "w") as f:
        json.dump({"generator": "tools/metrics/make_metric_fixtures.py", "sklearn": sklearn.__version__, "cases": cases}, f)

    # CLI table: four classes, the last one degenerate (no positives).
    names = ["NORM", "MI", "STTC", "HYP"]
    n = 60
    y = (rng.rand(n, 4) < [0.5, 0.3, 0.2, 0.0]).astype(int)
    s = np.round(rng.randn(n, 4) * 0.2 + 0.3 * y, 6)
    np.savetxt(os.path.join(OUT, "cli_scores.csv"), s, delimiter=",", header=",".join(names), comments="", fmt="%.6f")
    np.savetxt(os.path.join(OUT, "cli_labels.csv"), y, delimiter=",", header=",".join(names), comments="", fmt="%d")
    s = np.loadtxt(os.path.join(OUT, "cli_scores.csv"), delimiter=",", skiprows=1)
    per = {}
    included = []
    for c, name in enumerate(names):
        m = release_metrics(y[:, c], s[:, c])
        per[name] = m
        if m is not None:
            included.append(m)
    macro = {k: 100 * float(np.mean([m[k] for m in included])) for k in ("auc", "max_f1", "accuracy")}
    with open(os.path.join(OUT, "cli_expected.json"), "w") as f:
        json.dump({"classes": per, "macro": macro, "excluded": [n for n in names if per[n] is None]}, f, indent=1)

    # Subsets as the release draws them (finetune_dataset.getdataset).
    subsets = []
    for n, ratio, seed in [(1000, 1, 42), (1000, 10, 42), (137, 10, 42), (30, 10, 42), (1234, 1, 7), (500, 50, 0), (70, 10, 123)]:
        train, _ = train_test_split(np.arange(n), train_size=ratio / 100, random_state=seed)
        subsets.append({"n": n, "ratio": ratio, "seed": seed, "train": train.tolist()})
    with open(os.path.join(OUT, "subsets.json"), "w") as f:
        json.dump({"generator": "tools/metrics/make_metric_fixtures.py", "subsets": subsets}, f)
    print("wrote", len(cases), "metric cases,", len(subsets), "subsets to", os.path.normpath(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
