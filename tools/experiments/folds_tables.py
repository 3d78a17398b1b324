#!/usr/bin/python3
"""Markdown tables of docs/RESULTS.md §2b from aggregate_folds.py's JSON lines.

usage: /usr/bin/python3 tools/experiments/folds_tables.py AGGREGATE.jsonl
"""
import json, sys

NAMES = {"deri-init": "DERI (synthetic, then real)", "merl-init": "MERL (synthetic, then real)",
         "simclr": "SimCLR (real only)", "random": "random init (BN statistics adapted)"}


def cell(d):
    return f"{d['mean']:.1f} [{d['ci'][0]:.1f}, {d['ci'][1]:.1f}]"


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    zs = {(r["variant"], r["task"]): r for r in rows if r["kind"] == "zeroshot"}
    zd = {(r["a"], r["b"], r["task"]): r for r in rows if r["kind"] == "zeroshot-diff"}
    pr = {(r["variant"], r["ratio"]): r for r in rows if r["kind"] == "probe"}
    pd = {(r["a"], r["b"], r["ratio"]): r for r in rows if r["kind"] == "probe-diff"}
    tasks = ["super", "sub", "form", "rhythm", "mean4"]
    print("| method | super | sub | form | rhythm | mean of 4 |\n|---|---:|---:|---:|---:|---:|")
    for v in [v for v in NAMES if (v, "super") in zs]:
        print(f"| {NAMES[v]} | " + " | ".join(cell(zs[(v, t)]) if (v, t) in zs else "" for t in tasks) + " |")
    for (a, b) in sorted({(a, b) for a, b, _ in zd}):
        print(f"| paired difference {a} − {b} | " + " | ".join(cell(zd[(a, b, t)]) if (a, b, t) in zd else "" for t in tasks) + " |")
    print("| chance (constant score) | 50 | 50 | 50 | 50 | 50 |")
    print()
    print("Per outer fold (mean of the 3 seeds):\n")
    folds = next(iter(zs.values()))["folds"]
    print("| method | task | " + " | ".join(f"fold {f}" for f in folds) + " |\n|---|---|" + "---:|" * len(folds))
    for v in [v for v in NAMES if (v, "super") in zs]:
        for t in tasks[:4]:
            per = zs[(v, t)]["per_fold"]
            print(f"| {NAMES[v]} | {t} | " + " | ".join(f"{sum(per[str(f)]) / len(per[str(f)]):.1f}" if per.get(str(f)) else "" for f in folds) + " |")
    print()
    ratios = ["1%", "10%", "100%", "mean"]
    print("| method | 1 % | 10 % | 100 % | mean |\n|---|---:|---:|---:|---:|")
    for v in [v for v in NAMES if (v, "mean") in pr]:
        print(f"| {NAMES[v]} | " + " | ".join(cell(pr[(v, r)]) for r in ratios) + " |")
    for (a, b) in sorted({(a, b) for a, b, _ in pd}):
        print(f"| paired difference {a} − {b} | " + " | ".join(cell(pd[(a, b, r)]) for r in ratios) + " |")
    print("| chance (constant score) | 50 | 50 | 50 | 50 |")


if __name__ == "__main__":
    main()
