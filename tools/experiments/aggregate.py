#!/usr/bin/python3
"""Mean over seeds and a 95 % bootstrap CI of zero-shot macro AUC, from the per-record score files that
`deri zeroshot --out DIR` writes (zeroshot_scores.csv, zeroshot_labels.csv; rows in the store's order of the split,
so every seed scores the same records in the same order).

The CI resamples test records (2,000 resamples, seed 0): each resample takes the same records for every seed and
computes the mean over seeds of the macro AUC, so it reflects both the test set's size and the seeds' spread
(percentile interval). Classes with only one label value in a resample are left out of that resample's mean, as the
project leaves degenerate classes out of every mean. Macro AUC follows scikit-learn's roc_auc_score per class.

usage (Debian python3 with python3-sklearn): /usr/bin/python3 tools/experiments/aggregate.py OUT VARIANT[,VARIANT…] [TASKS] [FILE]
  OUT as given to ptbxl_matrix.sh (or report_matrix.sh); FILE: each seed's score file below OUT/VARIANT/sSEED, with {task}
  for the task (default zeroshot-{task}/zeroshot_scores.csv; `deri report eval` writes ce_store-{task}_scores.csv); the
  labels are read from the same name with _labels.csv
prints one JSON line per variant and task: seeds, per-seed AUC, mean, ci_low, ci_high (×100); a variant and task without
any score file is named on stderr and makes the exit status 1
"""
import csv, glob, json, os, sys
import numpy as np
from sklearn.metrics import roc_auc_score

def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(v) for v in r] for r in rows[1:]])

def macro_auc(scores, labels):
    aucs = [roc_auc_score(labels[:, c], scores[:, c]) for c in range(labels.shape[1]) if 0 < labels[:, c].sum() < len(labels)]
    return float(np.mean(aucs)) * 100 if aucs else float("nan")

def main():
    out, variants = sys.argv[1], sys.argv[2].split(",")
    tasks = (sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else "super,sub,form,rhythm").split(",")
    template = sys.argv[4] if len(sys.argv) > 4 else "zeroshot-{task}/zeroshot_scores.csv"
    rng = np.random.default_rng(0)
    missing = 0
    for v in variants:
        for t in tasks:
            seeds = sorted(glob.glob(os.path.join(out, v, "s*", template.format(task=t))))
            if not seeds:
                print(f"{v}/{t}: no score file matches {os.path.join(out, v, 's*', template.format(task=t))}", file=sys.stderr)
                missing += 1
                continue
            runs = []
            for s in seeds:
                names, scores = read(s)
                _, labels = read(s[: -len("_scores.csv")] + "_labels.csv")
                runs.append((scores, labels))
            n = len(runs[0][1])
            per_seed = [macro_auc(s, l) for s, l in runs]
            boots = []
            for _ in range(2000):
                idx = rng.integers(0, n, n)
                boots.append(np.mean([macro_auc(s[idx], l[idx]) for s, l in runs]))
            lo, hi = np.nanpercentile(boots, [2.5, 97.5])
            print(json.dumps({"variant": v, "task": t, "seeds": [os.path.relpath(s, os.path.join(out, v)).split(os.sep)[0] for s in seeds],
                              "records": n, "auc": [round(a, 2) for a in per_seed], "mean": round(float(np.mean(per_seed)), 2),
                              "ci_low": round(float(lo), 2), "ci_high": round(float(hi), 2)}))

    if missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
