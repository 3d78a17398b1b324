#!/usr/bin/env python3
"""Per-record measurements of a PTB-XL folder beside its labels, for looking at the records behind an AUC.

`deri validate measurements` prints only per-fold numbers; this measures the same records (those with scp_codes, the
500 Hz file where the folder has it, else the 100 Hz one) with `deri measure` and writes one CSV row per record:

    python3 tools/measure/per_record.py ../shared/data/ptbxl-zscore src/Deri.Cli/bin/Release/net10.0/linux-x64/deri \
        > zscore.csv
    python3 tools/measure/per_record.py --misses zscore.csv 1AVB      # positives / negatives on the wrong side
    /usr/bin/python3 tools/measure/per_record.py --auc zscore.csv CRBBB CLBBB,IVCD   # AUC without negatives coded so

Columns: ecg_id, fold, the labels the validation checks (1/0), heart rate, PR, QRS, QTc (Bazett), beats, notes, all
SCP codes (space-separated), report. --auc (scikit-learn's roc_auc_score, nulls ranked lowest as the command does) gives
the label's AUC per fold, folds 1-8 and all, over every record and over the records left after dropping the negatives
that carry any of the given codes (e.g. the other bundle-branch block, whose QRS is wide by definition).
"""
import ast
import csv
import os
import subprocess
import sys

LABELS = {  # label: (column, rule, higher is positive)
    "SBRAD": ("heart_rate_bpm", lambda v: v < 60, False),
    "STACH": ("heart_rate_bpm", lambda v: v > 100, True),
    "1AVB": ("pr_ms", lambda v: v > 200, True),
    "CLBBB": ("qrs_ms", lambda v: v >= 120, True),
    "CRBBB": ("qrs_ms", lambda v: v >= 120, True),
    "LNGQT": ("qtc_bazett_ms", lambda v: v > 460, True),
}
VALUES = ["heart_rate_bpm", "pr_ms", "qrs_ms", "qtc_bazett_ms", "beats", "notes"]


def measure(root, deri):
    db = list(csv.DictReader(open(os.path.join(root, "ptbxl_database.csv"), newline="")))
    records = []
    for row in db:
        if not row["scp_codes"].strip():
            continue
        hr = row.get("filename_hr", "").strip()
        f = hr if hr and os.path.exists(os.path.join(root, hr + ".hea")) else row["filename_lr"].strip()
        if f:
            records.append((row, os.path.join(root, f)))
    out = subprocess.run([deri, "measure", "--format", "csv"] + [p + ".hea" for _, p in records],
                         check=True, capture_output=True, text=True).stdout
    by_path = {r["record"]: r for r in csv.DictReader(out.splitlines())}
    w = csv.writer(sys.stdout)
    w.writerow(["ecg_id", "fold"] + list(LABELS) + VALUES + ["codes", "report"])
    for row, p in records:
        m = by_path.get(p + ".hea")
        if m is None:
            continue
        codes = ast.literal_eval(row["scp_codes"])
        w.writerow([row["ecg_id"], row["strat_fold"]] + [int(k in codes) for k in LABELS] + [m[v] for v in VALUES]
                   + [" ".join(codes), row["report"]])


def misses(path, label):
    col, rule, higher = LABELS[label]
    rows = list(csv.DictReader(open(path, newline="")))
    for want, title in ((1, "positives not meeting the rule"), (0, "negatives meeting the rule")):
        sel = [r for r in rows if int(r[label]) == want and (bool(r[col]) and rule(float(r[col]))) != bool(want)]
        n = sum(int(r[label]) == want for r in rows)
        print(f"{label}: {len(sel)} of {n} {title} ({col})")
        for r in sorted(sel, key=lambda r: (int(r["fold"]), float(r[col] or "nan"))):
            print(f"  fold {r['fold']} ecg {r['ecg_id']}: {col}={r[col] or 'null'} hr={r['heart_rate_bpm']} beats={r['beats']}"
                  f" | {r['notes'][:60]} | {r['report'][:90]}")


def aucs(path, label, drop):
    from sklearn.metrics import roc_auc_score

    col, _, higher = LABELS[label]
    rows = list(csv.DictReader(open(path, newline="")))
    sign = 1 if higher else -1

    def auc(sel):
        y = [int(r[label]) for r in sel]
        s = [sign * float(r[col]) if r[col] else -1e9 for r in sel]
        return f"{roc_auc_score(y, s):.3f} ({sum(y)})" if 0 < sum(y) < len(y) else "—"

    groups = [(str(f), lambda r, f=f: r["fold"] == str(f)) for f in range(1, 10)]
    groups += [("1-8", lambda r: int(r["fold"]) <= 8), ("all", lambda r: True)]
    for title, keep in (("every record", lambda r: True),
                        (f"negatives coded {'/'.join(drop)} left out",
                         lambda r: int(r[label]) == 1 or not set(r["codes"].split()) & set(drop))):
        kept = [r for r in rows if keep(r)]
        print(f"{label} ({col}), {title}: {len(kept)} records")
        print("  " + " | ".join(f"{name}: {auc([r for r in kept if g(r)])}" for name, g in groups))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--misses":
        misses(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "--auc":
        aucs(sys.argv[2], sys.argv[3], [c for c in sys.argv[4].split(",") if c])
    elif len(sys.argv) == 3:
        measure(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
