#!/usr/bin/python3
"""Reference numbers for the AUCs and bootstrap intervals of `deri validate measurements`, from scikit-learn and numpy.

Run with Debian's interpreter (scikit-learn 1.2):  /usr/bin/python3 tools/measure/make_auc_fixture.py
Writes tests/Deri.Tests/Fixtures/measure/auc_bootstrap.json; tests/Deri.Tests/Measurements/MeasurementAucTests.cs
compares with it and never runs Python. Seeded, so re-running reproduces the committed file.

Each case has scores with the validation's null rule (a record without the value scores -1e9, below every measured
one, and nulls tie with each other), labels, and:
    auc        roc_auc_score(labels, scores)
    draws      record indices of a few hundred bootstrap resamples, numpy's default_rng(seed).integers(0, n, (B, n))
    ci         over those draws that hold both classes: np.percentile(roc_auc_score per draw, [2.5, 97.5])
               (linear interpolation, numpy's default), and how many draws were valid
    ci_2000    the same with 2000 fresh numpy draws: the C# interval with its own 2000 seeded draws must come close
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score

assert sklearn.__version__.startswith("1.2"), sklearn.__version__
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Deri.Tests", "Fixtures", "measure")
NULL = -1e9


def interval(scores, labels, draws):
    aucs = [roc_auc_score(labels[d], scores[d]) for d in draws if 0 < labels[d].sum() < len(d)]
    lo, hi = np.percentile(aucs, [2.5, 97.5])
    return {"low": float(lo), "high": float(hi), "valid": len(aucs)}


def case(name, scores, labels, seed, b=300):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n = len(scores)
    draws = np.random.default_rng(seed).integers(0, n, size=(b, n))
    many = np.random.default_rng(seed + 1).integers(0, n, size=(2000, n))
    return {
        "name": name, "scores": scores.tolist(), "labels": labels.tolist(),
        "auc": float(roc_auc_score(labels, scores)),
        "draws": draws.tolist(), "ci": interval(scores, labels, draws), "ci_2000": interval(scores, labels, many),
    }


def main():
    rng = np.random.default_rng(24)
    cases = []
    # A PR-like measurement: 40 records, 6 positives shifted up, rounded to whole ms (ties), three nulls (one positive).
    y = np.array([1] * 6 + [0] * 34)
    s = np.round(rng.normal(160, 25, 40) + 60 * y)
    s[[2, 10, 11]] = NULL
    cases.append(case("pr_like_with_nulls_and_ties", s, y, 1))
    # One positive among 30 (as in many PTB-XL folds): many draws lack it and are left out.
    y = np.array([1] + [0] * 29)
    s = np.round(rng.normal(100, 15, 30), 1)
    s[0] = 120.0
    cases.append(case("single_positive", s, y, 2))
    # Heavy ties: a coarse measurement with 4 distinct values.
    y = rng.integers(0, 2, 50)
    s = np.clip(np.round(rng.normal(1.0, 1.0, 50) + y), 0, 3)
    cases.append(case("four_levels", s, y, 3))
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "auc_bootstrap.json"), "w") as f:
        json.dump({"sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
