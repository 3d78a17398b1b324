#!/usr/bin/python3
"""Reference for Deri.Evaluation.LinearProbeLayer: PyTorch's nn.Linear + BCEWithLogitsLoss + optim.AdamW, in float64.

Run with Debian's interpreter (it has torch 1.13):  /usr/bin/python3 tools/metrics/make_probe_fixture.py
Writes tests/Deri.Tests/Fixtures/metrics/probe_steps.json: features, targets, initial weight and bias, the
mini-batches and per-step learning rates, and the weight, bias and logits after all steps.
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Deri.Tests", "Fixtures", "metrics", "probe_steps.json")


def main():
    rng = np.random.RandomState(5)
    n, d, c = 23, 7, 3
    x = rng.randn(n, d)
    y = (rng.rand(n, c) < 0.4).astype(np.float64)
    w0 = rng.uniform(-1, 1, size=(c, d)) / math.sqrt(d)
    b0 = rng.uniform(-1, 1, size=c) / math.sqrt(d)
    lin = torch.nn.Linear(d, c).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(w0))
        lin.bias.copy_(torch.from_numpy(b0))
    weight_decay = 0.01
    opt = torch.optim.AdamW(lin.parameters(), lr=0.01, weight_decay=weight_decay, foreach=False)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    batches, lrs = [], []
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for epoch in range(6):
        order = rng.permutation(n)
        for start in range(0, n, 5):
            idx = order[start:start + 5]
            lr = 0.01 * (len(lrs) + 1) / 10 if len(lrs) < 10 else 0.005 * (1 + math.cos(math.pi * (len(lrs) - 10) / 20))
            for g in opt.param_groups:
                g["lr"] = lr
            loss = loss_fn(lin(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            batches.append(idx.tolist())
            lrs.append(lr)
    with torch.no_grad():
        logits = lin(xt).numpy()
    with open(OUT, "w") as f:
        json.dump({
            "generator": "tools/metrics/make_probe_fixture.py", "torch": torch.__version__,
            "x": x.tolist(), "y": y.astype(int).tolist(), "weight0": w0.ravel().tolist(), "bias0": b0.tolist(),
            "weight_decay": weight_decay, "batches": batches, "lrs": lrs,
            "weight": lin.weight.detach().numpy().ravel().tolist(), "bias": lin.bias.detach().numpy().tolist(), "logits": logits.tolist(),
        }, f)


if __name__ == "__main__":
    main()
