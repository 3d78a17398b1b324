"""Runs the shared PyTorch reference (bench/deri_reference.py) with its clock replaced by process CPU
time, so that its "samples_per_s" becomes samples per CPU-second: comparable with
`deri bench train`'s cpu_ms_per_step (batch * 1000 / cpu_ms_per_step) on a machine shared with other
work, where wall-clock throughput depends on the load.
Usage: /usr/bin/python3 tools/parity/reference_cpu_time.py [path/to/deri_reference.py] --batch 32 --steps 5 --threads 2
"""
import os
import sys
import time

args = sys.argv[1:]
path = args.pop(0) if args and args[0].endswith(".py") else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench", "deri_reference.py")
if not os.path.exists(path):
    sys.exit(f"reference not found: {path} (pass its path as the first argument)")
time.perf_counter = time.process_time
sys.argv = [path] + args
with open(path) as f:
    code = compile(f.read(), path, "exec")
exec(code, {"__name__": "__main__"})
