"""Reference values for the CPSC2018 MAT v5 reader tests.

Reads the shared CPSC2018 records A1980-A1989 with scipy and writes, for each, the shape of ECG.data,
sex, age, a few exact samples (repr precision) and per-lead sums, to
tests/Deri.Tests/Fixtures/Signals/cpsc2018_reference.json.

Run with Debian's python (scipy): /usr/bin/python3 tools/make_cpsc2018_fixture.py [SHARED_DATA_DIR]
"""
import json
import os
import sys

import numpy as np
import scipy.io as sio

here = os.path.dirname(os.path.abspath(__file__))
data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "data")
out = os.path.join(here, "..", "tests", "Deri.Tests", "Fixtures", "Signals", "cpsc2018_reference.json")

records = []
for i in range(1980, 1990):
    name = f"A{i}"
    ecg = sio.loadmat(os.path.join(data_dir, "cpsc2018", name + ".mat"))["ECG"]
    data = ecg["data"][0, 0].astype(np.float64)
    n = data.shape[1]
    picks = [0, 1, 777, n // 2, n - 1]
    records.append({
        "record": name,
        "leads": int(data.shape[0]),
        "samples": int(n),
        "sex": str(ecg["sex"][0, 0][0]),
        "age": int(ecg["age"][0, 0][0, 0]),
        "picks": picks,
        "values": [[float(data[c, t]) for t in picks] for c in range(data.shape[0])],
        "sums": [float(np.sum(data[c])) for c in range(data.shape[0])],
    })

with open(out, "w") as f:
    json.dump(records, f, indent=1)
print(f"wrote {out}: {len(records)} records")
