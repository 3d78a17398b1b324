"""Clinical-efficacy metric fixture (METHOD §4) from scikit-learn 1.2 (Debian's /usr/bin/python3).

Writes tests/Deri.Tests/Fixtures/ce/ce_fixture.json with:
- single: cases of (y_true, y_pred) and sklearn's precision_recall_fscore_support(average='macro', zero_division=0);
- multi: cases of (scores [N, C], labels [N, C]) with macro roc_auc_score, and the threshold search of
  Deri.Generation.ClinicalEfficacy.SearchThreshold done by brute force: every distinct score t is tried,
  predictions = scores >= t, macro F1 = f1_score(average='macro', zero_division=0); the best t (highest on ties),
  with macro F1 and the mean over classes of accuracy_score there.
Run: /usr/bin/python3 tools/ce/make_ce_fixture.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support, roc_auc_score

rng = np.random.default_rng(20251125)
out = {"sklearn": sklearn.__version__, "single": [], "multi": []}

for case in range(6):
    n = int(rng.integers(5, 60))
    c = int(rng.integers(2, 7))
    y_true = rng.integers(0, c, n)
    # predictions agree with the truth about half the time and skip one class in some cases
    y_pred = np.where(rng.random(n) < 0.5, y_true, rng.integers(0, max(1, c - (case % 2)), n))
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    out["single"].append({"truth": y_true.tolist(), "predicted": y_pred.tolist(), "precision": p, "recall": r, "f1": f})

for case in range(5):
    n = int(rng.integers(8, 50))
    c = int(rng.integers(2, 6))
    labels = (rng.random((n, c)) < 0.35).astype(int)
    for j in range(c):  # every class needs a positive and a negative record
        labels[0, j], labels[1, j] = 1, 0
    scores = 0.4 * labels + rng.random((n, c))
    if case % 2 == 0:
        scores = np.round(scores, 1)  # ties, within and across classes
    best = (-1.0, None, None)
    for t in sorted(set(scores.ravel().tolist()), reverse=True):
        pred = (scores >= t).astype(int)
        f1 = f1_score(labels, pred, average="macro", zero_division=0)
        if f1 > best[0]:
            acc = float(np.mean([accuracy_score(labels[:, j], pred[:, j]) for j in range(c)]))
            best = (f1, t, acc)
    out["multi"].append({
        "scores": scores.tolist(), "labels": labels.tolist(),
        "auc": roc_auc_score(labels, scores, average="macro"),
        "f1": best[0], "threshold": best[1], "accuracy": best[2],
    })

path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Deri.Tests", "Fixtures", "ce", "ce_fixture.json")
with open(path, "w") as fh:
    json.dump(out, fh)
print("wrote", os.path.normpath(path))
