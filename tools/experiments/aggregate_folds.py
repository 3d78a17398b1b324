#!/usr/bin/python3
"""The rotating-outer-fold tables of docs/RESULTS.md §2b, from what tools/experiments/rotating_folds.sh wrote.

Zero-shot (per task and the mean of the four): the mean over outer folds × seeds of each run's macro AUC on its outer
test fold, with a 95 % percentile CI from a record bootstrap stratified by outer fold (2,000 resamples, seed 0): each
resample draws every outer fold's test records with replacement, the same draw for every seed and every variant, and
averages the macro AUCs over folds × seeds. The paired difference A − B uses the same draws for A and B, so its CI
reflects that both methods score the same records.

Linear probing (`deri probe` writes no per-record scores): the mean over folds × seeds per ratio, with a 95 %
percentile CI from a bootstrap over the (fold, seed) units stratified by fold (10,000 resamples); the paired difference
uses the same units for both methods.

Macro AUC is scikit-learn's roc_auc_score per class, averaged over the classes with both label values present (a
class absent from a resample is left out of that resample's mean, as the project leaves degenerate classes out).

usage: /usr/bin/python3 tools/experiments/aggregate_folds.py ROT FOLDS ZS_VARIANTS PROBE_VARIANTS [A-B ...]
  ROT: the OUT given to rotating_folds.sh; FOLDS e.g. 8,7,9; ZS_VARIANTS e.g. deri-init,merl-init;
  PROBE_VARIANTS e.g. deri-init,merl-init,simclr,random; A-B pairs e.g. deri-init:merl-init (paired differences)
  optional env SPLIT=val reads the validation-fold scores (zeroshot-val-TASK) instead of the test fold's
prints one JSON line per result; a missing file is named on stderr and makes the exit status 1.
"""
import csv, glob, json, os, sys
import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

TASKS = ["super", "sub", "form", "rhythm"]
RATIOS_COLUMN_PREFIX = ""


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return np.array([[float(v) for v in r] for r in rows[1:]])


def macro_auc(scores, labels):
    """Mean over the non-degenerate classes of the Mann-Whitney AUC with average ranks for ties, which is what
    scikit-learn's roc_auc_score computes (checked against it on every call of check_against_sklearn)."""
    pos = labels.sum(axis=0)
    keep = (pos > 0) & (pos < len(labels))
    if not keep.any():
        return float("nan")
    ranks = rankdata(scores[:, keep], axis=0)
    p, n = pos[keep], len(labels) - pos[keep]
    auc = ((ranks * labels[:, keep]).sum(axis=0) - p * (p + 1) / 2) / (p * n)
    return float(np.mean(auc)) * 100


def check_against_sklearn(scores, labels):
    ref = [roc_auc_score(labels[:, c], scores[:, c]) for c in range(labels.shape[1]) if 0 < labels[:, c].sum() < len(labels)]
    ours = macro_auc(scores, labels)
    assert abs(float(np.mean(ref)) * 100 - ours) < 1e-9, (ours, ref)


def zeroshot_runs(rot, fold, variant, task, split):
    folder = f"zeroshot-val-{task}" if split == "val" else f"zeroshot-{task}"
    files = sorted(glob.glob(os.path.join(rot, f"f{fold}", "exp", variant, "s*", folder, "zeroshot_scores.csv")))
    return [(read(f), read(f[: -len("_scores.csv")] + "_labels.csv")) for f in files]


def ci(values):
    lo, hi = np.nanpercentile(values, [2.5, 97.5])
    return round(float(lo), 2), round(float(hi), 2)


def zeroshot(rot, folds, variants, pairs, split, missing):
    rng = np.random.default_rng(0)
    draws = int(os.environ.get("DRAWS", "2000"))
    runs = {}  # (variant, task, fold) -> [(scores, labels) per seed]
    for v in variants:
        for t in TASKS:
            for f in folds:
                r = zeroshot_runs(rot, f, v, t, split)
                if not r:
                    print(f"{v}/{t}/fold {f}: no zero-shot score files under {rot}/f{f}/exp/{v}", file=sys.stderr)
                    missing.append((v, t, f))
                runs[(v, t, f)] = r
    # The same record draws for every variant: one index array per (task, fold, resample).
    sizes = {(t, f): next((len(runs[(v, t, f)][0][1]) for v in variants if runs[(v, t, f)]), 0) for t in TASKS for f in folds}
    idx = {(t, f): [rng.integers(0, n, n) for _ in range(draws)] for (t, f), n in sizes.items()}
    boot = {}  # (variant, task) -> array of resampled means over folds × seeds
    point = {}
    for v in variants:
        for t in TASKS:
            for f in folds:
                for s, l in runs[(v, t, f)]:
                    check_against_sklearn(s, l)
            per_run = [(f, macro_auc(s, l)) for f in folds for s, l in runs[(v, t, f)]]
            if not per_run:
                continue
            point[(v, t)] = per_run
            boot[(v, t)] = np.array([np.mean([macro_auc(s[i], l[i]) for f in folds for s, l in runs[(v, t, f)]
                                               for i in [idx[(t, f)][b]]]) for b in range(draws)])
            print(json.dumps({"kind": "zeroshot", "split": split, "variant": v, "task": t, "folds": folds,
                              "per_fold": {str(f): [round(a, 2) for g, a in per_run if g == f] for f in folds},
                              "runs": len(per_run), "mean": round(float(np.mean([a for _, a in per_run])), 2),
                              "ci": ci(boot[(v, t)])}))
        if all((v, t) in boot for t in TASKS):
            m4 = np.mean([boot[(v, t)] for t in TASKS], axis=0)
            print(json.dumps({"kind": "zeroshot", "split": split, "variant": v, "task": "mean4", "folds": folds,
                              "mean": round(float(np.mean([np.mean([a for _, a in point[(v, t)]]) for t in TASKS])), 2),
                              "ci": ci(m4)}))
    for a, b in pairs:
        diffs = []
        for t in TASKS:
            if (a, t) not in boot or (b, t) not in boot:
                continue
            d = boot[(a, t)] - boot[(b, t)]
            diffs.append(d)
            mean = np.mean([x for _, x in point[(a, t)]]) - np.mean([x for _, x in point[(b, t)]])
            print(json.dumps({"kind": "zeroshot-diff", "split": split, "a": a, "b": b, "task": t, "mean": round(float(mean), 2),
                              "ci": ci(d), "p_a_not_above_b": round(float(np.mean(d <= 0)), 4)}))
        if len(diffs) == len(TASKS):
            d = np.mean(diffs, axis=0)
            mean = np.mean([np.mean([x for _, x in point[(a, t)]]) - np.mean([x for _, x in point[(b, t)]]) for t in TASKS])
            print(json.dumps({"kind": "zeroshot-diff", "split": split, "a": a, "b": b, "task": "mean4", "mean": round(float(mean), 2),
                              "ci": ci(d), "p_a_not_above_b": round(float(np.mean(d <= 0)), 4)}))


def probe_units(rot, folds, variant, missing):
    """{(fold, seed): {ratio column: AUC}} from each fold's probe-VARIANT/probe.json."""
    units = {}
    for f in folds:
        path = os.path.join(rot, f"f{f}", f"probe-{variant}", "probe.json")
        if not os.path.exists(path):
            print(f"{variant}/probe/fold {f}: {path} missing", file=sys.stderr)
            missing.append((variant, "probe", f))
            continue
        table = json.load(open(path))
        header = table["row_header"]
        for row in table["rows"]:
            run = row[header].split(" / ", 1)[1]
            seed = run.rstrip("/").split("/")[-1]
            units[(f, seed)] = {c: row[c] for c in table["columns"] if row.get(c) is not None}
    return units


def probe(rot, folds, variants, pairs, missing):
    rng = np.random.default_rng(0)
    draws = int(os.environ.get("DRAWS", "10000"))
    all_units = {v: probe_units(rot, folds, v, missing) for v in variants}
    keys = sorted({k for u in all_units.values() for k in u})
    by_fold = {f: [k for k in keys if k[0] == f] for f in folds}
    # Stratified unit draws, the same for every variant.
    picks = [[k for f in folds if by_fold[f] for k in (by_fold[f][j] for j in rng.integers(0, len(by_fold[f]), len(by_fold[f])))]
             for _ in range(draws)]
    columns = sorted({c for u in all_units.values() for x in u.values() for c in x}, key=lambda c: (len(c), c))
    for v in variants:
        u = all_units[v]
        if not u:
            continue
        for c in columns + ["mean"]:
            val = (lambda k: float(np.mean([u[k][x] for x in columns]))) if c == "mean" else (lambda k, c=c: u[k][c])
            ks = [k for k in keys if k in u]
            boots = [np.mean([val(k) for k in p if k in u]) for p in picks]
            print(json.dumps({"kind": "probe", "variant": v, "ratio": c, "units": len(ks),
                              "per_fold": {str(f): [round(val(k), 2) for k in ks if k[0] == f] for f in folds},
                              "mean": round(float(np.mean([val(k) for k in ks])), 2), "ci": ci(boots)}))
    for a, b in pairs:
        ua, ub = all_units[a], all_units[b]
        both = [k for k in keys if k in ua and k in ub]
        if not both:
            continue
        for c in columns + ["mean"]:
            val = (lambda u, k: float(np.mean([u[k][x] for x in columns]))) if c == "mean" else (lambda u, k, c=c: u[k][c])
            d = {k: val(ua, k) - val(ub, k) for k in both}
            boots = np.array([np.mean([d[k] for k in p if k in d]) for p in picks])
            print(json.dumps({"kind": "probe-diff", "a": a, "b": b, "ratio": c, "units": len(both),
                              "mean": round(float(np.mean(list(d.values()))), 2), "ci": ci(boots),
                              "p_a_not_above_b": round(float(np.mean(boots <= 0)), 4)}))


def main():
    rot, folds = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
    zs = [v for v in sys.argv[3].split(",") if v]
    pr = [v for v in sys.argv[4].split(",") if v] if len(sys.argv) > 4 else []
    pairs = [tuple(p.split(":")) for p in sys.argv[5:]]
    split = os.environ.get("SPLIT", "test")
    missing = []
    if zs:
        zeroshot(rot, folds, zs, [p for p in pairs if p[0] in zs and p[1] in zs], split, missing)
    if pr and split == "test":
        probe(rot, folds, pr, [p for p in pairs if p[0] in pr and p[1] in pr], missing)
    if missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
