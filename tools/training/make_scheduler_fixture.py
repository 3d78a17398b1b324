"""Writes the learning rates of PyTorch's CosineAnnealingWarmRestarts, stepped once per batch,
for a few (T_0, T_mult, eta_min, base lr) settings. Run with Debian's /usr/bin/python3 (torch 1.13):

    /usr/bin/python3 tools/training/make_scheduler_fixture.py

Output: tests/Deri.Tests/Fixtures/Training/cosine_warm_restarts.json, one case per setting, each
with the lr in effect for steps 0..n-1 (what the optimizer uses for that step) as float64 hex
strings, so the comparison in the tests is bitwise.
"""
import json
import os

import torch

CASES = [
    # The release's shape (T_mult 1, floor 1e-8, lr 1e-3; T_0 is 5000 there), shortened to keep the fixture small.
    {"t_0": 500, "t_mult": 1, "eta_min": 1e-8, "lr": 1e-3, "steps": 1100},
    {"t_0": 7, "t_mult": 2, "eta_min": 1e-8, "lr": 1e-3, "steps": 120},
    {"t_0": 3, "t_mult": 3, "eta_min": 0.0, "lr": 0.5, "steps": 60},
    {"t_0": 1, "t_mult": 1, "eta_min": 1e-4, "lr": 2e-3, "steps": 10},
]


def run(case):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=case["lr"], weight_decay=1e-8)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=case["t_0"], T_mult=case["t_mult"], eta_min=case["eta_min"])
    lrs = []
    for _ in range(case["steps"]):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {**case, "lrs": [float(x).hex() for x in lrs]}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "..", "tests", "Deri.Tests", "Fixtures", "Training", "cosine_warm_restarts.json")
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "cases": [run(c) for c in CASES]}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
