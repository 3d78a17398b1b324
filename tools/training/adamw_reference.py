#!/usr/bin/env python3
"""Writes tests/Deri.Tests/Fixtures/Training/adamw_trajectory.json: a short trajectory of torch.optim.AdamW (the
single-tensor path, PyTorch's default on CPU for small lists; foreach=False makes it explicit) in float64, with a
learning rate changed before every step as a schedule does, for Deri.Training.AdamW to match.

    /usr/bin/python3 tools/training/adamw_reference.py   (Debian's python3-torch)
"""
import json
import os

import torch

torch.manual_seed(7)
shapes = [(3, 4), (5,), (2, 1, 3)]
params = [torch.randn(s, dtype=torch.float64, requires_grad=True) for s in shapes]
initial = [p.detach().clone() for p in params]
lrs = [1e-3, 5e-4, 2e-3, 1e-3, 3e-4, 8e-4]
opt = torch.optim.AdamW(params, lr=lrs[0], betas=(0.9, 0.995), eps=1e-8, weight_decay=0.05, foreach=False)
grads, after = [], []
for lr in lrs:
    for g in opt.param_groups:
        g["lr"] = lr
    step = [torch.randn(s, dtype=torch.float64) for s in shapes]
    # The second parameter gets no gradient on the third step: AdamW must skip it (its step count stays behind).
    for i, (p, g) in enumerate(zip(params, step)):
        p.grad = None if (i == 1 and len(grads) == 2) else g.clone()
    grads.append([None if p.grad is None else p.grad.flatten().tolist() for p in params])
    opt.step()
    after.append([p.detach().flatten().tolist() for p in params])

out = {
    "torch": torch.__version__,
    "betas": [0.9, 0.995], "eps": 1e-8, "weight_decay": 0.05, "lrs": lrs,
    "shapes": [list(s) for s in shapes],
    "initial": [p.flatten().tolist() for p in initial],
    "grads": grads,
    "after": after,
}
path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Deri.Tests", "Fixtures", "Training", "adamw_trajectory.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"wrote {os.path.normpath(path)}")
