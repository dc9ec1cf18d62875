#!/usr/bin/env python3
"""Run the rbsm binary and check its contract.

usage: expect.py error SUBSTRING -- rbsm ARGS...   non-zero exit, one-line stderr containing SUBSTRING,
                                                    nothing on stdout
       expect.py json PYEXPR -- rbsm ARGS...       exit 0, stdout is exactly one JSON object `j`
                                                    for which PYEXPR is true
"""
import json, math, subprocess, sys

mode, arg = sys.argv[1], sys.argv[2]
cmd = sys.argv[sys.argv.index("--") + 1:]
p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
if mode == "error":
    lines = [l for l in p.stderr.strip().splitlines() if l.strip()]
    ok = p.returncode != 0 and len(lines) == 1 and arg.lower() in lines[0].lower() \
        and "Traceback" not in p.stderr and p.stdout.strip() == ""
    if not ok:
        print(f"rc={p.returncode}\nstdout={p.stdout!r}\nstderr={p.stderr!r}")
        sys.exit(1)
elif mode == "json":
    if p.returncode != 0:
        print(f"rc={p.returncode}\nstderr={p.stderr}")
        sys.exit(1)
    j = json.loads(p.stdout)  # must be exactly one JSON document
    if not isinstance(j, dict) or not eval(arg, {"math": math, "j": j}):
        print(f"check failed: {arg}\nstdout={p.stdout}")
        sys.exit(1)
else:
    sys.exit(f"unknown mode {mode}")
