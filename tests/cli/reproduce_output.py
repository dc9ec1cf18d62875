#!/usr/bin/env python3
"""rbsm reproduce without --json: the plan (experiments in order with estimates and a total) comes first on
stderr, each experiment logs its start and end with a count [k/N], and stdout is only the summary table: one
line per key row, the experiment's name and wall time on its first line, the report's path last.

usage: reproduce_output.py RBSM OUTDIR
"""
import re, shutil, subprocess, sys

rbsm, out = sys.argv[1], sys.argv[2]
shutil.rmtree(out, ignore_errors=True)
p = subprocess.run([rbsm, "reproduce", "--only", "variance,curvature", "--out", out], capture_output=True,
                   text=True, timeout=600)
errors = []
if p.returncode != 0:
    sys.exit(f"rc={p.returncode}\nstderr={p.stderr}")
err = [l for l in p.stderr.splitlines() if l.startswith(("reproduce", "  "))]
# The plan: registration order (curvature 10 before variance 20), not the order of --only.
if not re.match(r"reproduce --profile quick: 2 experiments, about \S+ (s|min) on 2 cores", err[0]):
    errors.append(f"plan header: {err[0]!r}")
if not (re.match(r"  1\. curvature +about ", err[1]) and re.match(r"  2\. variance +about ", err[2])):
    errors.append(f"plan lines: {err[1:3]!r}")
starts = [l for l in err if re.match(r"reproduce \[\d/2\] \S+ \(quick\): about .* left in all", l)]
ends = [l for l in err if re.match(r"reproduce \[\d/2\] \S+ done in ", l)]
if [s.split()[2] for s in starts] != ["curvature", "variance"] or len(ends) != 2:
    errors.append(f"progress lines: {starts!r} {ends!r}")
lines = p.stdout.splitlines()
if not re.match(r"rbsm reproduce --profile quick: 2 experiments in ", lines[0]):
    errors.append(f"table title: {lines[0]!r}")
if not (lines[1].startswith("experiment") and "source" in lines[1]):
    errors.append(f"table header: {lines[1]!r}")
curv = [l for l in lines if l.startswith("curvature ")]
var = [l for l in lines if l.startswith("variance ")]
# curvature's key rows: S^10 (K = alpha_10 Id = -4 Id), the Clifford torus, the torus of revolution
if len(curv) != 1 or "sphere:10" not in curv[0] or "-4" not in curv[0]:
    errors.append(f"curvature row: {curv!r}")
if len(var) != 1 or "sphere:10" not in var[0]:
    errors.append(f"variance row: {var!r}")
if not lines[-1].endswith("report.html") or any(l.startswith(("experiments:", "report:")) for l in lines):
    errors.append(f"table end / generic listing: {lines[-3:]!r}")
if max(len(l) for l in lines[1:-1]) > 180:
    errors.append("a table line is longer than 180 characters")
if errors:
    print("\n".join(errors) + "\n--- stdout\n" + p.stdout + "--- stderr\n" + p.stderr)
    sys.exit(1)
