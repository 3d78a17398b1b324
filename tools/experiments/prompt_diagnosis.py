#!/usr/bin/python3
"""Where a zero-shot class fails: the ECG side or the text side.

For a retrieval index (`deri index build --run RUN --store STORE --split test --out INDEX`: unit-norm ECG and report
embeddings of the same records in the zero-shot space) and the class prompts, per class:
- ecg_auc:    zero-shot AUC, the ECG embedding against the prompt embedding (what `deri zeroshot` reports);
- text_auc:   the same with each record's *report* embedding in place of its ECG: how well the text encoder alone
              puts this class's reports near its prompt;
- ecg_probe / report_probe: 5-fold cross-validated logistic-regression AUC of the class from the ECG (report)
              embeddings: whether the class is separable in that space at all;
- nearest:    the classes whose mean report embedding is most similar to the prompt (the prompt's own class should lead).
The prompt embedding is recovered exactly: `deri search --text PROMPT --k N` returns the N scores E·p, and E (N × D,
N > D) has full column rank, so p is the least-squares solution (the residual is printed).

usage: /usr/bin/python3 tools/experiments/prompt_diagnosis.py DERI INDEX PROMPTS.json [CLASS,CLASS…]
   DERI: the deri command (e.g. src/Deri.Cli/bin/Release/net10.0/linux-x64/deri)
prints one JSON line per class
"""
import json, os, subprocess, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score


def main():
    deri, index, prompts_file = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(os.path.join(index, "index.json")) as f:
        entries = json.load(f)["entries"]
    n = len(entries)
    E = np.fromfile(os.path.join(index, "ecg.f32"), dtype=np.float32).reshape(n, -1).astype(np.float64)
    R = np.fromfile(os.path.join(index, "report.f32"), dtype=np.float32).reshape(n, -1).astype(np.float64)
    ids = [e["id"] for e in entries]
    with open(prompts_file) as f:
        prompts = json.load(f)
    classes = sys.argv[4].split(",") if len(sys.argv) > 4 else [c for c in prompts if any(c in e["labels"] for e in entries)]
    Y = {c: np.array([1 if c in e["labels"] else 0 for e in entries]) for c in prompts}
    centroids = {c: R[y == 1].mean(0) for c, y in Y.items() if y.sum() > 0}
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    for c in classes:
        y = Y[c]
        out = subprocess.run([deri, "search", "--index", index, "--text", prompts[c], "--k", str(n), "--threads", "1"],
                             check=True, capture_output=True, text=True).stdout
        score = {h["id"]: h["score"] for h in json.loads(out)["ecgs"]}
        t = np.array([score[i] for i in ids])
        p, residual, rank, _ = np.linalg.lstsq(E, t, rcond=None)
        pn = p / np.linalg.norm(p)
        near = sorted(((float(v @ pn / np.linalg.norm(v)), k) for k, v in centroids.items()), reverse=True)[:3]
        probe = lambda X: float(cross_val_score(LogisticRegression(max_iter=3000), X, y, cv=cv, scoring="roc_auc").mean())
        print(json.dumps({
            "class": c, "positives": int(y.sum()), "records": n,
            "ecg_auc": round(roc_auc_score(y, t) * 100, 2), "text_auc": round(roc_auc_score(y, R @ p) * 100, 2),
            "ecg_probe": round(probe(E) * 100, 2), "report_probe": round(probe(R) * 100, 2),
            "nearest": [[k, round(v, 3)] for v, k in near],
            "lstsq_residual": float(residual[0]) if len(residual) else None, "rank": int(rank)}))


if __name__ == "__main__":
    main()
