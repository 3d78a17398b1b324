"""Reference outputs of scipy.signal.resample_poly for the C# PolyphaseResampler tests.

Run with Debian's python3 (scipy 1.10):  /usr/bin/python3 tools/data/make_resample_fixtures.py
Writes tests/Deri.Tests/Fixtures/Data/resample_poly.json (small: a few short signals per ratio).
"""
import json
import os

import numpy as np
import scipy
from scipy.signal import resample_poly

rng = np.random.default_rng(20250101)
cases = []
# (from Hz, to Hz): PTB-XL 100 Hz, 1000 Hz, 257 Hz (INCART), 360 Hz (MIT-BIH), 250 Hz, 128 Hz, identity
for src, dst, n in [(100, 500, 300), (1000, 500, 900), (257, 500, 257), (360, 500, 360), (250, 500, 250), (128, 500, 200), (500, 500, 50), (500, 100, 700)]:
    t = np.arange(n) / src
    # a smooth ECG-like mixture plus noise, so both the band-limited part and the edges matter
    x = 0.8 * np.sin(2 * np.pi * 1.2 * t) + 0.3 * np.sin(2 * np.pi * 7.0 * t + 0.4) + 0.05 * rng.standard_normal(n)
    y = resample_poly(x, dst, src)
    cases.append({"from": src, "to": dst, "input": x.tolist(), "expected": y.tolist()})
# a non-default Kaiser beta
x = rng.standard_normal(120)
cases.append({"from": 100, "to": 500, "beta": 8.6, "input": x.tolist(),
              "expected": resample_poly(x, 5, 1, window=("kaiser", 8.6)).tolist()})
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Deri.Tests", "Fixtures", "Data", "resample_poly.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"scipy": scipy.__version__, "cases": cases}, f)
print(out, os.path.getsize(out))
