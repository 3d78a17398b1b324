#!/usr/bin/python3
"""A copy of the 500 Hz mV PTB-XL folder processed like the shared z-scored copy, to separate its causes.

The shared `ptbxl-zscore` records differ from `ptbxl` in two ways (their headers: "band-passed 0.5-40 Hz, z-scored per
lead, decimated 500->100 Hz") and are also other records. This writes the `ptbxl` records again with one or both
changes, so `deri validate measurements --ptbxl OUT` scores the same records with and without them:

    /usr/bin/python3 tools/measure/degrade_copy.py ../shared/data/ptbxl /tmp/ptbxl-100hz   --rate 100
    /usr/bin/python3 tools/measure/degrade_copy.py ../shared/data/ptbxl /tmp/ptbxl-z500    --zscore
    /usr/bin/python3 tools/measure/degrade_copy.py ../shared/data/ptbxl /tmp/ptbxl-bp500   --bandpass
    /usr/bin/python3 tools/measure/degrade_copy.py ../shared/data/ptbxl /tmp/ptbxl-z500    --bandpass --zscore
    /usr/bin/python3 tools/measure/degrade_copy.py ../shared/data/ptbxl /tmp/ptbxl-z100    --bandpass --zscore --rate 100

--bandpass: 4th-order zero-phase Butterworth band-pass 0.5-40 Hz; --zscore: each lead minus its mean over its standard
deviation (units 'z'); --rate 100: polyphase decimation 500 -> 100 Hz (scipy resample_poly, its anti-alias filter).
Output: WFDB format 16 (gain 1000, or 200 for mV), a ptbxl_database.csv pointing filename_lr at the new files.
"""
import argparse
import csv
import os

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt


def read(hea):
    lines = [l for l in open(hea) if l.strip() and not l.startswith("#")]
    name, nsig, fs, n = lines[0].split()[:4]
    gains, bases, leads = [], [], []
    for l in lines[1 : 1 + int(nsig)]:
        f = l.split()
        assert f[1] == "16", f"{hea}: format {f[1]}"
        g = f[2].split("/")[0]
        gain, base = (g.split("(")[0], g.split("(")[1].rstrip(")")) if "(" in g else (g, "0")
        gains.append(float(gain)); bases.append(float(base)); leads.append(f[-1])
    raw = np.fromfile(os.path.join(os.path.dirname(hea), lines[1].split()[0]), dtype="<i2").reshape(-1, int(nsig))
    return (raw - np.array(bases)) / np.array(gains), float(fs), leads


def write(path, x, fs, leads, units):
    gain = 1000.0 if units == "z" else 200.0
    q = np.clip(np.round(x * gain), -32768, 32767).astype("<i2")
    q.tofile(path + ".dat")
    name = os.path.basename(path)
    with open(path + ".hea", "w") as h:
        h.write(f"{name} {len(leads)} {fs:g} {x.shape[0]}\n")
        for k, lead in enumerate(leads):
            h.write(f"{name}.dat 16 {gain:g}(0)/{units} 16 0 {int(q[0, k])} 0 0 {lead}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src"); ap.add_argument("out")
    ap.add_argument("--bandpass", action="store_true"); ap.add_argument("--zscore", action="store_true")
    ap.add_argument("--rate", type=int, default=500)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=False)
    rows = list(csv.DictReader(open(os.path.join(a.src, "ptbxl_database.csv"), newline="")))
    for r in rows:
        x, fs, leads = read(os.path.join(a.src, r["filename_hr"] + ".hea"))
        if a.bandpass:
            x = sosfiltfilt(butter(4, [0.5, 40], btype="band", fs=fs, output="sos"), x, axis=0)
        if a.zscore:
            x = (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-9)
        if a.rate != int(fs):
            x = resample_poly(x, a.rate, int(fs), axis=0)
        name = f"{int(r['ecg_id']):05d}_x"
        write(os.path.join(a.out, name), x, a.rate, leads, "z" if a.zscore else "mV")
        r["filename_lr"], r["filename_hr"] = name, ""
    with open(os.path.join(a.out, "ptbxl_database.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader(); w.writerows(rows)


if __name__ == "__main__":
    main()
