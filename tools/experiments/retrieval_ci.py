#!/usr/bin/python3
"""Recall@k of ECG→report and report→ECG retrieval, mean over seeds with a 95 % record-bootstrap CI, from the
indexes that `deri index build` writes (index.json, ecg.f32, report.f32: unit vectors, row-major N × dim).
A hit is the query's own pair, ties broken as in `deri index eval` (per-seed values agree with it up to float
rounding between identical composed reports, which tie).
The CI resamples queries (2,000 resamples, seed 0), the same queries for every seed, and averages the seeds.

usage: /usr/bin/python3 tools/experiments/retrieval_ci.py NAME=INDEX[,INDEX…] …   (one NAME per method, one INDEX per seed)
"""
import json, os, sys
import numpy as np

def ranks(index):
    n = len(json.load(open(os.path.join(index, "index.json")))["entries"])
    e = np.fromfile(os.path.join(index, "ecg.f32"), dtype="<f4").reshape(n, -1)
    r = np.fromfile(os.path.join(index, "report.f32"), dtype="<f4").reshape(n, -1)
    sim = e @ r.T                                   # (N ECG queries, N reports)
    lower = np.tri(n, k=-1, dtype=bool)             # lower[i, j]: j < i
    def rank(m):
        # As `deri index eval`: items scoring higher, or equal with a lower row (identical composed reports tie).
        own = np.diag(m)[:, None]
        return 1 + (m > own).sum(1) + ((m == own) & lower).sum(1)
    return {"ecg_to_report": rank(sim), "report_to_ecg": rank(sim.T)}

rng = np.random.default_rng(0)
for arg in sys.argv[1:]:
    name, paths = arg.split("=", 1)
    seeds = [ranks(p) for p in paths.split(",")]
    n = len(seeds[0]["ecg_to_report"])
    for direction in ("ecg_to_report", "report_to_ecg"):
        for k in (1, 5, 10):
            hits = np.stack([s[direction] <= k for s in seeds]).astype(float)   # (seeds, N)
            per_seed = hits.mean(1) * 100
            boots = [hits[:, rng.integers(0, n, n)].mean() * 100 for _ in range(2000)]
            lo, hi = np.percentile(boots, [2.5, 97.5])
            print(json.dumps({"method": name, "direction": direction, "k": k, "queries": n, "chance": round(100 * k / n, 2),
                              "per_seed": [round(x, 2) for x in per_seed], "mean": round(float(per_seed.mean()), 2),
                              "ci_low": round(float(lo), 2), "ci_high": round(float(hi), 2)}))
