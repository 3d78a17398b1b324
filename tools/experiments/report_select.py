#!/usr/bin/python3
"""Chooses the decoding setting of report runs on the validation split only, then prints their test metrics.

report_matrix.sh evaluates every run OUT/VARIANT/sSEED on val and test once per setting G (folders eval-val-gG and
eval-test-gG, each with `deri report eval`'s metrics.json). For each variant this picks the setting with the highest
validation mean, over seeds, of the mean multi-label CE AUC over the label stores; ties go to the first setting in
GUIDANCES. A run without every validation evaluation is left out and named on stderr; a variant with no run left makes
the exit status 1. It then prints one JSON line per variant: the validation score of every setting, the chosen one, and per
seed the test distinct-report count, BLEU-1..4, ROUGE-L and multi-label CE AUC per label store, with the
most-common-training-report baseline. CIs over records come from aggregate.py with FILE = eval-test-gG/ce_{task}_scores.csv.

usage: /usr/bin/python3 tools/experiments/report_select.py OUT VARIANT[,VARIANT…] GUIDANCES   (e.g. "0,1,2,3" or "default")
"""
import glob, json, os, sys


def load(run, split, g):
    path = os.path.join(run, f"eval-{split}-g{g}", "metrics.json")
    with open(path) as f:
        return json.load(f)


def ce_mean(m):
    aucs = [c["multi_label"]["auc"] for c in m["ce"].values()]
    return sum(aucs) / len(aucs)


def main():
    out, variants, settings = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
    failed = False
    for v in variants:
        found = sorted(glob.glob(os.path.join(out, v, "s*[0-9]")))
        runs = [r for r in found if all(os.path.exists(os.path.join(r, f"eval-val-g{g}", "metrics.json")) for g in settings)]
        for r in sorted(set(found) - set(runs)):
            print(f"{r}: left out, it lacks a validation evaluation for one of the settings {settings}", file=sys.stderr)
        if not runs:
            failed = True
            print(json.dumps({"variant": v, "error": "no run with every validation evaluation"}))
            continue
        val = {g: sum(ce_mean(load(r, "val", g)) for r in runs) / len(runs) * 100 for g in settings}
        best = max(settings, key=lambda g: (val[g], -settings.index(g)))
        seeds = []
        for r in runs:
            m = load(r, "test", best)
            b = m["most_common_report_baseline"]
            seeds.append({
                "seed": os.path.basename(r), "distinct": m["distinct_reports"], "records": m["records"],
                **{k: round(m[k] * 100, 2) for k in ("bleu_1", "bleu_2", "bleu_3", "bleu_4", "rouge_l")},
                "ce_auc": {k: round(c["multi_label"]["auc"] * 100, 2) for k, c in m["ce"].items()},
                "baseline": {k: round(b[k] * 100, 2) for k in ("bleu_1", "bleu_4", "rouge_l") if k in b},
            })
        mean = lambda f: round(sum(f(s) for s in seeds) / len(seeds), 2)
        stores = list(seeds[0]["ce_auc"])
        print(json.dumps({
            "variant": v, "val_ce_auc_by_setting": {g: round(x, 2) for g, x in val.items()}, "chosen": best,
            "test_mean": {"distinct": mean(lambda s: s["distinct"]), "bleu_1": mean(lambda s: s["bleu_1"]), "bleu_4": mean(lambda s: s["bleu_4"]),
                          "rouge_l": mean(lambda s: s["rouge_l"]), **{k: mean(lambda s, k=k: s["ce_auc"][k]) for k in stores}},
            "seeds": seeds, "left_out": [os.path.basename(r) for r in sorted(set(found) - set(runs))]}))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
