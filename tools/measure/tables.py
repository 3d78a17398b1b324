#!/usr/bin/env python3
"""Markdown tables of `deri validate measurements` JSON lines (stdin), as docs/RESULTS.md §5 shows them.

    deri validate measurements --ptbxl ../shared/data/ptbxl,../shared/data/ptbxl-zscore | python3 tools/measure/tables.py
"""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]


def fmt(v, digits=1):
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


synthetic = [r["row"] for r in rows if r["table"] == "synthetic_error"]
if synthetic:
    print("| rate (Hz) | quantity | n | missing | mean | sd | p5 | median | p95 | mean abs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for x in synthetic:
        print(f"| {fmt(x['Rate'], 0)} | {x['Quantity']} | {x['Count']} | {x['Missing']} | {fmt(x['Mean'])} | {fmt(x['Sd'])} | "
              f"{fmt(x['P5'])} | {fmt(x['P50'])} | {fmt(x['P95'])} | {fmt(x['MeanAbsolute'])} |")
    print()
absent = [r["row"] for r in rows if r["table"] == "synthetic_pr_absent"]
if absent:
    print("| rate (Hz) | records without P (AF, flutter) | of which PR null | sinus records | of which PR null | refused |")
    print("|---|---|---|---|---|---|")
    for x in absent:
        print(f"| {fmt(x['Rate'], 0)} | {x['WithoutP']} | {x['WithoutPNull']} | {x['WithP']} | {x['WithPNull']} | {x['Failed']} |")
    print()
labels = [r["row"] for r in rows if r["table"] == "ptbxl_label"]


def auc_cell(x):
    """AUC [95 % bootstrap CI] (positives); the CI is absent in output of builds before it existed."""
    if x["Auc"] is None:
        return f"— ({x['Positives']})"
    ci = x.get("AucCi")
    band = f" [{fmt(ci['Low'], 2)}–{fmt(ci['High'], 2)}]" if ci else ""
    return f"{fmt(x['Auc'], 3)}{band} ({x['Positives']})"


for dataset in dict.fromkeys(x["Dataset"] for x in labels):
    sub = [x for x in labels if x["Dataset"] == dataset]
    folds = sorted({x["Fold"] for x in sub if x["Fold"] > 0})
    pooled = [-1] if any(x["Fold"] == -1 for x in sub) else []
    names = list(dict.fromkeys(x["Label"] for x in sub))
    print(f"**{dataset}**: AUC [95 % record-bootstrap CI] per fold (positives in brackets; — where a fold has none); "
          "1–8 = folds 1–8 together (where settings are chosen); all = folds 1–9 together; "
          "rule = fraction of positives / negatives meeting the rule; null = positives without the value")
    print()
    print("| label (measure, rule) | " + " | ".join(str(f) for f in folds) + (" | 1–8" if pooled else "") + " | all | rule pos / neg | null |")
    print("|---|" + "---|" * (len(folds) + len(pooled) + 3))
    for name in names:
        by = {x["Fold"]: x for x in sub if x["Label"] == name}
        a = by[0]
        cells = [auc_cell(by[f]) if f in by else "—" for f in folds + pooled]
        print(f"| {name} ({a['Measurement']}, {a['Rule']}) | " + " | ".join(cells) +
              f" | {auc_cell(a)} | {fmt(a['RulePositives'], 2)} / {fmt(a['RuleNegatives'], 2)} | {a['MissingPositives']} |")
    print()
